"""DNS lookups for the checks, through the one injected dnspython resolver.

Answers are cached for the run. A timeout or SERVFAIL raises :class:`DnsUnavailable`
so callers report "could not verify" (WARN), never PASS. NXDOMAIN and NODATA are
answers: an empty result flagged ``void`` (RFC 7208 §4.6.4 counts them).
"""

from __future__ import annotations

from dataclasses import dataclass

import dns.exception
import dns.name
import dns.rdatatype
import dns.resolver
import dns.reversename

__all__ = ["Answer", "DnsUnavailable", "Lookup"]


class DnsUnavailable(Exception):
    """The DNS did not answer (timeout, SERVFAIL, no nameserver reachable)."""

    def __init__(self, name: str, rdtype: str, reason: str) -> None:
        super().__init__(f"{rdtype} {name}: {reason}")
        self.name = name
        self.rdtype = rdtype
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Answer:
    records: tuple[str, ...]
    void: bool  # NXDOMAIN or NODATA
    nxdomain: bool = False


class Lookup:
    def __init__(self, resolver: dns.resolver.Resolver) -> None:
        self.resolver = resolver
        self._cache: dict[tuple[str, str], Answer | DnsUnavailable] = {}
        self.queries = 0

    def query(self, name: str, rdtype: str) -> Answer:
        """Records as text (TXT strings joined). Raises DnsUnavailable."""
        key = (name.lower().rstrip("."), rdtype)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._ask(key[0], rdtype)
            self._cache[key] = cached
        if isinstance(cached, DnsUnavailable):
            raise cached
        return cached

    def _ask(self, name: str, rdtype: str) -> Answer | DnsUnavailable:
        self.queries += 1
        try:
            answer = self.resolver.resolve(name + ".", rdtype, search=False, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            return Answer((), void=True, nxdomain=True)
        except dns.exception.Timeout:
            return DnsUnavailable(name, rdtype, "timed out")
        except dns.resolver.NoNameservers:
            return DnsUnavailable(name, rdtype, "the DNS server failed (SERVFAIL)")
        except (dns.name.LabelTooLong, dns.name.EmptyLabel, dns.name.NameTooLong):
            return Answer((), void=True, nxdomain=True)
        if answer.rrset is None:
            return Answer((), void=True)
        records: list[str] = []
        for rdata in answer.rrset:
            if rdtype in ("TXT", "SPF"):
                records.append(b"".join(rdata.strings).decode("utf-8", errors="replace"))
            elif rdtype == "MX":
                records.append(f"{rdata.preference} {rdata.exchange.to_text(omit_final_dot=True)}")
            elif rdtype in ("PTR", "CNAME"):
                records.append(rdata.target.to_text(omit_final_dot=True))
            else:
                records.append(rdata.to_text())
        return Answer(tuple(records), void=not records)

    def txt(self, name: str) -> Answer:
        return self.query(name, "TXT")

    def ptr(self, ip: str) -> Answer:
        return self.query(dns.reversename.from_address(ip).to_text(omit_final_dot=True), "PTR")
