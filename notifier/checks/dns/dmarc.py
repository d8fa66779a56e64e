"""DMARC checks DMARC-1..DMARC-9 (reference: sender-authentication.md §C).

Policy discovery: ``_dmarc.<From domain>`` first, then the RFC 9989 tree walk towards the
root. Organisational domains for alignment come from the Public Suffix List
(``publicsuffixlist``, which ships the list, so no network is needed).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from publicsuffixlist import PublicSuffixList

from notifier.checks.dns.lookup import DnsUnavailable, Lookup
from notifier.checks.report import Finding, Status

__all__ = ["DmarcRecord", "aligned", "check_dmarc", "discover", "org_domain", "parse_dmarc"]

AREA = "Sender authentication"
_PSL = PublicSuffixList()
PROVIDER_DOMAINS = {
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "ymail.com",
    "aol.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "icloud.com",
    "me.com",
    "gmx.com",
    "gmx.de",
    "web.de",
    "mail.com",
    "proton.me",
    "protonmail.com",
    "yandex.ru",
    "mail.ru",
    "zoho.com",
}
_KNOWN = {"v", "p", "sp", "np", "adkim", "aspf", "fo", "rua", "ruf", "rf", "ri", "pct", "psd", "t"}
_POLICIES = {"none", "quarantine", "reject"}


def org_domain(domain: str) -> str:
    return _PSL.privatesuffix(domain.lower().rstrip(".")) or domain.lower()


def aligned(a: str, b: str, mode: str) -> bool:
    """RFC 7489 §3.1: strict needs the same name, relaxed the same organisational domain."""
    a, b = a.lower().rstrip("."), b.lower().rstrip(".")
    return a == b if mode == "s" else org_domain(a) == org_domain(b)


@dataclass(frozen=True, slots=True)
class DmarcRecord:
    name: str  # where it was found
    text: str
    tags: dict[str, str]
    problems: tuple[str, ...]
    unknown: tuple[str, ...]


def parse_dmarc(name: str, text: str) -> DmarcRecord:
    problems: list[str] = []
    unknown: list[str] = []
    tags: dict[str, str] = {}
    if text != text.lstrip():
        problems.append("the record starts with white space")
    parts = [p.strip() for p in text.strip().split(";")]
    if not parts or re.sub(r"\s", "", parts[0]) != "v=DMARC1":
        problems.append("the record must start with v=DMARC1;")
    for part in parts:
        if not part:
            continue
        tag, eq, value = part.partition("=")
        tag, value = tag.strip().lower(), value.strip()
        if not eq:
            problems.append(f"{part!r} is not tag=value")
            continue
        if tag in tags:
            problems.append(f"tag {tag} appears twice")
        tags[tag] = value
        if tag not in _KNOWN:
            unknown.append(tag)
    for tag in ("p", "sp", "np"):
        if tag in tags and tags[tag].lower() not in _POLICIES:
            problems.append(f"{tag}={tags[tag]} (use none, quarantine or reject)")
    for tag in ("adkim", "aspf"):
        if tag in tags and tags[tag].lower() not in ("r", "s"):
            problems.append(f"{tag}={tags[tag]} (use r or s)")
    if "fo" in tags and not set(tags["fo"].replace(":", "")) <= set("01ds"):
        problems.append(f"fo={tags['fo']} (use 0, 1, d, s)")
    if "psd" in tags and tags["psd"].lower() not in ("y", "n", "u"):
        problems.append(f"psd={tags['psd']} (use y, n or u)")
    if "t" in tags and tags["t"].lower() not in ("y", "n"):
        problems.append(f"t={tags['t']} (use y or n)")
    if "pct" in tags and not (tags["pct"].isdigit() and 0 <= int(tags["pct"]) <= 100):
        problems.append(f"pct={tags['pct']} (a number from 0 to 100)")
    return DmarcRecord(name, text, tags, tuple(problems), tuple(unknown))


def _records_at(lookup: Lookup, name: str) -> tuple[list[str], list[str]]:
    texts = lookup.txt(name).records
    dmarc = [t for t in texts if t.lstrip().lower().startswith("v=dmarc1")]
    return dmarc, [t for t in texts if t not in dmarc]


def discover(lookup: Lookup, domain: str) -> tuple[list[str], str, list[str]]:
    """(records, name found at, unrelated TXT there). Tree walk: at most 8 labels upward."""
    labels = domain.lower().rstrip(".").split(".")
    for start in range(min(len(labels) - 1, 8)):
        name = "_dmarc." + ".".join(labels[start:])
        records, other = _records_at(lookup, name)
        if records:
            return records, name, other
        if start == 0 and other:
            return [], name, other
    return [], "", []


def check_dmarc(
    lookup: Lookup,
    from_domain: str,
    *,
    dkim_domain: str | None,
    dkim_passes: bool,
    mail_from_domain: str,
    spf_passes: bool,
) -> Iterator[Finding]:
    from_domain = from_domain.lower()
    org = org_domain(from_domain)
    if from_domain in PROVIDER_DOMAINS or org in PROVIDER_DOMAINS:
        yield Finding(
            "DMARC-9",
            AREA,
            Status.FAIL,
            f"From domain {from_domain} is a mailbox provider's; its DMARC policy will reject you",
            "send From an address at your own domain",
        )
    else:
        yield Finding("DMARC-9", AREA, Status.PASS, f"From domain {from_domain} is not a mailbox provider's")
    suggestion = f'_dmarc.{org}. IN TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@{org}"'
    try:
        records, found_at, other = discover(lookup, from_domain)
        apex = [t for t in lookup.txt(org).records if t.lower().startswith("v=dmarc1")]
    except DnsUnavailable as exc:
        yield Finding(
            "DMARC-1",
            AREA,
            Status.WARN,
            f"could not verify DMARC: {exc.reason}",
            "check the DNS servers, then run `notify check` again",
        )
        return
    if not records:
        if apex:
            yield Finding(
                "DMARC-2",
                AREA,
                Status.FAIL,
                f"the DMARC record sits at {org} itself, not at _dmarc.{org}",
                f"move it: {suggestion}",
            )
        yield Finding(
            "DMARC-1",
            AREA,
            Status.FAIL,
            f"no DMARC record for {from_domain} (Gmail 4.7.31, Yahoo and Outlook require one)",
            f"publish: {suggestion}",
        )
        return
    yield Finding("DMARC-1", AREA, Status.PASS, f"DMARC record found at {found_at}")
    if len(records) > 1:
        yield Finding(
            "DMARC-2",
            AREA,
            Status.FAIL,
            f"{len(records)} DMARC records at {found_at}: receivers ignore both",
            f"keep exactly one: {suggestion}",
        )
        return
    if other:
        yield Finding(
            "DMARC-2",
            AREA,
            Status.WARN,
            f"unrelated TXT records at {found_at}: {other[0][:60]!r}",
            f"remove them from {found_at}",
        )
    record = parse_dmarc(found_at, records[0])
    if record.problems:
        yield Finding(
            "DMARC-3",
            AREA,
            Status.FAIL,
            f"{found_at}: " + "; ".join(record.problems),
            f"publish a valid record: {suggestion}",
        )
        return
    yield Finding(
        "DMARC-3",
        AREA,
        Status.WARN if record.unknown else Status.PASS,
        f"unknown tags: {', '.join(record.unknown)}" if record.unknown else "syntax valid",
        "remove the unknown tags" if record.unknown else "",
    )
    tags = {k: v.lower() for k, v in record.tags.items()}
    policy = tags.get("p")
    if policy is None:
        yield Finding(
            "DMARC-4",
            AREA,
            Status.FAIL,
            "the record has no p= policy (Gmail 4.7.31)",
            f"add p=: {suggestion}",
        )
    elif policy == "none":
        yield Finding(
            "DMARC-4",
            AREA,
            Status.WARN,
            "p=none meets the minimum but does not protect anyone",
            "move to p=quarantine, then p=reject, once reports look clean",
        )
    else:
        yield Finding("DMARC-4", AREA, Status.PASS, f"p={policy}")
    effective = policy
    if found_at != f"_dmarc.{from_domain}":
        effective = tags.get("sp", policy)
    if effective == "none" or tags.get("t") == "y":
        why = "t=y (testing)" if tags.get("t") == "y" else f"effective policy for {from_domain} is none"
        yield Finding("DMARC-5", AREA, Status.WARN, why, "enforce a policy for the sending domain")
    elif effective:
        yield Finding("DMARC-5", AREA, Status.PASS, f"effective policy for {from_domain}: {effective}")
    if "pct" in tags and int(tags["pct"]) < 100:
        yield Finding(
            "DMARC-6",
            AREA,
            Status.WARN,
            f"pct={tags['pct']}: older receivers apply the policy to part only",
            "remove pct= (RFC 9989 dropped it)",
        )
    yield from _rua(lookup, tags.get("rua"), org)
    yield from _alignment(from_domain, tags, dkim_domain, dkim_passes, mail_from_domain, spf_passes)


def _rua(lookup: Lookup, rua: str | None, org: str) -> Iterator[Finding]:
    if not rua:
        yield Finding(
            "DMARC-7",
            AREA,
            Status.WARN,
            "no rua= reporting address: you will not see who fails",
            f"add rua=mailto:dmarc-reports@{org}",
        )
        return
    for uri in (u.strip() for u in rua.split(",")):
        m = re.fullmatch(r"mailto:([^@\s!]+)@([^\s!]+)(!\d+[kmgt]?)?", uri, re.I)
        if not m:
            yield Finding(
                "DMARC-7", AREA, Status.FAIL, f"rua {uri!r} is not a mailto: address", "use rua=mailto:..."
            )
            continue
        dest = m.group(2).lower()
        try:
            if org_domain(dest) != org:
                auth = lookup.txt(f"{org}._report._dmarc.{dest}").records
                if not any(a.lower().startswith("v=dmarc1") for a in auth):
                    yield Finding(
                        "DMARC-7",
                        AREA,
                        Status.WARN,
                        f"{dest} has not authorised reports for {org}",
                        f'{dest} must publish {org}._report._dmarc.{dest}. TXT "v=DMARC1"',
                    )
                    continue
            if not lookup.query(dest, "MX").records and not lookup.query(dest, "A").records:
                yield Finding(
                    "DMARC-7",
                    AREA,
                    Status.WARN,
                    f"report address domain {dest} cannot receive mail",
                    f"publish an MX for {dest}",
                )
                continue
        except DnsUnavailable as exc:
            yield Finding("DMARC-7", AREA, Status.WARN, f"could not verify rua {uri}: {exc.reason}")
            continue
        yield Finding("DMARC-7", AREA, Status.PASS, f"reports go to {uri}")


def _alignment(
    from_domain: str,
    tags: dict[str, str],
    dkim_domain: str | None,
    dkim_passes: bool,
    mail_from_domain: str,
    spf_passes: bool,
) -> Iterator[Finding]:
    adkim, aspf = tags.get("adkim", "r"), tags.get("aspf", "r")
    dkim_ok = dkim_domain is not None and dkim_passes and aligned(from_domain, dkim_domain, adkim)
    spf_ok = spf_passes and aligned(from_domain, mail_from_domain, aspf)

    def state(ok: bool) -> str:
        return "aligned and passing" if ok else "not aligned or not passing"

    found = (
        f"DKIM d={dkim_domain or 'none'} {state(dkim_ok)}; SPF {mail_from_domain} {state(spf_ok)} "
        f"(adkim={adkim}, aspf={aspf})"
    )
    if dkim_ok and spf_ok:
        yield Finding("DMARC-8", AREA, Status.PASS, found)
    elif dkim_ok or spf_ok:
        yield Finding(
            "DMARC-8",
            AREA,
            Status.WARN,
            found,
            "align both: sign with d=<From domain> and use a bounce domain under the From domain",
        )
    else:
        yield Finding(
            "DMARC-8",
            AREA,
            Status.FAIL,
            found + " — DMARC fails (Gmail 4.7.32)",
            "sign with [dkim] domain = the From domain, and/or set [sender] bounce_domain "
            "under the From domain with SPF passing",
        )
