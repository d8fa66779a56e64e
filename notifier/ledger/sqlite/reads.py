"""Read-only questions: audience state, deadlines, views for status and reports, run and schedule reads."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from typing import Any

from notifier.ledger.base import (
    ListImport,
    NoticeStatus,
    OutcomeRow,
    ReportRow,
    RunRecord,
    ScheduleRow,
    map_errors,
)
from notifier.ledger.sqlite.core import LedgerCore, _driver_error, _new_id, _user
from notifier.models import LedgerState

__all__ = ["ReadsMixin"]


class ReadsMixin(LedgerCore):
    """The reads the views, the audience, a run and the follow-up schedule ask (and the few
    writes of filings and schedules that go with them)."""

    # ---- audience reads ---------------------------------------------------------------------
    # Read-only questions notifier.lists.audience asks about people it found in the lists (by
    # dedupe key), so every command sees the same ledger state as `send`'s plan.

    def states_for(self, notice: str, keys: Sequence[str]) -> dict[str, str]:
        """Each key's message state for ``notice`` (keys never planned for it are absent)."""
        if not notice or not keys:
            return {}
        rows = self._db.execute(self._sql["states_for"], (notice, self._many(keys))).fetchall()
        return {str(k): str(v) for k, v in rows}

    def complained(self, keys: Sequence[str]) -> set[str]:
        """Keys with a complaint tied to a message we sent (a forged report naming an address
        without one of our messages changes nothing)."""
        if not keys:
            return set()
        many = self._many(keys)
        return {str(r[0]) for r in self._db.execute(self._sql["complained"], (many, many)).fetchall()}

    def unsubscribed(self, keys: Sequence[str]) -> set[str]:
        """Keys that opted out of follow-ups."""
        if not keys:
            return set()
        rows = self._db.execute(self._sql["unsubscribed"], (self._many(keys),)).fetchall()
        return {str(r[0]) for r in rows}

    def suppressed(self, keys: Sequence[str]) -> dict[str, str]:
        """Keys on the suppression list, with the reason."""
        if not keys:
            return {}
        rows = self._db.execute(self._sql["suppressed"], (self._many(keys),)).fetchall()
        return {str(k): str(v) for k, v in rows}

    def audience_states(self, notice: str, first_notice: str, keys: Sequence[str]) -> dict[str, LedgerState]:
        """The ledger state of each key that has any (the others have none yet), in the few
        reads above: what a segment sees beside the list row."""
        first = self.states_for(first_notice, keys)
        this = first if notice == first_notice else self.states_for(notice, keys)
        complained, unsubscribed = self.complained(keys), self.unsubscribed(keys)
        suppressed = self.suppressed(keys)
        out = {}
        for key in {*first, *this, *complained, *unsubscribed, *suppressed}:
            out[key] = LedgerState(
                first_notice=first.get(key, ""),
                state=this.get(key, ""),
                complained=key in complained,
                unsubscribed=key in unsubscribed,
                suppressed=suppressed.get(key, ""),
            )
        return out

    def accepted_at(self, notice: str, keys: Sequence[str]) -> dict[str, float]:
        """When a server accepted ``notice`` for each key (sent, or sent then bounced)."""
        if not keys:
            return {}
        rows = self._db.execute(self._sql["accepted_at"], (notice, self._many(keys))).fetchall()
        return {str(k): float(t) for k, t in rows}

    def filings(self) -> dict[str, tuple[float, str, str]]:
        """Regulator filings marked done: rule id -> (when, reference, who)."""
        return {
            str(r[0]): (float(r[1]), str(r[2]), str(r[3]))
            for r in self._db.execute(self._sql["filings"]).fetchall()
        }

    def mark_filed(self, rule: str, at: float, ref: str) -> None:
        """Record a regulator filing as done (a later mark of the same rule replaces it), audited."""
        with self._tx() as db:
            db.execute(self._sql["mark_filed"], (rule, at, ref, _user(), time.time()))
            self._audit(db, "deadline.done", {"rule": rule, "at": at, "ref": ref})

    # ---- reading ------------------------------------------------------------------------

    def notices(self) -> list[str]:
        return [r[0] for r in self._db.execute(self._sql["notices"])]

    def counts(self, notice: str) -> dict[str, int]:
        return dict(self._db.execute(self._sql["counts"], (notice,)).fetchall())

    def notice_status(self, notice: str, *, show: int = 20) -> NoticeStatus:
        """One notice's states, retry queue, errors by reply code, reasons and the first
        ``show`` recipients flagged possibly duplicated (for `notify status`)."""
        db, q = self._db, self._sql
        deferred, next_at = db.execute(q["status_deferred"], (notice,)).fetchone()
        return NoticeStatus(
            notice=notice,
            counts=self.counts(notice),
            deferred=int(deferred),
            next_retry_at=None if next_at is None else float(next_at),
            errors=[(c, int(n), t or "") for c, n, t in db.execute(q["status_errors"], (notice,)).fetchall()],
            reasons={r: int(n) for r, n in db.execute(q["status_reasons"], (notice,)).fetchall()},
            duplicated=int(db.execute(q["status_duplicated"], (notice,)).fetchone()[0]),
            duplicated_emails=[
                e for (e,) in db.execute(q["status_duplicated_emails"], (notice, show)).fetchall()
            ],
        )

    def outcome_rows(self, notice: str) -> Iterator[OutcomeRow]:
        for mid, domain, state, reason, delivered, complained in self._db.execute(
            self._sql["outcome_rows"], (notice,)
        ).fetchall():
            yield OutcomeRow(mid, domain, state, reason, bool(delivered), bool(complained))

    def recent_lists(self, limit: int = 10) -> list[ListImport]:
        return [ListImport(*r) for r in self._db.execute(self._sql["recent_lists"], (limit,)).fetchall()]

    def recent_runs(self, limit: int = 5) -> list[RunRecord]:
        rows = self._db.execute(self._sql["recent_runs"], (limit,)).fetchall()
        return [RunRecord(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], json.loads(r[8])) for r in rows]

    def report_rows(
        self, *, states: Sequence[str] = (), notice: str | None = None, possibly_duplicated: bool = False
    ) -> Iterator[ReportRow]:
        """Every (notice, recipient or rejected row) the filters keep, in notice and plan order."""
        params = (len(states), self._many(states), notice, notice, int(possibly_duplicated))
        for row in self._db.execute(self._sql["report_rows"], params):
            mid, rid, notice_, state, email, fields, attempts, code, text = row[:9]
            qid, msgid, first, last, sent, dup, source, line, reason = row[9:]
            yield ReportRow(
                message=mid,
                recipient_id=rid,
                notice=notice_,
                state=state,
                email=email or "",
                fields=json.loads(fields or "{}"),
                attempts=attempts,
                last_code=code,
                last_reply=text or "",
                reason=reason or "",
                queue_id=qid or "",
                message_id=msgid or "",
                first_attempt_at=first,
                last_attempt_at=last,
                sent_at=sent,
                possibly_duplicated=bool(dup),
                source=source or "",
                line=line,
            )

    def schedule_rows(self) -> list[ScheduleRow]:
        return [ScheduleRow(*r) for r in self._db.execute(self._sql["schedule_rows"]).fetchall()]

    # ---- run and schedule reads ---------------------------------------------------------
    # What notifier.pipeline.run and notifier.followups.schedule ask.

    def first_sent_at(self, notice: str) -> float | None:
        """When the first message of ``notice`` was accepted (None: not yet)."""
        row = self._db.execute(self._sql["first_sent_at"], (notice,)).fetchone()
        return None if not row or row[0] is None else float(row[0])

    def oldest_sent_since(self, since: float) -> float | None:
        """The oldest acceptance after ``since`` (for the SES 24-hour quota window)."""
        row = self._db.execute(self._sql["oldest_sent_since"], (since,)).fetchone()
        return None if not row or row[0] is None else float(row[0])

    def complete_lists(self) -> dict[str, str]:
        """Path -> SHA-256 of the latest complete import of each list (for the audit trail)."""
        rows = self._db.execute(self._sql["complete_lists"]).fetchall()
        return {str(p): str(d) for p, d in rows}

    def waiting_in_run(self) -> int:
        """Messages of the current run's targets that wait for a retry."""
        row = self._db.execute(self._sql["waiting_in_run"]).fetchone()
        return int(row[0]) if row else 0

    def schedules(self) -> list[tuple[Any, ...]]:
        """Every schedule, oldest first, in the column order of followups.schedule.Schedule."""
        return [tuple(r) for r in self._db.execute(self._sql["schedules"]).fetchall()]

    def add_schedule(
        self,
        *,
        notice: str,
        segment: str,
        after_s: float | None,
        at: float | None,
        window: str,
        created_at: float,
        created_by: str,
    ) -> int:
        with self._tx() as db:
            params = (notice, segment, after_s, at, window, created_at, created_by)
            return _new_id(db, self._sql["add_schedule"], params)

    def set_schedule_state(
        self,
        schedule_id: int,
        state: str,
        note: str,
        *,
        last_run_at: float | None = None,
        confirmed_at: float | None = None,
    ) -> None:
        """A new state and note; last_run_at and confirmed_at change only when given."""
        with self._tx() as db:
            db.execute(self._sql["set_schedule_state"], (state, note, last_run_at, confirmed_at, schedule_id))


map_errors(ReadsMixin, _driver_error)
