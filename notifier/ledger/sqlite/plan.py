"""Planning a run: choosing its targets from the lists, the segment and the ledger state."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from notifier.ledger.base import (
    PlanSummary,
    map_errors,
)
from notifier.ledger.sqlite.core import BATCH, LedgerCore, _driver_error
from notifier.models import segment_view

__all__ = ["PlanMixin"]


class PlanMixin(LedgerCore):
    """The plan of a run (its targets in the temporary run_targets table)."""

    def plan(
        self,
        notice: str,
        list_ids: list[int],
        include: Callable[[dict[str, Any], str], bool],
        *,
        resend: bool = False,
        retry_failed: bool = False,
        never_retried: Iterable[str] = (),
        first_notice: str = "",
        follow_up: bool = False,
    ) -> PlanSummary:
        """Choose this run's targets: every member of the lists that ``include`` accepts.

        Creates missing (notice, recipient) rows as pending, or suppressed when the address
        is on the suppression list, and rows in state invalid for unusable list rows. Segments
        also see each recipient's ledger state: ``first_notice`` (their state for that notice,
        "" if none), ``complained`` and ``unsubscribed``. A ``follow_up`` skips people who
        unsubscribed from follow-ups or complained (state suppressed, with that reason).
        ``retry_failed`` puts back to pending the targets no server accepted (failed, or
        bounced) unless suppressed or failed for one of ``never_retried`` (dead addresses).
        """
        db, q = self._db, self._sql
        db.execute(q["clear_targets"])
        self._notice, self._cursor = notice, 0
        lists = self._many(list_ids)
        last = 0
        while True:
            batch = db.execute(q["plan_batch"], (lists, last, BATCH)).fetchall()
            if not batch:
                break
            last = batch[-1][0]
            chosen = []
            states = self.audience_states(notice, first_notice, [b[5] for b in batch])
            for rid, fields_json, email, source, line, key in batch:
                view = segment_view(json.loads(fields_json), email, states.get(key))
                if include(view, f"{source}:{line}"):
                    chosen.append(rid)
            with self._tx():
                db.executemany(q["plan_message"], [(notice, rid) for rid in chosen])
                db.executemany(q["plan_target"], [(notice, rid) for rid in chosen])
        issues = db.execute(q["plan_issues"], (lists,)).fetchall()
        chosen_issues = []
        for iid, fields_json, path, line in issues:
            keep = True
            if fields_json is not None:
                view = segment_view(json.loads(fields_json), "")
                try:
                    keep = include(view, f"{path}:{line}")
                except Exception:  # a row we could not read fully still has to be reported
                    keep = True
            if keep:
                chosen_issues.append(iid)
        with self._tx():
            db.executemany(q["plan_invalid"], [(notice, iid) for iid in chosen_issues])
            db.executemany(q["plan_issue_target"], [(notice, iid) for iid in chosen_issues])
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
