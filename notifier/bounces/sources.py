"""`notify bounces ingest SOURCE...`: read every source (files, folders, IMAP), record what is
tied to this campaign's mail, and write one audit entry for the whole ingest."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from notifier.bounces.imap import ingest_imap
from notifier.bounces.ingest import IngestPolicy, IngestReport, ingest
from notifier.ledger import Ledger
from notifier.tokens import Tokens

__all__ = ["ingest_sources"]


def ingest_sources(
    ledger: Ledger, tokens: Tokens, sources: Sequence[str], policy: IngestPolicy, env: Mapping[str, str]
) -> IngestReport:
    """Ingest each source in order; the audit entry names sources without IMAP user names and
    holds counts only (never an address)."""
    report = IngestReport()
    for source in sources:
        if source.startswith(("imaps://", "imap://")):
            ingest_imap(ledger, tokens, source, report, policy, env)
        else:
            report.merge(ingest(ledger, tokens, [Path(source)], policy))
    ledger.audit(
        "bounces.ingest",
        {
            "sources": [src.split("@")[-1] for src in sources],
            "messages": report.messages,
            "seen_before": report.already_seen,
            "kinds": report.kinds,
            "matched": report.matched,
            "unmatched": len(report.unmatched),
            "unverified": len(report.unverified),
            "suppressed": report.suppressed,
            "unsubscribed": report.unsubscribed,
        },
    )
    return report
