"""What comes back from recipients: suppressions, bounces and events, unsubscribes."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence

from notifier.ledger.base import (
    BounceEntry,
    map_errors,
)
from notifier.ledger.sqlite.core import LedgerCore, _driver_error

__all__ = ["FeedbackMixin"]


class FeedbackMixin(LedgerCore):
    """Suppressions, bounce outcomes, unsubscribes and matching a bounce to our message."""

    def suppress(self, keys: Iterable[str], *, reason: str, source: str) -> int:
        """Add addresses (dedupe keys) to the suppression list; returns how many were new."""
        with self._tx() as db:
            before = db.total_changes
            db.executemany(self._sql["suppress"], [(k, reason, time.time(), source) for k in keys])
            added = db.total_changes - before
            if added:
                self._audit(db, "suppress.add", {"added": added, "reason": reason, "source": source})
            return added

    def unsuppress(self, keys: Iterable[str]) -> int:
        with self._tx() as db:
            before = db.total_changes
            db.executemany(self._sql["unsuppress"], [(k,) for k in keys])
            removed = db.total_changes - before
            if removed:
                self._audit(db, "suppress.remove", {"removed": removed})
            return removed

    def suppressions(self) -> list[tuple[str, str, float, str]]:
        return [tuple(r) for r in self._db.execute(self._sql["suppressions"])]

    def record_bounce_outcome(
        self,
        *,
        digest: str,
        source: str,
        kind: str,
        entries: Sequence[BounceEntry],
        event_at: float | None = None,
        also_seen_as: Sequence[str] = (),
        soft_threshold: int = 3,
        soft_span: float = 86400.0,
        on_suppress: Callable[[str, str], None] | None = None,
    ) -> int | None:
        """Record one bounce message or event and everything it changes, in ONE transaction:
        its event rows, the ``bounced`` state of the messages it is tied to, and the
        suppressions it earns (hard bounce, complaint, or a soft streak that reached
        ``soft_threshold`` over ``soft_span``). A crash part-way leaves nothing, so the next
        ingest records it whole; a digest (or one of ``also_seen_as``) recorded before changes
        nothing and gives None. Otherwise: how many addresses were newly suppressed.
        ``on_suppress(key, reason)`` runs inside the transaction (the shared list): if it
        fails, nothing is recorded."""
        now = time.time()
        q = self._sql
        with self._tx() as db:
            if db.execute(q["event_seen"], (self._many([digest, *also_seen_as]),)).fetchone():
                return None
            before = db.total_changes
            for e in entries or (BounceEntry(),):
                db.execute(
                    q["bounce_event"],
                    (
                        digest,
                        now,
                        source,
                        kind,
                        e.address,
                        e.message,
                        e.matched,
                        e.reason,
                        int(e.hard),
                        event_at or now,
                    ),
                )
            if db.total_changes == before:
                return None  # PostgreSQL: a concurrent ingest recorded it first
            suppress: dict[str, str] = {}
            for e in entries:
                if e.message is None:
                    continue  # not tied to a message we sent: recorded for the report, nothing more
                if e.bounced:
                    db.execute(q["bounce_message"], (e.reason, e.message))
                if e.suppress and e.key:
                    suppress.setdefault(e.key, e.suppress)
                elif e.soft and e.key and self._soft_streak_reached(db, e.address, soft_threshold, soft_span):
                    suppress.setdefault(e.key, "soft_bounces")
            added = 0
            for key, reason in suppress.items():
                mark = db.total_changes
                db.execute(q["suppress"], (key, reason, now, "bounce"))
                added += db.total_changes - mark
                if on_suppress is not None:
                    on_suppress(key, reason)
            if added:
                reasons = ",".join(sorted(set(suppress.values())))
                self._audit(db, "suppress.add", {"added": added, "reason": reasons, "source": "bounce"})
            return added

    def _soft_streak_reached(self, db: sqlite3.Connection, address: str, threshold: int, span: float) -> bool:
        """Soft bounces of ``address`` tied to our messages since its last delivery or hard
        bounce: at least ``threshold`` of them, spread over at least ``span`` seconds. Events
        tied to none of our messages (``message`` NULL) never count: anyone can send those."""
        row = db.execute(self._sql["soft_streak"], (address, address)).fetchone()
        return int(row[0]) >= threshold and float(row[1]) >= span

    def unsubscribe(self, message_row: int, *, via: str) -> bool | None:
        """Opt the recipient of ``message_row`` out of follow-ups. True when new, False when
        they already were, None when no such message exists."""
        with self._tx() as db:
            row = db.execute(self._sql["recipient_key_of"], (message_row,)).fetchone()
            if row is None:
                return None
            before = db.total_changes
            db.execute(self._sql["unsubscribe"], (row[0], time.time(), message_row, via))
            new = db.total_changes > before
            if new:
                self._audit(db, "unsubscribe", {"message": message_row, "via": via})
            return new

    def is_unsubscribed(self, message_row: int) -> bool:
        return self._db.execute(self._sql["is_unsubscribed"], (message_row,)).fetchone() is not None

    # ---- bounce matching ----------------------------------------------------------------

    def recipient_key_of(self, message_row: int) -> str | None:
        """The dedupe key of the recipient of ``message_row``; None when no such message."""
        row = self._db.execute(self._sql["recipient_key_of"], (message_row,)).fetchone()
        return None if row is None else str(row[0])

    def message_by_queue_id(self, queue_id: str, key: str) -> int | None:
        """Our message to ``key`` that the relay (SES) knew by ``queue_id``."""
        row = self._db.execute(self._sql["message_by_queue_id"], (queue_id, key)).fetchone()
        return None if row is None else int(row[0])

    def message_by_message_id(self, message_id: str, key: str) -> int | None:
        """Our message to ``key`` with this Message-ID (never another recipient's)."""
        row = self._db.execute(self._sql["message_by_message_id"], (message_id, key)).fetchone()
        return None if row is None else int(row[0])

    def was_sent_to(self, key: str) -> bool:
        """Whether any notice was accepted for ``key``."""
        return self._db.execute(self._sql["was_sent_to"], (key,)).fetchone() is not None

    def event_seen(self, digests: Sequence[str]) -> bool:
        """Whether a bounce or event with one of these digests was recorded."""
        return self._db.execute(self._sql["event_seen"], (self._many(digests),)).fetchone() is not None


map_errors(FeedbackMixin, _driver_error)
