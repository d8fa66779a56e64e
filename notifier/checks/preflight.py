"""Put a check report together for a campaign: what `notify check` prints and what
`notify send` runs before the first message."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
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
from notifier.ledger import Claimed, SqliteLedger, ledger_exists, open_ledger
from notifier.lists.segments import Segment
from notifier.pipeline import deliver as pipeline
from notifier.render.notice import DEFAULT_CATEGORIES, Notice
from notifier.render.signing import DkimKey, Signer, load_key
from notifier.settings import Settings
from notifier.tokens import Tokens
from notifier.transports import SesTransport, Transport

__all__ = ["GATE_AREAS", "build_signer", "campaign_report", "content_findings", "gate_report"]

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


def campaign_report(
    settings: Settings,
    transport: Transport,
    notice: Notice,
    segment: Segment,
    list_files: Sequence[Path],
) -> Report:
    """Every area, for `notify check`. Reads the lists into a throw-away ledger, so the
    campaign ledger is not touched."""
    signer = build_signer(settings)
    with tempfile.TemporaryDirectory(prefix="notify-check-") as tmp:
        ledger = SqliteLedger(Path(tmp) / "check.sqlite")
        try:
            imports = pipeline.import_lists(ledger, list_files)
            pipeline.plan(ledger, notice.name, imports, segment, resend=False)
            # One pass over the segment: the sample message, role addresses and the lint.
            seen: list[Claimed] = []
            role = 0

            def people() -> Iterator[tuple[dict[str, Any], str]]:
                nonlocal role
                for c in ledger.targets_to_send(0.0):
                    if not seen:
                        seen.append(c)
                    role += is_role(c.recipient.email)
                    yield c.recipient.template_view(), f"{c.recipient.source}:{c.recipient.line}"

            categories = {**DEFAULT_CATEGORIES, **notice.context.get("categories", {})}
            linted = lint_recipients(
                load_content_rules(notice.kind),
                notice.render,
                notice.context,
                people(),
                categories=categories,
            )
            factory = pipeline.MessageFactory(
                notice,
                settings.sender,
                Tokens(ledger.secret()),
                signer=None,
                unsubscribe_base=settings.public_url,
            )
            sample = factory.prepare(seen[0]).data if seen else None
        finally:
            ledger.close()
    suppressed = 0
    if ledger_exists(settings):
        real = open_ledger(settings)
        try:
            suppressed = real.query("SELECT count(*) FROM suppressions")[0][0]
        finally:
            real.close()
    lookup = _lookup(settings)
    ips, source = sending_ips(settings, transport)
    report = Report()
    easy = ses_easy_dkim(transport, settings.sender.address) if signer is None else None
    report.extend(check_auth(settings, lookup, signer, sample, ips, source, provider_dkim=easy))
    report.extend(check_infra(lookup, ips, settings.sender.domain))
    report.extend(asyncio.run(check_transport(transport)))
    if isinstance(transport, SesTransport) and transport.account is not None:
        recipients = sum(i.valid for i in imports)
        report.extend(check_ses(transport, settings.sender.address, recipients, own_dkim=signer is not None))
    if isinstance(transport, SesTransport):
        asyncio.run(transport.close())
    report.extend(check_message(settings, signer.sign(sample) if signer and sample else sample))
    report.extend(
        check_list(
            ListStats(
                rows=sum(i.rows for i in imports),
                invalid=sum(i.invalid for i in imports),
                duplicates=sum(i.duplicates for i in imports),
                suppressed=suppressed,
                role=role,
            )
        )
    )
    report.extend(content_findings(linted))
    report.extend(check_providers(report))
    return report
