"""The OpenSPF RFC 7208 test suite (tests/data/rfc7208-tests.yml) served by a real DNS server on
127.0.0.1, and two ways to answer each case: `notify check spf ... --json` (our command, our
resolver path) and pyspf asked through the same resolver. Shared by tests/test_spf_suite.py and
bench/spf_suite.py, so the test and the benchmark score the same harness.

The zone data is read the way pyspf's own driver (test/testspf.py) reads it: a name's SPF
(type 99) records are also published as TXT unless the name lists TXT records of its own, and
``NONE`` means "no record". A ``TIMEOUT`` entry makes every query type not listed before it
fail; the server answers those with SERVFAIL rather than silence, which is the same "DNS did
not answer" to both implementations (temperror) without a real 5-second wait per case.
"""

from __future__ import annotations

import io
import ipaddress
import json
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dns.exception
import dns.name
import dns.resolver
import yaml
from dnslib import AAAA, CNAME, MX, PTR, QTYPE, RCODE, RR, TXT, A, DNSLabel, DNSRecord
from dnslib.server import BaseResolver, DNSLogger, DNSServer

from notifier.checks.dns.resolver import make_resolver

from .smtpsink import free_port

SUITE = Path(__file__).resolve().parent / "data" / "rfc7208-tests.yml"
_TYPES = {"A": QTYPE.A, "AAAA": QTYPE.AAAA, "MX": QTYPE.MX, "PTR": QTYPE.PTR, "TXT": QTYPE.TXT}
_TYPES |= {"CNAME": QTYPE.CNAME, "SPF": 99}


@dataclass
class Name:
    records: list[tuple[str, Any]] = field(default_factory=list)
    # Query types that time out: None when the name has no TIMEOUT entry, else every type
    # except those listed before the TIMEOUT.
    answered_before_timeout: set[str] | None = None


Zone = dict[str, Name]


@dataclass(frozen=True)
class Case:
    scenario: str
    name: str
    spec: str
    host: str
    mailfrom: str
    helo: str
    results: tuple[str, ...]  # the first is preferred; any is correct
    explanation: str | None  # "DEFAULT": the implementation's own default (we give none)
    zone: Zone = field(compare=False, repr=False)

    @property
    def id(self) -> str:
        return self.name


def _zone(data: dict[str, list[Any]]) -> Zone:
    zone: Zone = {}
    for raw_name, entries in data.items():
        entry = zone.setdefault(raw_name.lower().rstrip("."), Name())
        own_txt = any(isinstance(e, dict) and "TXT" in e for e in entries)
        generated: list[tuple[str, Any]] = []
        for item in entries:
            if item == "TIMEOUT":
                entry.answered_before_timeout = {t for t, _ in entry.records}
                continue
            for rtype, value in item.items():
                if rtype in ("TXT", "SPF") and isinstance(value, str):
                    value = [value]
                if value == ["NONE"]:
                    continue
                entry.records.append((rtype, value))
                if rtype == "SPF" and not own_txt:
                    generated.append(("TXT", value))
        entry.records.extend(generated)
    return zone


def load_suite(path: Path = SUITE) -> list[Case]:
    cases: list[Case] = []
    with path.open("rb") as fh:
        for scenario in yaml.safe_load_all(fh):
            zone = _zone(scenario["zonedata"])
            for name, test in scenario["tests"].items():
                result = test["result"]
                cases.append(
                    Case(
                        scenario=scenario["description"],
                        name=name,
                        spec=str(test.get("spec", "")),
                        host=test["host"],
                        mailfrom=test["mailfrom"],
                        helo=test["helo"],
                        results=tuple(result) if isinstance(result, list) else (result,),
                        explanation=test.get("explanation"),
                        zone=zone,
                    )
                )
    return cases


def _rdata(rtype: str, value: Any) -> Any:
    if rtype in ("TXT", "SPF"):
        # A TXT record of no strings cannot go on the wire (dnspython rejects the reply);
        # one empty string is the nearest a real server can send (case null-text).
        return TXT([s.encode("utf-8") for s in value] or [b""])
    if rtype == "A":
        return A(value)
    if rtype == "AAAA":
        return AAAA(str(ipaddress.IPv6Address(value)))
    if rtype == "MX":
        return MX(value[1], value[0])
    if rtype == "PTR":
        return PTR(value)
    return CNAME(value)


class SuiteResolver(BaseResolver):  # type: ignore[misc]
    """Answers from the zone of the scenario under test (``zone`` is swapped between cases)."""

    sleeping = 0  # DnsServer.stop() waits for sleeping answers; this one never sleeps

    def __init__(self) -> None:
        self.zone: Zone = {}

    def resolve(self, request: DNSRecord, handler: Any) -> DNSRecord:
        reply: DNSRecord = request.reply()
        qtype = QTYPE[request.q.qtype]
        qname: DNSLabel = request.q.qname
        name = b".".join(qname.label).decode("utf-8", "replace").lower()
        for _ in range(8):  # follow CNAMEs as a recursive server would, loops included
            entry = self.zone.get(name)
            if entry is None:
                if name.startswith("error."):  # testspf.py: "error." names time out
                    reply.header.rcode = RCODE.SERVFAIL
                elif not reply.rr:
                    reply.header.rcode = RCODE.NXDOMAIN
                return reply
            if entry.answered_before_timeout is not None and qtype not in entry.answered_before_timeout:
                reply.header.rcode = RCODE.SERVFAIL
                return reply
            matching = [(t, v) for t, v in entry.records if t == qtype]
            cname = [v for t, v in entry.records if t == "CNAME"]
            if matching or not cname or qtype == "CNAME":
                for rtype, value in matching:
                    reply.add_answer(RR(qname, _TYPES[rtype], rdata=_rdata(rtype, value), ttl=300))
                return reply
            reply.add_answer(RR(qname, QTYPE.CNAME, rdata=CNAME(cname[0]), ttl=300))
            qname = DNSLabel(cname[0])
            name = cname[0].lower().rstrip(".")
        return reply


class SuiteDnsServer:
    """A real DNS server (UDP and TCP, dnslib) on 127.0.0.1 serving one scenario at a time."""

    def __init__(self) -> None:
        self.port = free_port()
        self.resolver = SuiteResolver()
        logger = DNSLogger(log="-request,-reply,-truncated,-error,-recv,-send,-data", prefix=False)
        self.udp = DNSServer(self.resolver, port=self.port, address="127.0.0.1", logger=logger)
        self.tcp = DNSServer(self.resolver, port=self.port, address="127.0.0.1", tcp=True, logger=logger)

    @property
    def nameserver(self) -> str:
        return f"127.0.0.1:{self.port}"

    def serve(self, case: Case) -> None:
        self.resolver.zone = case.zone

    def start(self) -> SuiteDnsServer:
        self.udp.start_thread()
        self.tcp.start_thread()
        return self

    def stop(self) -> None:
        for server in (self.udp, self.tcp):
            server.stop()
            server.server.server_close()


@contextmanager
def suite_dns() -> Iterator[SuiteDnsServer]:
    server = SuiteDnsServer().start()
    try:
        yield server
    finally:
        server.stop()


@dataclass(frozen=True)
class Outcome:
    result: str
    explanation: str
    detail: dict[str, Any]

    def correct(self, case: Case) -> bool:
        if self.result not in case.results:
            return False
        if case.explanation is None:
            return True
        wanted = "" if case.explanation == "DEFAULT" else case.explanation
        return self.explanation == wanted


def run_ours(case: Case, server: SuiteDnsServer, missing_config: Path) -> Outcome:
    """`notify --config MISSING check spf HOST MAILFROM --helo HELO --json`, in process, with
    NOTIFY_NAMESERVERS pointing at the suite's server (the command's own resolver path)."""
    from notifier.cli import app

    server.serve(case)
    out = io.StringIO()
    argv = ["--config", str(missing_config), "check", "spf", case.host, case.mailfrom]
    argv += ["--helo", case.helo, "--json"]
    saved = os.environ.get("NOTIFY_NAMESERVERS")
    os.environ["NOTIFY_NAMESERVERS"] = server.nameserver
    try:
        app.run(argv, stdin=io.StringIO(), out=out)
    finally:
        if saved is None:
            del os.environ["NOTIFY_NAMESERVERS"]
        else:
            os.environ["NOTIFY_NAMESERVERS"] = saved
    detail: dict[str, Any] = json.loads(out.getvalue())
    return Outcome(detail["result"], detail["explanation"], detail)


@contextmanager
def pyspf_through(resolver: dns.resolver.Resolver) -> Iterator[Any]:
    """pyspf (the module) with its DNS lookups sent through ``resolver``: the independent
    implementation both the suite and tests/test_spf.py compare against."""
    import spf

    def lookup(name: str, qtype: str, strict: bool = True, timeout: int = 30) -> list[tuple[Any, Any]]:
        try:
            answer = resolver.resolve(name, qtype, search=False, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            return []
        except (dns.name.LabelTooLong, dns.name.EmptyLabel, dns.name.NameTooLong):
            return []  # a name that cannot be asked cannot exist
        except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
            raise spf.TempError(f"DNS {exc}") from None
        out: list[tuple[Any, Any]] = []
        for r in answer.rrset or []:
            if qtype in ("A", "AAAA"):
                out.append(((name, qtype), r.address))
            elif qtype == "MX":
                out.append(((name, qtype), (r.preference, r.exchange)))
            elif qtype == "PTR":
                out.append(((name, qtype), r.target.to_text(True)))
            else:
                out.append(((name, qtype), r.strings))
        return out

    original = spf.DNSLookup
    spf.DNSLookup = lookup
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield spf
    finally:
        spf.DNSLookup = original


def run_pyspf(case: Case, server: SuiteDnsServer) -> Outcome:
    """pyspf 2.0.14 with its DNS lookups sent through our resolver to the same server."""
    server.serve(case)
    with pyspf_through(make_resolver([server.nameserver], timeout=2.0)) as spf:
        query = spf.query(i=case.host, s=case.mailfrom, h=case.helo)
        query.set_default_explanation("DEFAULT")
        result, _code, explanation = query.check()
    result = {"unknown": "permerror", "error": "temperror"}.get(result, result)
    return Outcome(result, "" if explanation == "DEFAULT" else explanation, {})


__all__ = [
    "SUITE",
    "Case",
    "Outcome",
    "SuiteDnsServer",
    "load_suite",
    "pyspf_through",
    "run_ours",
    "run_pyspf",
    "suite_dns",
]
