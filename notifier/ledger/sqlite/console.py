"""The console's reads (notify preview): attempts over time, each person's state and history."""

from __future__ import annotations

from collections.abc import Sequence

from notifier.ledger.base import PersonEvent, PersonState, map_errors
from notifier.ledger.sqlite.core import LedgerCore, _driver_error

__all__ = ["ConsoleMixin"]


class ConsoleMixin(LedgerCore):
    """Read-only questions the campaign console asks; nothing here writes."""

    def attempt_timeline(self, notice: str, bucket: int = 60) -> list[tuple[float, str, int]]:
        """Attempts at ``notice`` per ``bucket`` seconds: (bucket start, verdict, how many),
        in time order. Verdicts are accepted, temporary (deferred) and permanent (failed)."""
        rows = self._db.execute(self._sql["attempt_timeline"], (bucket, bucket, notice)).fetchall()
        return [(float(at), str(verdict), int(n)) for at, verdict, n in rows]

    def people_states(self, notice: str, keys: Sequence[str]) -> dict[str, PersonState]:
        """Each key's message for ``notice``: state, attempts, reason, last reply code."""
        if not notice or not keys:
            return {}
        rows = self._db.execute(self._sql["people_states"], (notice, self._many(keys))).fetchall()
        return {
            str(k): PersonState(str(state), int(attempts or 0), str(reason or ""), code, int(rid))
            for k, state, attempts, reason, code, rid in rows
        }

    def person_events(self, key: str) -> list[PersonEvent]:
        """Everything the ledger recorded about one person (by dedupe key), oldest first:
        attempts (accepted, deferred, failed), bounces, complaints and delays, an unsubscribe,
        a suppression."""
        rows = self._db.execute(self._sql["person_events"], (key,) * 5).fetchall()
        events = [PersonEvent(float(at), str(n), str(k), str(d or "")) for at, n, k, d in rows]
        return sorted(events, key=lambda e: e.at)


map_errors(ConsoleMixin, _driver_error)
