"""Infrastructure checks INF-1, INF-2 (reverse DNS) and INF-5 (TLS to the relay)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Sequence

from notifier.checks.dns.lookup import DnsUnavailable, Lookup
from notifier.checks.report import Finding, Status

__all__ = ["check_ptr"]

AREA = "Infrastructure"


def check_ptr(lookup: Lookup, ips: Sequence[str], domain: str) -> Iterator[Finding]:
    """Every outbound IP has a PTR (INF-1) whose name resolves back to it (INF-2, FCrDNS)."""
    if not ips:
        yield Finding(
            "INF-1",
            AREA,
            Status.WARN,
            "no sending IP known: reverse DNS not checked",
            "set [sender] ips in notify.toml",
        )
        return
    for ip in ips:
        try:
            names = lookup.ptr(ip).records
        except DnsUnavailable as exc:
            yield Finding("INF-1", AREA, Status.WARN, f"could not verify the PTR of {ip}: {exc.reason}")
            continue
        if not names:
            yield Finding(
                "INF-1",
                AREA,
                Status.FAIL,
                f"{ip} has no PTR record (Gmail 4.7.23/5.7.25)",
                f"ask whoever owns {ip} to set its PTR to e.g. mta.{domain}, with an A record back",
            )
            continue
        yield Finding("INF-1", AREA, Status.PASS, f"{ip} -> {', '.join(names)}")
        rdtype = "A" if ipaddress.ip_address(ip).version == 4 else "AAAA"
        confirmed = []
        for name in names:
            try:
                addresses = lookup.query(name, rdtype).records
            except DnsUnavailable:
                continue
            if any(ipaddress.ip_address(a) == ipaddress.ip_address(ip) for a in addresses):
                confirmed.append(name)
        if confirmed:
            yield Finding("INF-2", AREA, Status.PASS, f"{confirmed[0]} resolves back to {ip}")
        else:
            yield Finding(
                "INF-2",
                AREA,
                Status.FAIL,
                f"{', '.join(names)} does not resolve back to {ip} (forward-confirmed reverse DNS fails)",
                f"publish {names[0]}. IN {rdtype} {ip}",
            )
