"""SPF evaluation exactly as RFC 7208 describes check_host(), with a trace.

Why our own: pyspf queries DNS through dnspython's module-level resolver (so it cannot
share the one injected resolver without patching its module, and it uses the deprecated
``dns.resolver.query``) and gives no per-term trace, which is what an admin needs when a
relay fails SPF. The OpenSPF RFC 7208 suite (tests/test_spf_suite.py, bench/spf_suite.py)
measures this against pyspf, asked through the same resolver and DNS server.

Syntax (§4.6, §7.1, §12) is checked for the whole record before any term is evaluated, so a
malformed term anywhere is a permerror even when an earlier term would match. A domain-spec
must end in a macro or in "." and a top-level label of letters and digits; names produced by
macro expansion are not held to that (the HELO may be anything) — one that cannot be a DNS
name simply matches nothing.

Limits (§4.6.4): at most 10 DNS-querying terms (include, a, mx, ptr, exists, redirect),
at most 2 void lookups, at most 10 MX names per mx and 10 PTR names per ptr.
"""

from __future__ import annotations

import ipaddress
import re
import time
import urllib.parse
from dataclasses import dataclass, field

from notifier.checks.dns.lookup import Answer, DnsUnavailable, Lookup

__all__ = [
    "CAUSES",
    "PermError",
    "SpfResult",
    "TempError",
    "Term",
    "evaluate",
    "is_spf_record",
    "parse_record",
]

MAX_LOOKUPS = 10
MAX_VOIDS = 2
MAX_NAMES = 10
_MECHANISMS = {"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"}
_DNS_TERMS = {"include", "a", "mx", "ptr", "exists"}
_QUALIFIERS = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}
_MACRO = re.compile(r"%(?:\{([slodiphcrtvSLODIPHCRTV])(\d*)([rR]?)([.\-+,/_=]*)\}|(.))")
# §7.1 ABNF. c, r and t are letters of the explanation text only (§7.2).
_EXPAND = r"%\{[slodiphvSLODIPHV][0-9]*[rR]?[.\-+,/_=]*\}|%%|%_|%-"
_ANY_EXPAND = r"%\{[a-zA-Z][0-9]*[rR]?[.\-+,/_=]*\}|%%|%_|%-"
_DOMAIN_SPEC = re.compile(rf"(?:{_EXPAND}|[\x21-\x24\x26-\x7e])+")
_MACRO_STRING = re.compile(rf"(?:{_ANY_EXPAND}|[\x21-\x24\x26-\x7e])*")
_ENDS_IN_MACRO = re.compile(rf"(?:{_EXPAND})$")
_TOPLABEL = re.compile(r"[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*|[A-Za-z0-9]+-[A-Za-z0-9\-]*[A-Za-z0-9]")
_MODIFIER = re.compile(r"([A-Za-z][A-Za-z0-9\-_.]*)=(.*)", re.DOTALL)
_MECHANISM = re.compile(r"([A-Za-z0-9\-_.]+)([:/].*)?", re.DOTALL)
_CIDR = re.compile(r"(.*?)(?:/([0-9]+))?(?://([0-9]+))?", re.DOTALL)
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"  # §4.6.1 ip4-network: no leading zero
_IP4 = re.compile(rf"(?:{_OCTET}\.){{3}}{_OCTET}")
_IP6_CHARS = re.compile(r"[0-9A-Fa-f:.]+")


# Why a result is not "pass", for the fix a finding gives (spfcheck.py names it, SPF-11).
CAUSES = (
    "syntax",  # a malformed term, modifier or macro somewhere in the tree
    "lookups",  # more than 10 DNS-querying terms
    "voids",  # more than 2 lookups that found nothing
    "mx-names",  # an mx with more than 10 names
    "records",  # more than one SPF record at a domain of the tree
    "no-record",  # include:/redirect= to a domain with no SPF record
    "not-listed",  # no term authorises the IP: the default or 'all' decided
    "rejected",  # a term other than 'all' matched with a non-pass qualifier
    "none",  # the domain publishes no SPF record
    "dns",  # the DNS did not answer
)


class PermError(Exception):
    def __init__(self, message: str, cause: str = "syntax") -> None:
        super().__init__(message)
        self.cause = cause


class TempError(Exception):
    pass


@dataclass(frozen=True)
class Term:
    """One mechanism: ``domain`` is its domain-spec as written (macros unexpanded; None means
    the current domain), ``v4``/``v6`` the CIDR lengths, ``network`` the ip4/ip6 range."""

    qualifier: str
    name: str
    text: str
    domain: str | None = None
    v4: int | None = None
    v6: int | None = None
    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None


@dataclass
class SpfResult:
    result: str  # pass fail softfail neutral none permerror temperror
    reason: str
    trace: list[str] = field(default_factory=list)
    lookups: int = 0
    voids: int = 0
    explanation: str = ""
    record: str = ""
    cause: str = ""  # one of CAUSES, "" for pass

    def as_dict(self) -> dict[str, object]:
        return {
            "result": self.result,
            "reason": self.reason,
            "cause": self.cause,
            "lookups": self.lookups,
            "voids": self.voids,
            "explanation": self.explanation,
            "record": self.record,
            "trace": self.trace,
        }


def is_spf_record(text: str) -> bool:
    """RFC 7208 §4.5: exactly "v=spf1" followed by a space or the end, case-insensitive."""
    return text[:6].lower() == "v=spf1" and (len(text) == 6 or text[6] == " ")


@dataclass
class _State:
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address
    sender: str
    helo: str
    lookup: Lookup
    trace: list[str]
    lookups: int = 0
    voids: int = 0
    depth: int = 0
    top_record: str = ""

    def log(self, text: str) -> None:
        self.trace.append("  " * self.depth + text)

    def count(self, term: str) -> None:
        self.lookups += 1
        if self.lookups > MAX_LOOKUPS:
            raise PermError(f"more than {MAX_LOOKUPS} DNS lookups (at {term}); RFC 7208 §4.6.4", "lookups")

    def dns(self, name: str, rdtype: str, *, counts_void: bool = True) -> Answer:
        try:
            answer = self.lookup.query(name, rdtype)
        except DnsUnavailable as exc:
            self.log(f"DNS {rdtype} {name}: {exc.reason}")
            raise TempError(str(exc)) from None
        shown = (
            ", ".join(answer.records) if answer.records else ("NXDOMAIN" if answer.nxdomain else "no records")
        )
        self.log(f"DNS {rdtype} {name} -> {shown}")
        if answer.void and counts_void:
            self.voids += 1
            if self.voids > MAX_VOIDS:
                raise PermError(f"more than {MAX_VOIDS} void DNS lookups; RFC 7208 §4.6.4", "voids")
        return answer


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    ip = ipaddress.ip_address(text)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        return ip.ipv4_mapped
    return ip


def _expand(spec: str, st: _State, domain: str, *, exp: bool = False) -> str:
    """Macro expansion (RFC 7208 §7)."""
    local, _, sender_domain = st.sender.rpartition("@")
    local = local or "postmaster"

    def value(letter: str) -> str:
        low = letter.lower()
        if low == "s":
            return f"{local}@{sender_domain}"
        if low == "l":
            return local
        if low == "o":
            return sender_domain
        if low == "d":
            return domain
        if low in ("i", "c"):
            if isinstance(st.ip, ipaddress.IPv6Address) and low == "i":
                return ".".join(st.ip.exploded.replace(":", ""))
            return str(st.ip)
        if low == "p":
            return _validated_name(st, domain) or "unknown"
        if low == "v":
            return "in-addr" if isinstance(st.ip, ipaddress.IPv4Address) else "ip6"
        if low == "h":
            return st.helo
        if low in ("r", "t", "c"):
            if not exp:
                raise PermError(f"macro %{{{letter}}} is only allowed in the explanation text")
            return "unknown" if low == "r" else str(int(time.time()))
        raise PermError(f"unknown macro letter {letter!r}")

    def sub(m: re.Match[str]) -> str:
        if m.group(5) is not None:
            ch = m.group(5)
            if ch == "%":
                return "%"
            if ch == "_":
                return " "
            if ch == "-":
                return "%20"
            raise PermError(f"bad macro '%{ch}' in {spec!r}")
        letter, digits, reverse, delims = m.group(1), m.group(2), m.group(3), m.group(4) or "."
        parts = re.split("[" + re.escape(delims) + "]", value(letter))
        if reverse:
            parts.reverse()
        if digits:
            n = int(digits)
            if n == 0:
                raise PermError("macro digit transformer 0")
            parts = parts[-n:]
        out = ".".join(parts)
        if letter.isupper():
            out = urllib.parse.quote(out, safe="")
        return out

    if "%" in spec and _MACRO.sub("", spec).count("%"):
        raise PermError(f"bad macro in {spec!r}")
    return _MACRO.sub(sub, spec)


def _dns_name(name: str) -> bool:
    """§4.3: a name DNS can hold and a multi-label one (no empty label, none over 63)."""
    labels = name.rstrip(".").split(".")
    return len(name) <= 253 and len(labels) >= 2 and all(0 < len(label) <= 63 for label in labels)


def _target(spec: str, st: _State, domain: str) -> str | None:
    """The expanded domain-spec, shortened as §7.3 says; None when it cannot be a DNS name
    (possible only through a macro: literal specs were checked when the record was parsed)."""
    target = _expand(spec, st, domain).rstrip(".")
    while len(target) > 253 and "." in target:  # §7.3: drop labels from the left
        target = target.split(".", 1)[1]
    if not _dns_name(target):
        st.log(f"{spec} expands to {target!r}, which is not a domain name: no match")
        return None
    return target


def _validated_name(st: _State, domain: str) -> str | None:
    """§5.5: the PTR names of the IP that forward-confirm, preferring ``domain``."""
    domain = domain.lower()
    names = st.dns(_reverse_name(st.ip), "PTR", counts_void=False).records[:MAX_NAMES]
    rdtype = "A" if isinstance(st.ip, ipaddress.IPv4Address) else "AAAA"
    confirmed = []
    for name in names:
        try:
            addresses = st.dns(name, rdtype, counts_void=False).records
        except TempError:
            continue  # §5.5: a DNS error on one name skips that name
        if any(_ip(a) == st.ip for a in addresses):
            confirmed.append(name.lower().rstrip("."))
    for name in confirmed:
        if name == domain or name.endswith("." + domain):
            return name
    return confirmed[0] if confirmed else None


def _reverse_name(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    return ip.reverse_pointer


def _check_domain_spec(spec: str, term: str) -> None:
    """§7.1: macro-literals and macros only, ending in a macro or in "." toplabel ["."]."""
    if not spec:
        raise PermError(f"{term!r}: the domain is empty")
    if not _DOMAIN_SPEC.fullmatch(spec):
        bad = [c for c in spec if not 0x21 <= ord(c) <= 0x7E]
        what = f"the character {bad[0]!r}" if bad else "a malformed macro"
        raise PermError(f"{term!r}: the domain holds {what} (RFC 7208 §7.1)")
    if _ENDS_IN_MACRO.search(spec):
        return
    body = spec[:-1] if spec.endswith(".") else spec
    _, dot, top = body.rpartition(".")
    if not dot or not _TOPLABEL.fullmatch(top):
        raise PermError(
            f"{term!r}: {spec!r} does not end in a top-level domain of letters and digits (RFC 7208 §7.1)"
        )


def _cidr_length(text: str | None, most: int, term: str, family: str) -> int | None:
    if text is None:
        return None
    if (len(text) > 1 and text[0] == "0") or int(text) > most:
        raise PermError(f"{term!r}: bad {family}-cidr-length /{text} (0 to {most}, no leading zero)")
    return int(text)


def _parse_mechanism(term: str) -> Term:
    qualifier, body = ("+", term)
    if term[0] in _QUALIFIERS:
        qualifier, body = term[0], term[1:]
    m = _MECHANISM.fullmatch(body)
    if not m or m.group(1).lower() not in _MECHANISMS:
        raise PermError(f"unknown mechanism {term!r}")
    name, rest = m.group(1).lower(), m.group(2) or ""
    if name == "all":
        if rest:
            raise PermError(f"'all' takes no argument: {term!r}")
        return Term(qualifier, name, term)
    if name in ("ip4", "ip6"):
        if not rest.startswith(":"):
            raise PermError(f"{name} needs ':' and an address: {term!r}")
        address, slash, length = rest[1:].partition("/")
        most = 32 if name == "ip4" else 128
        if slash and not (length.isascii() and length.isdigit()):
            raise PermError(f"{term!r}: bad {name}-cidr-length /{length} (RFC 7208 §5.6)")
        prefix = _cidr_length(length, most, term, name) if slash else most
        if name == "ip4" and not _IP4.fullmatch(address):
            raise PermError(f"{term!r}: {address!r} is not an IPv4 address")
        if name == "ip6":
            try:
                ipaddress.IPv6Address(address)
            except ValueError:
                raise PermError(f"{term!r}: {address!r} is not an IPv6 address") from None
            if not _IP6_CHARS.fullmatch(address):  # no %scope, no spaces
                raise PermError(f"{term!r}: {address!r} is not an IPv6 address")
        network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
        return Term(qualifier, name, term, network=network)
    if name in ("include", "exists"):
        if not rest.startswith(":"):
            raise PermError(f"{name} needs ':' and a domain: {term!r}")
        _check_domain_spec(rest[1:], term)
        return Term(qualifier, name, term, domain=rest[1:])
    # a, mx, ptr: [":" domain-spec] and, for a and mx, [dual-cidr-length]
    spec_and_cidr = rest[1:] if rest.startswith(":") else rest
    cidr = _CIDR.fullmatch(spec_and_cidr)
    assert cidr is not None  # the pattern matches every string
    spec, four, six = cidr.groups()
    if name == "ptr" and (four is not None or six is not None):
        raise PermError(f"'ptr' takes no CIDR length: {term!r}")
    v4 = _cidr_length(four, 32, term, "ip4")
    v6 = _cidr_length(six, 128, term, "ip6")
    if rest.startswith(":"):
        _check_domain_spec(spec, term)
        return Term(qualifier, name, term, domain=spec, v4=v4, v6=v6)
    if spec:
        raise PermError(f"{term!r}: bad CIDR length (RFC 7208 §5.6)")
    return Term(qualifier, name, term, v4=v4, v6=v6)


def parse_record(record: str) -> tuple[list[Term], dict[str, str]]:
    """The mechanisms in order and the modifiers, every term checked against RFC 7208's syntax.
    Raises PermError naming the term and what is wrong with it."""
    if not record.isascii():
        raise PermError("the record holds non-ASCII characters (RFC 7208 §3.1: ASCII only)")
    mechanisms: list[Term] = []
    modifiers: dict[str, str] = {}
    for term in record.split(" ")[1:]:
        if not term:
            continue
        m = _MODIFIER.fullmatch(term)
        if m and m.group(1).lower() not in _MECHANISMS:
            name, value = m.group(1).lower(), m.group(2)
            if name in ("redirect", "exp"):
                if name in modifiers:
                    raise PermError(f"{name}= appears twice (RFC 7208 §6)")
                _check_domain_spec(value, term)
            elif not _MACRO_STRING.fullmatch(value):
                raise PermError(f"{term!r}: the value of a modifier must be a valid macro-string (§12)")
            modifiers[name] = value
            continue
        mechanisms.append(_parse_mechanism(term))
    return mechanisms, modifiers


@dataclass
class _Outcome:
    result: str
    reason: str
    record: str = ""  # the record that decided (after any redirect): its exp= applies
    domain: str = ""
    cause: str = ""


def _check_host(st: _State, domain: str) -> _Outcome:
    """check_host() for ``domain``; raises nothing."""
    st.log(f"check_host({st.ip}, {domain})")
    if not _dns_name(domain):
        return _Outcome("none", f"{domain!r} is not a domain name (RFC 7208 §4.3)", cause="none")
    try:
        records = [t for t in st.dns(domain, "TXT", counts_void=False).records if is_spf_record(t)]
    except TempError as exc:
        return _Outcome("temperror", str(exc), cause="dns")
    if not records:
        return _Outcome("none", f"no SPF record at {domain}", cause="none")
    if len(records) > 1:
        reason = f"{len(records)} SPF records at {domain} (RFC 7208 §4.5 allows one)"
        return _Outcome("permerror", reason, cause="records")
    record = records[0]
    st.log(f"record: {record}")
    if not st.depth:
        st.top_record = record
    try:
        mechanisms, modifiers = parse_record(record)
        for term in mechanisms:
            if term.name in _DNS_TERMS:
                st.count(term.text)
            matched = _mechanism(st, domain, term)
            st.log(f"{term.text}: {'match' if matched else 'no match'}")
            if matched:
                result = _QUALIFIERS[term.qualifier]
                cause = "" if result == "pass" else ("not-listed" if term.name == "all" else "rejected")
                return _Outcome(result, f"{term.text} matched in {domain}", record, domain, cause)
        if "redirect" in modifiers:
            st.count("redirect=" + modifiers["redirect"])
            target = _target(modifiers["redirect"], st, domain)
            if target is None:
                reason = f"redirect={modifiers['redirect']} names no domain"
                return _Outcome("permerror", reason, record, domain, "no-record")
            st.log(f"redirect={target}")
            st.depth += 1
            outcome = _check_host(st, target)
            st.depth -= 1
            if outcome.result == "none":
                reason = f"redirect to {target}, which has no SPF record"
                return _Outcome("permerror", reason, record, domain, "no-record")
            return outcome
        reason = f"no mechanism matched in {domain} and there is no 'all' (default neutral)"
        return _Outcome("neutral", reason, record, domain, "not-listed")
    except PermError as exc:
        return _Outcome("permerror", str(exc), record, domain, exc.cause)
    except TempError as exc:
        return _Outcome("temperror", str(exc), record, domain, "dns")


def _mechanism(st: _State, domain: str, term: Term) -> bool:
    name = term.name
    if name == "all":
        return True
    if term.network is not None:
        return st.ip.version == term.network.version and st.ip in term.network
    target = _target(term.domain, st, domain) if term.domain is not None else domain
    if target is None:
        if name == "include":  # check_host() on a malformed name is "none" (§4.3, §5.2)
            raise PermError(f"{term.text} names no domain (include of 'none')", "no-record")
        return False
    if name == "include":
        st.depth += 1
        outcome = _check_host(st, target)
        st.depth -= 1
        if outcome.result == "pass":
            return True
        if outcome.result in ("fail", "softfail", "neutral"):
            return False
        if outcome.result == "temperror":
            raise TempError(outcome.reason)
        cause = "no-record" if outcome.result == "none" else outcome.cause
        raise PermError(f"include:{target} gave {outcome.result}: {outcome.reason}", cause)
    if name == "exists":
        return bool(st.dns(target, "A").records)
    rdtype = "A" if st.ip.version == 4 else "AAAA"
    if name == "a":
        return any(_in_net(st.ip, a, term.v4, term.v6) for a in st.dns(target, rdtype).records)
    if name == "mx":
        hosts = [r.split(" ", 1)[1] for r in st.dns(target, "MX").records]
        if len(hosts) > MAX_NAMES:
            limit = f"RFC 7208 §4.6.4 allows {MAX_NAMES}"
            raise PermError(f"{target} has {len(hosts)} MX names; {limit}", "mx-names")
        for host in hosts:
            if host in ("", "."):  # RFC 7505 null MX: no mail host
                continue
            if any(_in_net(st.ip, a, term.v4, term.v6) for a in st.dns(host, rdtype).records):
                return True
        return False
    # ptr
    target = target.lower().rstrip(".")
    validated = _validated_name(st, target)
    return validated is not None and (validated == target or validated.endswith("." + target))


def _in_net(
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address, address: str, v4: int | None, v6: int | None
) -> bool:
    other = _ip(address)
    if other.version != ip.version:
        return False
    prefix = (v4 if v4 is not None else 32) if ip.version == 4 else (v6 if v6 is not None else 128)
    return ip in ipaddress.ip_network(f"{other}/{prefix}", strict=False)


def _explanation(st: _State, outcome: _Outcome) -> str:
    """§6.2: the exp= text of the record that failed; any problem with it leaves none."""
    try:
        _, modifiers = parse_record(outcome.record)
        if "exp" not in modifiers:
            return ""
        target = _target(modifiers["exp"], st, outcome.domain)
        if target is None:
            return ""
        texts = st.dns(target, "TXT", counts_void=False).records
        if len(texts) != 1 or not texts[0].isascii():
            st.log(f"exp={target}: ignored ({len(texts)} TXT records or not ASCII)")
            return ""
        return _expand(texts[0], st, outcome.domain, exp=True)
    except (PermError, TempError) as exc:
        st.log(f"exp ignored: {exc}")
        return ""


def evaluate(lookup: Lookup, ip: str, mail_from: str, *, helo: str = "") -> SpfResult:
    """check_host(ip, domain of mail_from, mail_from) with the trace of every term and lookup.
    An empty MAIL FROM (a bounce) is checked as postmaster@HELO (§2.4)."""
    try:
        address = _ip(ip)
    except ValueError:
        return SpfResult("permerror", f"{ip!r} is not an IP address", cause="syntax")
    if not mail_from:
        mail_from = helo
    sender = mail_from if "@" in mail_from else f"postmaster@{mail_from}"
    if sender.startswith("@"):
        sender = "postmaster" + sender  # §4.3: no local-part means "postmaster"
    domain = sender.rpartition("@")[2].lower().rstrip(".")
    st = _State(address, sender, helo or domain, lookup, [])
    outcome = _check_host(st, domain)
    out = SpfResult(outcome.result, outcome.reason, st.trace, st.lookups, st.voids, record=st.top_record)
    out.cause = outcome.cause
    if outcome.result == "fail" and outcome.record:
        out.explanation = _explanation(st, outcome)
    return out
