"""The embedded ledger: one SQLite file per campaign, created 0600.

Crash safety: a message is marked ``sending`` in a committed transaction before it is
handed to the transport, and its outcome is committed (in small groups) after. A hard
kill therefore leaves only in-flight messages in ``sending``; the next run marks them
``possibly_duplicated`` and sends them again, so nobody is forgotten. WAL mode keeps
readers (`notify status`) from blocking the sender. One `notify send` at a time holds
an exclusive lock on ``<ledger>.lock``.

One concern per module: core (connection, migration, meta, transactions, locks, driver
errors), lists, plan, claims (a run), feedback (suppressions, bounces, unsubscribes),
auditlog and reads; SqliteLedger composes them. Each module maps its own public methods'
driver errors (``map_errors``), so every public method of the composed class is mapped.
"""

from __future__ import annotations

from notifier.ledger.base import BounceEntry, Claimed, ImportSummary, PlanSummary, Result, map_errors
from notifier.ledger.sqlite.auditlog import AuditMixin
from notifier.ledger.sqlite.bouncebatch import BounceBatchMixin
from notifier.ledger.sqlite.channels import ChannelsMixin
from notifier.ledger.sqlite.claims import ClaimsMixin
from notifier.ledger.sqlite.console import ConsoleMixin
from notifier.ledger.sqlite.core import _driver_error
from notifier.ledger.sqlite.feedback import FeedbackMixin
from notifier.ledger.sqlite.letters import LettersMixin
from notifier.ledger.sqlite.lists import ListsMixin
from notifier.ledger.sqlite.members import MembersMixin
from notifier.ledger.sqlite.offers import OffersMixin
from notifier.ledger.sqlite.plan import PlanMixin
from notifier.ledger.sqlite.reads import ReadsMixin

__all__ = ["BounceEntry", "Claimed", "ImportSummary", "PlanSummary", "Result", "SqliteLedger"]


class SqliteLedger(
    ListsMixin,
    MembersMixin,
    PlanMixin,
    ClaimsMixin,
    FeedbackMixin,
    BounceBatchMixin,
    AuditMixin,
    ReadsMixin,
    ChannelsMixin,
    LettersMixin,
    OffersMixin,
    ConsoleMixin,
):
    """The ledger of one campaign. Not shared between threads."""


map_errors(SqliteLedger, _driver_error)  # methods added here later are mapped too
