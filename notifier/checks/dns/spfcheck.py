"""SPF record checks SPF-1..SPF-12 (reference: sender-authentication.md §A)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from notifier.checks.dns.lookup import DnsUnavailable, Lookup
from notifier.checks.dns.spf import MAX_NAMES, PermError, SpfResult, evaluate, is_spf_record, parse_record
from notifier.checks.report import Finding, Status

__all__ = ["check_spf"]

AREA = "Sender authentication"


@dataclass
class _Walk:
    lookups: int = 0
    voids: int = 0
    problems: list[Finding] = field(default_factory=list)
    ptr: bool = False
    seen: set[str] = field(default_factory=set)


def _walk(lookup: Lookup, domain: str, walk: _Walk, *, top: bool) -> str | None:
    """Count lookups and voids over the whole include/redirect tree. Returns the final
    'all' qualifier of the top record (or None)."""
    if domain in walk.seen:
        walk.problems.append(
            Finding("SPF-6", AREA, Status.FAIL, f"include/redirect loop through {domain}", "remove the loop")
        )
        return None
    walk.seen.add(domain)
    records = [t for t in lookup.txt(domain).records if is_spf_record(t)]
    if not top and len(records) != 1:
        walk.problems.append(
            Finding(
                "SPF-6",
                AREA,
                Status.FAIL,
                f"{domain} is included but has {len(records)} SPF records (permerror for every receiver)",
                f"remove include:{domain} or ask its owner to publish exactly one SPF record",
            )
        )
        return None
    if not records:
        return None
    record = records[0]
    if len(record) > 512:
        walk.problems.append(
            Finding(
                "SPF-9",
                AREA,
                Status.WARN,
                f"{domain}: the SPF record is {len(record)} octets",
                "shorten it (flatten includes you control)",
            )
        )
    try:
        mechanisms, modifiers = parse_record(record)
    except PermError as exc:
        walk.problems.append(
            Finding("SPF-2", AREA, Status.FAIL, f"{domain}: {exc}", "fix the record's syntax")
        )
        return None
    final = None
    for term in mechanisms:
        name = term.name
        if name in ("include", "a", "mx", "ptr", "exists"):
            walk.lookups += 1
        target = (term.domain if term.domain is not None else domain).rstrip(".")
        if "%" in target:
            continue  # macros depend on the sender: evaluated per message, not here
        try:
            if name == "include":
                _walk(lookup, target, walk, top=False)
            elif name == "a":
                walk.voids += lookup.query(target, "A").void and lookup.query(target, "AAAA").void
            elif name == "mx":
                answer = lookup.query(target, "MX")
                walk.voids += answer.void
                if len(answer.records) > MAX_NAMES:
                    walk.problems.append(
                        Finding(
                            "SPF-5",
                            AREA,
                            Status.FAIL,
                            f"{target} has {len(answer.records)} MX names (limit 10)",
                            f"replace mx:{target} with ip4:/ip6: ranges",
                        )
                    )
            elif name == "ptr":
                walk.ptr = True
            elif name == "exists":
                walk.voids += lookup.query(target, "A").void
        except DnsUnavailable:
            continue
        if name == "all":
            final = term.qualifier
    if "redirect" in modifiers and "%" not in modifiers["redirect"]:
        walk.lookups += 1
        redirected = _walk(lookup, modifiers["redirect"], walk, top=False)
        final = final or redirected or "redirect"
    return final


def _fix(result: SpfResult, ip: str, domain: str) -> str:
    """The fix for the cause the evaluation found: adding the IP helps only when nothing
    authorised it; a broken record fails every IP, listed or not."""
    term = f"ip6:{ip}" if ":" in ip else f"ip4:{ip}"
    cause = result.cause
    if cause == "lookups":
        return (
            f"{domain}'s SPF needs more than 10 DNS lookups, so receivers return permerror for every IP "
            "(SPF-3): flatten includes into ip4:/ip6: ranges"
        )
    if cause == "voids":
        return (
            f"{domain}'s SPF makes more than 2 lookups that find nothing, a permerror for every IP "
            "(SPF-4): remove the mechanisms that point at names without records"
        )
    if cause == "mx-names":
        return "an mx in the SPF tree has more than 10 names (SPF-5): replace it with ip4:/ip6: ranges"
    if cause == "records":
        return "a domain in the SPF tree has more than one SPF record: merge them into one"
    if cause == "no-record":
        return "an include:/redirect= in the SPF tree names a domain without an SPF record: fix or remove it"
    if cause == "syntax":
        return f"the SPF record is malformed, a permerror for every IP: fix it ({result.reason})"
    if cause == "none":
        return f'publish {domain}. IN TXT "v=spf1 {term} -all"'
    if cause == "rejected":
        return f"a term rejects {ip} before any allows it ({result.reason}): remove it or put {term} first"
    return f"add {term} to {domain}'s SPF record"


def check_spf(
    lookup: Lookup,
    mail_from_domain: str,
    ips: Sequence[str],
    *,
    helo: str = "",
    ip_source: str = "[sender] ips",
) -> Iterator[Finding]:
    """Checks of the MAIL FROM (bounce) domain's SPF, then an evaluation for every IP."""
    suggestion = (
        f'{mail_from_domain}. IN TXT "v=spf1 '
        + " ".join((f"ip6:{ip}" if ":" in ip else f"ip4:{ip}") for ip in ips or ["SENDING-IP"])
        + ' -all"'
    )
    try:
        records = [t for t in lookup.txt(mail_from_domain).records if is_spf_record(t)]
        legacy = [t for t in lookup.txt(mail_from_domain).records if t.lower().startswith("spf2.0/")]
    except DnsUnavailable as exc:
        yield Finding(
            "SPF-1",
            AREA,
            Status.WARN,
            f"could not verify SPF for {mail_from_domain}: {exc.reason}",
            "check the DNS servers, then run `notify check` again",
        )
        return
    if not records:
        yield Finding(
            "SPF-1",
            AREA,
            Status.FAIL,
            f"no SPF record at {mail_from_domain} (the bounce domain)",
            f"publish: {suggestion}",
        )
        return
    if len(records) > 1:
        yield Finding(
            "SPF-1",
            AREA,
            Status.FAIL,
            f"{len(records)} SPF records at {mail_from_domain}: every receiver sees permerror",
            "merge them into one record",
        )
        return
    yield Finding("SPF-1", AREA, Status.PASS, f"one SPF record at {mail_from_domain}: {records[0]}")
    walk = _Walk()
    try:
        final = _walk(lookup, mail_from_domain, walk, top=True)
    except DnsUnavailable as exc:
        yield Finding("SPF-3", AREA, Status.WARN, f"could not follow the SPF tree: {exc.reason}")
        final = None
    yield from walk.problems
    if not any(p.id == "SPF-2" for p in walk.problems):
        yield Finding("SPF-2", AREA, Status.PASS, "syntax valid")
    if walk.lookups > 10:
        yield Finding(
            "SPF-3",
            AREA,
            Status.FAIL,
            f"{walk.lookups} DNS-querying terms in the tree (limit 10)",
            "flatten includes into ip4:/ip6: ranges",
        )
    elif walk.lookups >= 9:
        yield Finding(
            "SPF-3",
            AREA,
            Status.WARN,
            f"{walk.lookups} DNS-querying terms: no headroom below 10",
            "flatten an include",
        )
    else:
        yield Finding("SPF-3", AREA, Status.PASS, f"{walk.lookups} DNS-querying terms (limit 10)")
    if walk.voids > 2:
        yield Finding(
            "SPF-4",
            AREA,
            Status.FAIL,
            f"{walk.voids} void lookups (limit 2)",
            "remove mechanisms that point at names without records",
        )
    elif walk.voids:
        yield Finding("SPF-4", AREA, Status.WARN, f"{walk.voids} void lookup(s)", "remove dead mechanisms")
    else:
        yield Finding("SPF-4", AREA, Status.PASS, "no void lookups")
    if walk.ptr:
        yield Finding(
            "SPF-7",
            AREA,
            Status.WARN,
            "the ptr mechanism is slow and discouraged (RFC 7208 §5.5)",
            "replace ptr with ip4:/ip6:",
        )
    if final == "+":
        yield Finding(
            "SPF-8", AREA, Status.FAIL, "+all lets anyone on the internet send as you", "end with -all"
        )
    elif final in (None, "?"):
        yield Finding(
            "SPF-8", AREA, Status.WARN, "no -all or ~all: unlisted senders get neutral", "end with -all"
        )
    else:
        yield Finding(
            "SPF-8", AREA, Status.PASS, f"ends with {final}all" if final != "redirect" else "redirect"
        )
    if legacy:
        yield Finding("SPF-10", AREA, Status.WARN, "legacy spf2.0 (Sender ID) record present", "remove it")
    if not ips:
        yield Finding(
            "SPF-11",
            AREA,
            Status.WARN,
            "no sending IP known, so SPF could not be evaluated",
            'set [sender] ips = ["203.0.113.7"] to the addresses your relay sends from',
        )
    for ip in ips:
        result = evaluate(lookup, ip, f"postmaster@{mail_from_domain}", helo=helo)
        found = f"{ip} from {ip_source}: {result.result} ({result.reason})"
        if result.result == "pass":
            yield Finding("SPF-11", AREA, Status.PASS, found)
        elif result.result == "temperror":
            yield Finding(
                "SPF-11",
                AREA,
                Status.WARN,
                "could not verify: " + found,
                f"run `notify check spf {ip} {mail_from_domain}` for the trace",
            )
        else:
            yield Finding(
                "SPF-11",
                AREA,
                Status.FAIL,
                found + " (Gmail 5.7.27)",
                _fix(result, ip, mail_from_domain) + f"; trace: notify check spf {ip} {mail_from_domain}",
            )
    if helo and ips:
        result = evaluate(lookup, ips[0], f"postmaster@{helo}", helo=helo)
        status = Status.WARN if result.result == "fail" else Status.INFO
        yield Finding(
            "SPF-12",
            AREA,
            status,
            f"HELO {helo}: {result.result}",
            f'publish {helo}. IN TXT "v=spf1 a -all"' if status is Status.WARN else "",
        )
