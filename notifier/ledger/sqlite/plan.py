"""Planning a run: choosing its targets from the lists, the segment and the ledger state."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import orjson

from notifier.ledger.base import (
    PlanSummary,
    map_errors,
)
from notifier.ledger.sqlite.core import LedgerCore, _driver_error
from notifier.models import segment_view

__all__ = ["PlanMixin"]

PLAN_BATCH = 5000  # people per segment batch (one read, one write per table)
PLAN_RANGE = 50_000  # recipient ids per statement when everyone is in (bounded write-lock time)


class PlanMixin(LedgerCore):
    """The plan of a run (its targets in the temporary run_targets table)."""

    def plan(
        self,
        notice: str,
        list_ids: list[int],
        include: Callable[[dict[str, Any], str], bool] | None,
        *,
        resend: bool = False,
        retry_failed: bool = False,
        never_retried: Iterable[str] = (),
        first_notice: str = "",
        follow_up: bool = False,
        ledger_state: bool = True,
        shared_key: str = "",
    ) -> PlanSummary:
        """Choose this run's targets: every member of the lists that ``include`` accepts
        (``None``: everyone, chosen in SQL without reading a row into Python).

        Creates missing (notice, recipient) rows as pending, or suppressed when the address
        is on the suppression list, and rows in state invalid for unusable list rows. Segments
        also see each recipient's ledger state: ``first_notice`` (their state for that notice,
        "" if none), ``complained`` and ``unsubscribed`` (``ledger_state=False``: the segment
        reads none of it, so it is not fetched). A ``follow_up`` skips people who
        unsubscribed from follow-ups or complained (state suppressed, with that reason).
        ``retry_failed`` puts back to pending the targets no server accepted (failed, or
        bounced) unless suppressed or failed for one of ``never_retried`` (dead addresses).
        ``shared_key`` names the plan for other senders of a shared ledger (PostgreSQL reuses
        a fresh plan of the same key instead of choosing again; one SQLite sender ignores it).

        Linear in the lists: members are read in recipient-id order from where the last batch
        stopped (no sort of what is left), each batch written in one statement per table.
        """
        self._db.execute(self._sql["clear_targets"])
        self._notice, self._cursor = notice, 0
        self._choose(notice, list_ids, include, first_notice=first_notice, ledger_state=ledger_state)
        return self._settle(
            resend=resend, retry_failed=retry_failed, never_retried=never_retried, follow_up=follow_up
        )

    def _choose(
        self,
        notice: str,
        list_ids: list[int],
        include: Callable[[dict[str, Any], str], bool] | None,
        *,
        first_notice: str,
        ledger_state: bool,
    ) -> None:
        """Fill run_targets with the segment's members and the list rows it would take that
        cannot be used (planned as invalid)."""
        db, q = self._db, self._sql
        lists = self._many(list_ids)
        if include is None:
            low, high = db.execute(q["recipient_id_range"]).fetchone()
            start = (low or 1) - 1
            while high is not None and start < high:
                with self._tx():
                    db.execute(q["plan_all_messages"], (notice, lists, start, start + PLAN_RANGE))
                    db.execute(q["plan_all_targets"], (notice, lists, start, start + PLAN_RANGE))
                start += PLAN_RANGE
        else:
            last = 0
            while True:
                batch = db.execute(q["plan_batch"], (last, lists, PLAN_BATCH)).fetchall()
                if not batch:
                    break
                last = batch[-1][0]
                states = (
                    self.audience_states(notice, first_notice, [b[5] for b in batch]) if ledger_state else {}
                )
                chosen = [
                    rid
                    for rid, fields_json, email, source, line, key in batch
                    if include(
                        segment_view(orjson.loads(fields_json), email, states.get(key)), f"{source}:{line}"
                    )
                ]
                if chosen:
                    with self._tx():
                        db.execute(q["plan_message"], (notice, self._many(chosen)))
                        db.execute(q["plan_target"], (notice, self._many(chosen)))
        chosen_issues = []
        for iid, fields_json, path, line in db.execute(q["plan_issues"], (lists,)).fetchall():
            keep = True
            if fields_json is not None and include is not None:
                view = segment_view(orjson.loads(fields_json), "")
                try:
                    keep = include(view, f"{path}:{line}")
                except Exception:  # a row we could not read fully still has to be reported
                    keep = True
            if keep:
                chosen_issues.append(iid)
        with self._tx():
            db.executemany(q["plan_invalid"], [(notice, iid) for iid in chosen_issues])
            db.executemany(q["plan_issue_target"], [(notice, iid) for iid in chosen_issues])

    def _settle(
        self, *, resend: bool, retry_failed: bool, never_retried: Iterable[str], follow_up: bool
    ) -> PlanSummary:
        """The chosen targets' states for this run: resend, retry, follow-up opt-outs and the
        suppression list as it is now; then the counts."""
        db, q = self._db, self._sql
        with self._tx():
            dead = self._many(never_retried)
            failed_before: dict[tuple[str, str], tuple[int, int]] = {}
            for how, reason, retryable, n in db.execute(q["plan_failed_before"], (dead,)).fetchall():
                again, kept = failed_before.get((how, reason), (0, 0))
                failed_before[how, reason] = (again + n, kept) if retryable else (again, kept + n)
            if resend:
                db.execute(q["plan_resend"])
            elif retry_failed:
                db.execute(q["plan_retry_failed"], (dead,))
            if follow_up:  # unsubscribed, or complained about a message we sent
                db.execute(q["plan_skip_unsubscribed"])
                db.execute(q["plan_skip_complained"])
            # The suppression list may have changed since the rows were planned.
            db.execute(q["plan_resuppress"])
            db.execute(q["plan_unsuppress"])
        by_state = dict(db.execute(q["plan_counts"]).fetchall())
        return PlanSummary(
            targets=sum(by_state.values()),
            by_state=by_state,
            failed_before=failed_before,
            retried=retry_failed and not resend,
        )


map_errors(PlanMixin, _driver_error)
