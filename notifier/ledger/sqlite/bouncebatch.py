"""Bounces recorded a batch at a time: what ``record_bounce_outcome`` does for one message, done
for many in ONE transaction, with the lookups made once per batch instead of once per message.

The answers are the ones recording the same messages one after the other gives: a message whose
digest (or an earlier spelling of it) was recorded before, or earlier in the same batch, changes
nothing; each message's events, ``bounced`` states, suppressions and audit entry are the same;
and a soft streak is judged, message by message, on the events recorded before it, those of
earlier messages of the batch included (the streak's SQL, ``soft_streak``, is replayed here on
the address's history read once). A crash leaves the whole batch unrecorded; the next ingest
records it whole.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from notifier.ledger.base import BounceEntry, BounceRecord, map_errors
from notifier.ledger.sqlite.core import LedgerCore, _driver_error

__all__ = ["BounceBatchMixin", "SoftStreak"]


class SoftStreak:
    """One address's tied events as the ``soft_streak`` statement reads them: soft bounces
    (kind bounce, not hard) after its last delivery or hard failure. Events without a time
    (ledgers from before event_at) are left out, as SQL's comparisons and max() leave NULL."""

    __slots__ = ("last_reset", "softs")

    def __init__(self) -> None:
        self.last_reset: float | None = None  # max(event_at) of deliveries and hard failures
        self.softs: list[float] = []

    def add(self, kind: str, hard: bool, event_at: float | None) -> None:
        if event_at is None:
            return
        if kind == "delivered" or hard:
            self.last_reset = event_at if self.last_reset is None else max(self.last_reset, event_at)
        elif kind == "bounce":
            self.softs.append(event_at)

    def reached(self, threshold: int, span: float) -> bool:
        """At least ``threshold`` soft bounces since the last reset, spread over ``span``."""
        since = 0.0 if self.last_reset is None else self.last_reset  # coalesce(..., 0)
        counted = [at for at in self.softs if at > since]
        spread = max(counted) - min(counted) if counted else 0.0
        return len(counted) >= threshold and spread >= span


class BounceBatchMixin(LedgerCore):
    """Recording many bounce messages or events at once, and the bulk lookup matching needs."""

    def recipient_keys_of(self, message_rows: Iterable[int]) -> dict[int, str]:
        """The dedupe key of the recipient of each of ``message_rows`` that exists."""
        rows = list(dict.fromkeys(message_rows))
        if not rows:
            return {}
        found = self._db.execute(self._sql["recipient_keys_of"], (self._many(rows),))
        return {int(row[0]): str(row[1]) for row in found}

    def record_bounce_batch(
        self,
        records: Sequence[BounceRecord],
        *,
        soft_threshold: int = 3,
        soft_span: float = 86400.0,
        on_suppress: Callable[[str, str], None] | None = None,
    ) -> list[int | None]:
        """Record ``records`` in order, in ONE transaction; for each, what
        ``record_bounce_outcome`` would have answered recording them one after the other: None
        when seen before (in the ledger or earlier in the batch), else how many addresses it
        newly suppressed. ``on_suppress(key, reason)`` runs inside the transaction: if it
        fails, nothing of the batch is recorded."""
        if not records:
            return []
        now = time.time()
        q = self._sql
        with self._tx() as db:
            db.execute(q["bounce_lock"])
            asked = sorted({d for r in records for d in (r.digest, *r.also_seen_as)})
            seen = {str(row[0]) for row in db.execute(q["seen_digests"], (self._many(asked),))}
            todo: list[BounceRecord | None] = []
            for r in records:
                if r.digest in seen or any(d in seen for d in r.also_seen_as):
                    todo.append(None)
                else:
                    todo.append(r)
                    seen.add(r.digest)
            tied = [e for r in todo if r is not None for e in r.entries if e.message is not None]
            streaks = self._streaks(db, {e.address for e in tied if e.soft and e.key and not e.suppress})
            wanted = sorted({e.key for e in tied if e.key and (e.suppress or e.soft)})
            known = {str(row[0]) for row in db.execute(q["suppressed"], (self._many(wanted),))}
            events: list[tuple[Any, ...]] = []
            bounced: list[tuple[str, int]] = []
            suppressions: list[tuple[str, str, float, str]] = []
            out: list[int | None] = []
            for maybe in todo:
                if maybe is None:
                    out.append(None)
                    continue
                r = maybe
                at = r.event_at or now
                written: set[str] = set()
                for e in r.entries or (BounceEntry(),):
                    row = (r.digest, now, r.source, r.kind, e.address, e.message, e.matched, e.reason)
                    events.append((*row, int(e.hard), at))
                    if e.address in written:
                        continue  # UNIQUE (digest, address): the insert is ignored
                    written.add(e.address)
                    streak = streaks.get(e.address) if e.message is not None else None
                    if streak is not None:
                        streak.add(r.kind, e.hard, at)
                suppress: dict[str, str] = {}
                for e in r.entries:
                    if e.message is None:
                        continue  # not tied to a message we sent: recorded for the report, nothing more
                    if e.bounced:
                        bounced.append((e.reason, e.message))
                    if e.suppress and e.key:
                        suppress.setdefault(e.key, e.suppress)
                    elif e.soft and e.key and streaks[e.address].reached(soft_threshold, soft_span):
                        suppress.setdefault(e.key, "soft_bounces")
                added = 0
                for key, reason in suppress.items():
                    suppressions.append((key, reason, now, "bounce"))
                    if key not in known:
                        known.add(key)
                        added += 1
                    if on_suppress is not None:
                        on_suppress(key, reason)
                if added:
                    reasons = ",".join(sorted(set(suppress.values())))
                    self._audit(db, "suppress.add", {"added": added, "reason": reasons, "source": "bounce"})
                out.append(added)
            db.executemany(q["bounce_event"], events)
            db.executemany(q["bounce_message"], bounced)
            db.executemany(q["suppress"], suppressions)
            return out

    def _streaks(self, db: sqlite3.Connection, addresses: set[str]) -> dict[str, SoftStreak]:
        """Each address's soft streak as the ledger holds it before this batch."""
        streaks = {address: SoftStreak() for address in addresses}
        if addresses:
            for address, kind, hard, event_at in db.execute(
                self._sql["soft_history"], (self._many(sorted(addresses)),)
            ):
                at = None if event_at is None else float(event_at)
                streaks[str(address)].add(str(kind), bool(hard), at)
        return streaks


map_errors(BounceBatchMixin, _driver_error)
