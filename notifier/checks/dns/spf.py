"""SPF evaluation exactly as RFC 7208 describes check_host(), with a trace.

Why our own: pyspf queries DNS through dnspython's module-level resolver (so it cannot
share the one injected resolver, and it uses the deprecated ``dns.resolver.query``) and
gives no per-term trace, which is what an admin needs when a relay fails SPF. The tests
run pyspf on the same zones as an independent oracle.

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
    "PermError",
    "SpfResult",
    "TempError",
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
_MACRO = re.compile(r"%(?:\{([slodiphcrtvSLODIPHCRTV])(\d*)(r?)([.\-+,/_=]*)\}|(.))")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9\-_.]*$")


class PermError(Exception):
    pass


class TempError(Exception):
    pass


@dataclass
class SpfResult:
    result: str  # pass fail softfail neutral none permerror temperror
    reason: str
    trace: list[str] = field(default_factory=list)
    lookups: int = 0
    voids: int = 0
    explanation: str = ""
    record: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "result": self.result,
            "reason": self.reason,
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

    def log(self, text: str) -> None:
        self.trace.append("  " * self.depth + text)

    def count(self, term: str) -> None:
        self.lookups += 1
        if self.lookups > MAX_LOOKUPS:
            raise PermError(f"more than {MAX_LOOKUPS} DNS lookups (at {term}); RFC 7208 §4.6.4")

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
                raise PermError(f"more than {MAX_VOIDS} void DNS lookups; RFC 7208 §4.6.4")
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
        if low in ("r", "t"):
            if not exp:
                raise PermError(f"macro %{{{letter}}} is only allowed in exp")
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


def _domain_spec(spec: str, st: _State, domain: str) -> str:
    target = _expand(spec, st, domain).rstrip(".")
    while len(target) > 253 and "." in target:  # §7.3: drop labels from the left
        target = target.split(".", 1)[1]
    labels = target.split(".")
    if len(labels) < 2 or any(not label or len(label) > 63 for label in labels):
        raise PermError(f"{target!r} is not a valid domain name")
    return target


def _validated_name(st: _State, domain: str) -> str | None:
    """§5.5: the PTR names of the IP that forward-confirm, preferring ``domain``."""
    names = st.dns(_reverse_name(st.ip), "PTR", counts_void=False).records[:MAX_NAMES]
    rdtype = "A" if isinstance(st.ip, ipaddress.IPv4Address) else "AAAA"
    confirmed = []
    for name in names:
        try:
            addresses = st.dns(name, rdtype, counts_void=False).records
        except TempError:
            continue
        if any(_ip(a) == st.ip for a in addresses):
            confirmed.append(name.lower())
    for name in confirmed:
        if name == domain or name.endswith("." + domain):
            return name
    return confirmed[0] if confirmed else None


def _reverse_name(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    return ip.reverse_pointer


def _cidr(spec: str, term: str) -> tuple[str, int | None, int | None]:
    """Split "domain/24//64" into (domain, v4 prefix, v6 prefix)."""
    v6: int | None = None
    v4: int | None = None
    if "//" in spec:
        spec, _, six = spec.partition("//")
        if not six.isdigit() or int(six) > 128:
            raise PermError(f"bad ip6-cidr-length in {term!r}")
        v6 = int(six)
    if "/" in spec:
        spec, _, four = spec.rpartition("/")
        if not four.isdigit() or int(four) > 32:
            raise PermError(f"bad ip4-cidr-length in {term!r}")
        v4 = int(four)
    return spec, v4, v6


def _in_net(
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address, address: str, v4: int | None, v6: int | None
) -> bool:
    other = _ip(address)
    if other.version != ip.version:
        return False
    prefix = (v4 if v4 is not None else 32) if ip.version == 4 else (v6 if v6 is not None else 128)
    return ip in ipaddress.ip_network(f"{other}/{prefix}", strict=False)


def parse_record(record: str) -> tuple[list[tuple[str, str, str, str]], dict[str, str]]:
    """Terms as (qualifier, mechanism, argument, text) and modifiers. Raises PermError."""
    if not record.isascii():
        raise PermError("the record holds non-ASCII characters")
    mechanisms: list[tuple[str, str, str, str]] = []
    modifiers: dict[str, str] = {}
    for term in record.split(" ")[1:]:
        if not term:
            continue
        m = re.match(r"^([A-Za-z][A-Za-z0-9\-_.]*)=(.*)$", term)
        if m and m.group(1).lower() not in _MECHANISMS:
            name = m.group(1).lower()
            if name in ("redirect", "exp") and name in modifiers:
                raise PermError(f"{name}= appears twice")
            modifiers[name] = m.group(2)
            continue
        text, qualifier = term, "+"
        if term[0] in _QUALIFIERS:
            qualifier, term = term[0], term[1:]
        m = re.match(r"^([A-Za-z0-9\-_.]+)([:/].*)?$", term)
        if not m or m.group(1).lower() not in _MECHANISMS:
            raise PermError(f"unknown mechanism {text!r}")
        name, rest = m.group(1).lower(), m.group(2) or ""
        arg = rest[1:] if rest.startswith(":") else rest
        if name in ("ip4", "ip6", "include", "exists") and (not arg or not rest.startswith(":")):
            raise PermError(f"{name} needs ':' and an argument: {text!r}")
        if name == "all" and rest:
            raise PermError(f"'all' takes no argument: {text!r}")
        if rest.startswith(":") and not arg:
            raise PermError(f"empty domain in {text!r}")
        mechanisms.append((qualifier, name, arg, text))
    return mechanisms, modifiers


def _check_host(st: _State, domain: str) -> tuple[str, str, str]:
    """(result, reason, record) for ``domain``; raises nothing."""
    st.log(f"check_host({st.ip}, {domain})")
    try:
        records = [t for t in st.dns(domain, "TXT", counts_void=False).records if is_spf_record(t)]
    except TempError as exc:
        return "temperror", str(exc), ""
    if not records:
        return "none", f"no SPF record at {domain}", ""
    if len(records) > 1:
        return "permerror", f"{len(records)} SPF records at {domain} (RFC 7208 §4.5 allows one)", ""
    record = records[0]
    st.log(f"record: {record}")
    try:
        mechanisms, modifiers = parse_record(record)
        for qualifier, name, arg, term in mechanisms:
            if name in _DNS_TERMS:
                st.count(term)
            matched = _mechanism(st, domain, name, arg, term)
            st.log(f"{term}: {'match' if matched else 'no match'}")
            if matched:
                result = _QUALIFIERS[qualifier]
                return result, f"{term} matched in {domain}", record
        if "redirect" in modifiers:
            st.count("redirect=" + modifiers["redirect"])
            target = _domain_spec(modifiers["redirect"], st, domain)
            st.log(f"redirect={target}")
            st.depth += 1
            result, reason, _ = _check_host(st, target)
            st.depth -= 1
            if result == "none":
                return "permerror", f"redirect to {target}, which has no SPF record", record
            return result, reason, record
        return "neutral", f"no mechanism matched in {domain} and there is no 'all' (default neutral)", record
    except PermError as exc:
        return "permerror", str(exc), record
    except TempError as exc:
        return "temperror", str(exc), record


def _mechanism(st: _State, domain: str, name: str, arg: str, term: str) -> bool:
    if name == "all":
        return True
    if name in ("ip4", "ip6"):
        net_text = arg
        try:
            net = ipaddress.ip_network(net_text, strict=False)
        except ValueError:
            raise PermError(f"bad address in {term!r}") from None
        if (name == "ip4") != (net.version == 4):
            raise PermError(f"{term!r}: wrong address family")
        return st.ip.version == net.version and st.ip in net
    if name == "include":
        target = _domain_spec(arg, st, domain)
        st.depth += 1
        result, reason, _ = _check_host(st, target)
        st.depth -= 1
        if result == "pass":
            return True
        if result in ("fail", "softfail", "neutral"):
            return False
        if result == "temperror":
            raise TempError(reason)
        raise PermError(f"include:{target} gave {result}: {reason}")
    if name == "exists":
        target = _domain_spec(arg, st, domain)
        return bool(st.dns(target, "A").records)
    spec, v4, v6 = _cidr(arg, term)
    target = _domain_spec(spec, st, domain) if spec else domain
    rdtype = "A" if st.ip.version == 4 else "AAAA"
    if name == "a":
        return any(_in_net(st.ip, a, v4, v6) for a in st.dns(target, rdtype).records)
    if name == "mx":
        hosts = [r.split(" ", 1)[1] for r in st.dns(target, "MX").records]
        if len(hosts) > MAX_NAMES:
            raise PermError(f"{target} has {len(hosts)} MX names; RFC 7208 §4.6.4 allows {MAX_NAMES}")
        for host in hosts:
            if host in ("", "."):
                continue
            if any(_in_net(st.ip, a, v4, v6) for a in st.dns(host, rdtype).records):
                return True
        return False
    if name == "ptr":
        validated = _validated_name(st, target)
        return validated is not None and (validated == target or validated.endswith("." + target))
    raise PermError(f"unknown mechanism {name}")


def evaluate(lookup: Lookup, ip: str, mail_from: str, *, helo: str = "") -> SpfResult:
    """check_host(ip, domain of mail_from, mail_from) with the trace of every term and lookup."""
    try:
        address = _ip(ip)
    except ValueError:
        return SpfResult("permerror", f"{ip!r} is not an IP address")
    sender = mail_from if "@" in mail_from else f"postmaster@{mail_from}"
    domain = sender.rpartition("@")[2].lower().rstrip(".")
    st = _State(address, sender, helo or domain, lookup, [])
    result, reason, record = _check_host(st, domain)
    out = SpfResult(result, reason, st.trace, st.lookups, st.voids, record=record)
    if result == "fail" and record:
        try:
            _, modifiers = parse_record(record)
            if "exp" in modifiers:
                target = _domain_spec(modifiers["exp"], st, domain)
                texts = lookup.txt(target).records
                if len(texts) == 1:
                    out.explanation = _expand(texts[0], st, domain, exp=True)
        except (PermError, TempError, DnsUnavailable):
            out.explanation = ""  # §6.2: a broken exp is ignored, the result stands
    return out
