"""A real DNS server on 127.0.0.1 (dnslib) serving zone text, for tests of every lookup
notifier makes. Names under ``timeout.`` never get an answer; under ``servfail.`` they
get SERVFAIL."""

from __future__ import annotations

import time
from typing import Any

from dnslib import QTYPE, RCODE, DNSRecord
from dnslib.server import DNSLogger, DNSServer
from dnslib.zoneresolver import ZoneResolver

from .smtpsink import free_port

TIMEOUT_DELAY = 1.5


class _Resolver(ZoneResolver):  # type: ignore[misc]
    sleeping = 0

    def resolve(self, request: DNSRecord, handler: Any) -> DNSRecord:
        qname = str(request.q.qname).lower()
        if qname.endswith("timeout.") or ".timeout." in qname:
            self.sleeping += 1
            time.sleep(TIMEOUT_DELAY)  # longer than the tests' resolver timeout (1 s)
            self.sleeping -= 1
        if qname.endswith("servfail.") or ".servfail." in qname:
            failed: DNSRecord = request.reply()
            failed.header.rcode = RCODE.SERVFAIL
            return failed
        reply: DNSRecord = super().resolve(request, handler)
        # ZoneResolver answers NXDOMAIN for names that exist with other types: make it NODATA.
        if (
            not reply.rr
            and reply.header.rcode == RCODE.NXDOMAIN
            and any(str(name).lower() == qname for name, _, _ in self.zone)
        ):
            reply.header.rcode = RCODE.NOERROR
        return reply


class DnsServer:
    def __init__(self, zone: str, *, port: int | None = None) -> None:
        self.port = port or free_port()
        self.resolver = resolver = _Resolver(zone, glob=False)
        logger = DNSLogger(log="-request,-reply,-truncated,-error,-recv,-send,-data", prefix=False)
        self.udp = DNSServer(resolver, port=self.port, address="127.0.0.1", logger=logger)
        self.tcp = DNSServer(resolver, port=self.port, address="127.0.0.1", tcp=True, logger=logger)

    @property
    def nameserver(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> DnsServer:
        self.udp.start_thread()
        self.tcp.start_thread()
        return self

    def stop(self) -> None:
        deadline = time.monotonic() + TIMEOUT_DELAY + 1
        while self.resolver.sleeping and time.monotonic() < deadline:
            time.sleep(0.05)
        for server in (self.udp, self.tcp):
            server.stop()
            server.server.server_close()  # dnslib's stop() leaves the socket open


__all__ = ["QTYPE", "DnsServer"]
