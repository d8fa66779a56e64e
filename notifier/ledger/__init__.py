"""The ledger: every (notice, recipient) with its state, and every attempt.

SQLite (one file beside notify.toml) is the embedded default; ``[ledger] url =
"postgresql://..."`` (or ``NOTIFY_LEDGER``) shares one ledger between several senders.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from notifier.ledger.audit import AuditKey
from notifier.ledger.base import (
    BounceEntry,
    BounceRecord,
    Claimed,
    ImportSummary,
    Ledger,
    ListImport,
    NoticeStatus,
    OutcomeRow,
    PlanSummary,
    ReportRow,
    Result,
    RunRecord,
    ScheduleRow,
)
from notifier.ledger.sqlite import SqliteLedger

if TYPE_CHECKING:
    from notifier.settings import Settings

__all__ = [
    "BounceEntry",
    "BounceRecord",
    "Claimed",
    "ImportSummary",
    "Ledger",
    "ListImport",
    "NoticeStatus",
    "OutcomeRow",
    "PlanSummary",
    "ReportRow",
    "Result",
    "RunRecord",
    "ScheduleRow",
    "SqliteLedger",
    "audit_key",
    "ledger_exists",
    "open_ledger",
]


def open_ledger(settings: Settings, *, shared: bool = False) -> Ledger:
    """The campaign's ledger: PostgreSQL when [ledger] url says so, else the SQLite file."""
    if settings.ledger_url:
        from notifier.ledger.postgres import PgLedger

        return PgLedger(
            settings.ledger_url, shared=shared, lease=settings.lease, audit_key=audit_key(settings)
        )
    return SqliteLedger(settings.ledger_path, shared=shared, audit_key=audit_key(settings))


def audit_key(settings: Settings) -> AuditKey:
    """The campaign's audit key: NOTIFY_AUDIT_KEY, else .notify/audit.key beside notify.toml,
    never in the ledger (whoever can write the ledger must not be able to sign entries)."""
    return AuditKey(settings.root / ".notify" / "audit.key")


def ledger_exists(settings: Settings) -> bool:
    return bool(settings.ledger_url) or settings.ledger_path.exists()
