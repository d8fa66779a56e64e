"""Put a check report together for a campaign: what `notify check` prints and what
`notify send` runs before the first message."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from notifier.checks.dns.lookup import Lookup
from notifier.checks.dns.resolver import make_resolver
from notifier.checks.report import Finding, Report, Status
from notifier.checks.suite import (
    ListStats,
    check_auth,
    check_infra,
    check_list,
    check_message,
    check_providers,
    check_ses,
    check_transport,
    is_role,
    sending_ips,
    ses_easy_dkim,
)
from notifier.compliance.lint import LintReport, lint_recipients, load_content_rules
from notifier.followups.readiness import refuse_unready
from notifier.lists.audience import ListSummary, Member
from notifier.render.notice import DEFAULT_CATEGORIES, Notice
from notifier.render.signing import DkimKey, Signer, load_key
from notifier.settings import Settings
from notifier.transports import SesTransport, Transport

__all__ = [
    "AudienceFacts",
    "GATE_AREAS",
    "build_signer",
    "campaign_report",
    "content_findings",
    "gate_report",
]

GATE_AREAS = ("Sender authentication", "Messages")


def content_findings(linted: LintReport) -> list[Finding]:
    """`notify lint`'s result as check findings (area "Notice content")."""
    area = "Notice content"
    out = []
    for (rule_id, severity, what), v in sorted(linted.findings.items()):
        status = Status.FAIL if severity == "ERROR" else Status.WARN
        places = ", ".join(v["jurisdictions"]) or "all"
        out.append(
            Finding(
                rule_id,
                area,
                status,
                f"{what}: {v['recipients']} recipient(s) in {places} — {v['problem']}",
                "edit the notice's templates or notify.toml; `notify lint` lists example rows",
            )
        )
    if not out:
        out.append(
            Finding(
                "LINT",
                area,
                Status.PASS,
                f"every applicable content rule met for {linted.recipients} "
                f"recipients ({linted.groups} jurisdiction and data combinations)",
            )
        )
    return out


def build_signer(settings: Settings) -> Signer | None:
    """The DKIM signer [dkim] asks for, or None. Raises ConfigError for an unusable key."""
    if settings.dkim is None:
        return None
    d = settings.dkim
    keys: list[DkimKey] = [load_key(d.key, domain=d.domain, selector=d.selector)]
    if d.ed25519_key is not None:
        keys.append(load_key(d.ed25519_key, domain=d.domain, selector=d.ed25519_selector))
    return Signer(keys)


def _lookup(settings: Settings) -> Lookup:
    return Lookup(make_resolver(settings.nameservers, timeout=settings.dns_timeout))


def gate_report(
    settings: Settings, transport: Transport, signer: Signer | None, sample: bytes | None
) -> Report:
    """The checks `notify send` refuses to send without: sender authentication and messages."""
    report = Report()
    ips, source = sending_ips(settings, transport)
    easy = ses_easy_dkim(transport, settings.sender.address) if signer is None else None
    report.extend(check_auth(settings, _lookup(settings), signer, sample, ips, source, provider_dkim=easy))
    report.extend(check_message(settings, sample))
    return report


@dataclass(frozen=True, slots=True)
class AudienceFacts:
    """What the caller found for the segment (notifier.lists.audience): checks report on it and
    never open the ledger themselves (checks report; the pipeline records)."""

    segment: str
    members: Iterable[Member]  # streamed once: the lint, role addresses and the sample read it
    lists: Sequence[ListSummary]
    sample: Callable[[Member], bytes]  # the message `send` would build for one member (unsigned)


def campaign_report(settings: Settings, transport: Transport, notice: Notice, facts: AudienceFacts) -> Report:
    """Every area, for `notify check`, over the segment the audience found."""
    refuse_unready(settings, notice.name)  # an empty or unreachable follow-up: ERROR with its fix
    signer = build_signer(settings)
    first: list[Member] = []
    role = suppressed = members = 0
    by_state: dict[str, int] = {}

    def people() -> Iterator[tuple[dict[str, Any], str]]:
        nonlocal role, suppressed, members
        for m in facts.members:
            members += 1
            if not first:
                first.append(m)
            role += is_role(m.recipient.email)
            suppressed += bool(m.state.suppressed)
            by_state[m.state.state or "new"] = by_state.get(m.state.state or "new", 0) + 1
            yield m.view, m.where

    categories = {**DEFAULT_CATEGORIES, **notice.context.get("categories", {})}
    linted = lint_recipients(
        load_content_rules(notice.kind),
        notice.render,
        notice.context,
        people(),
        categories=categories,
        check=notice.check,
    )
    sample = facts.sample(first[0]) if first else None
    lookup = _lookup(settings)
    ips, source = sending_ips(settings, transport)
    report = Report()
    states = ", ".join(f"{n} {s}" for s, n in sorted(by_state.items()))
    report.add(
        Finding(
            "SEGMENT",
            "List",
            Status.PASS if members else Status.WARN,
            f"segment {facts.segment!r} for notice {notice.name}: {members} recipient(s)"
            + (f" ({states})" if states else ""),
            "" if members else "check the segment's expression and the lists; `notify preview` shows who",
        )
    )
    easy = ses_easy_dkim(transport, settings.sender.address) if signer is None else None
    report.extend(check_auth(settings, lookup, signer, sample, ips, source, provider_dkim=easy))
    report.extend(check_infra(lookup, ips, settings.sender.domain))
    report.extend(asyncio.run(check_transport(transport)))
    if isinstance(transport, SesTransport) and transport.account is not None:
        recipients = sum(i.valid for i in facts.lists)
        report.extend(check_ses(transport, settings.sender.address, recipients, own_dkim=signer is not None))
    if isinstance(transport, SesTransport):
        asyncio.run(transport.close())
    report.extend(check_message(settings, signer.sign(sample) if signer and sample else sample))
    report.extend(
        check_list(
            ListStats(
                rows=sum(i.rows for i in facts.lists),
                invalid=sum(i.invalid for i in facts.lists),
                duplicates=sum(i.duplicates for i in facts.lists),
                suppressed=suppressed,
                role=role,
            )
        )
    )
    report.extend(content_findings(linted))
    report.extend(check_providers(report))
    return report
