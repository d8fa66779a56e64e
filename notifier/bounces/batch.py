"""Recording bounces a batch at a time: the same answers as :func:`~notifier.bounces.recording.record`
gives one message after the other, in one ledger transaction per :data:`BATCH` messages.

Per batch: the VERP tokens are checked here (each return address once), the messages they name
looked up in one query, and everything the batch changes written by
``Ledger.record_bounce_batch`` (events, bounced states, suppressions, soft streaks, audit
entries). A mail to the mailto: unsubscribe address is recorded on its own, in order, as
``record`` does (its unsubscribe commits before its event). Nothing is counted in the report
before its batch is committed.
"""

from __future__ import annotations

from notifier.bounces.parallel import Prepared
from notifier.bounces.recording import (
    IngestPolicy,
    IngestReport,
    account,
    plan_for,
    record_digested,
    unsubscribe_row,
)
from notifier.ledger import BounceRecord, Ledger
from notifier.tokens import Tokens

__all__ = ["BATCH", "BatchRecorder"]

BATCH = 500  # messages per ledger transaction
_ROWS_KEPT = 4096  # return addresses whose token check is remembered (memory stays flat)


class BatchRecorder:
    """Collects prepared messages and records them ``size`` at a time; :meth:`flush` records
    what is left (call it at the end)."""

    def __init__(
        self,
        ledger: Ledger,
        tokens: Tokens,
        report: IngestReport,
        policy: IngestPolicy,
        size: int | None = None,
    ) -> None:
        self._ledger, self._tokens, self._report, self._policy = ledger, tokens, report, policy
        self._size = max(1, size or BATCH)
        self._pending: list[Prepared] = []
        self._rows: dict[str, int | None] = {}  # return address -> the row its token names

    def add(self, item: Prepared) -> None:
        """Record ``item`` with its batch (or now, for a mailto: unsubscribe)."""
        if unsubscribe_row(self._ledger, self._tokens, item.parsed) is not None:
            self.flush()  # everything before it first: the order is the one the sources give
            record_digested(
                self._ledger,
                self._tokens,
                item.digest,
                item.legacy,
                item.parsed,
                item.label,
                self._report,
                self._policy,
            )
            return
        self._pending.append(item)
        if len(self._pending) >= self._size:
            self.flush()

    def flush(self) -> None:
        """Record the pending messages in one transaction, then count them in the report."""
        batch, self._pending = self._pending, []
        if not batch:
            return
        rows = [self._row(item.parsed.envelope_to) for item in batch]
        keys = self._ledger.recipient_keys_of(row for row in rows if row is not None)
        plans = [
            plan_for(
                self._ledger,
                item.parsed,
                item.label,
                (row, keys[row]) if row is not None and row in keys else None,
            )
            for item, row in zip(batch, rows, strict=True)
        ]
        records = [
            BounceRecord(
                digest=item.digest,
                source=item.label,
                kind=plan.kind,
                entries=tuple(plan.entries),
                event_at=item.parsed.at,
                also_seen_as=(item.legacy,) if item.legacy != item.digest else (),
            )
            for item, plan in zip(batch, plans, strict=True)
        ]
        outcomes = self._ledger.record_bounce_batch(
            records,
            soft_threshold=self._policy.soft_threshold,
            soft_span=self._policy.soft_span,
            on_suppress=self._policy.share,
        )
        for plan, added in zip(plans, outcomes, strict=True):
            self._report.messages += 1
            account(self._report, plan, added)

    def _row(self, envelope_to: str) -> int | None:
        """The message row the VERP token of ``envelope_to`` names, if it verifies (each
        address checked once)."""
        if not envelope_to:
            return None
        if envelope_to in self._rows:
            return self._rows[envelope_to]
        if len(self._rows) >= _ROWS_KEPT:
            self._rows.clear()
        row = self._rows[envelope_to] = self._tokens.parse_return_path(envelope_to)
        return row
