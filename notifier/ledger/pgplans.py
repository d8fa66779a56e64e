"""One plan for every sender of a shared (PostgreSQL) ledger, and reads that stream.

Several `notify send` processes on one campaign would each read the whole list and run the
segment over it. Instead the plan is made under a lock: the first sender chooses and keeps the
choice (``plans``, ``plan_targets``) under a key naming the notice, the imported lists (each is
one file content), the segment and the options (notifier.pipeline.stages.plan_key); a sender
that comes later takes the same targets in one statement, as long as the plan is fresh: made in
the last few minutes, or some sender is still sending that notice. What can change in between —
the suppression list, opt-outs, complaints, --resend/--retry-failed — every sender settles again
(PlanMixin._settle), as one would.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from notifier.ledger.base import Claimed, PlanSummary
from notifier.ledger.sqlite.claims import ClaimsMixin
from notifier.ledger.sqlite.plan import PlanMixin

__all__ = ["PLAN_FRESH", "SharedPlansMixin"]

PLAN_FRESH = 600.0  # seconds a kept plan is reused without a live sender of its notice
_LOCK_PLAN = 7310004
_PAGE = 5000  # rows per read when streaming the targets


class SharedPlansMixin(PlanMixin, ClaimsMixin):
    """PlanMixin.plan made once per campaign, kept for the senders that start with it."""

    lease: float

    @staticmethod
    def _field_param(name: str) -> str:
        """A field for jsonb's ``->`` (target_groups): its bare name, bound as a parameter."""
        return name

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
        db = self._db
        db.execute("SELECT pg_advisory_lock(%s)", (_LOCK_PLAN,))
        try:
            db.execute(self._sql["clear_targets"])
            self._notice, self._cursor = notice, 0
            if not (shared_key and self._reuse(shared_key, notice)):
                self._choose(notice, list_ids, include, first_notice=first_notice, ledger_state=ledger_state)
                if shared_key:
                    self._keep(shared_key)
            return self._settle(
                resend=resend, retry_failed=retry_failed, never_retried=never_retried, follow_up=follow_up
            )
        finally:
            db.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_PLAN,))

    def _reuse(self, key: str, notice: str) -> bool:
        """Take a fresh kept plan's targets; False when there is none."""
        now = time.time()
        row = self._db.execute(
            "SELECT p.id FROM plans p WHERE p.key = %s AND (p.made_at > %s OR EXISTS "
            "(SELECT 1 FROM senders s WHERE s.notice = %s AND s.run_id IS NOT NULL "
            "AND s.stopped_at IS NULL AND s.heartbeat > %s))",
            (key, now - PLAN_FRESH, notice, now - self.lease),
        ).fetchone()
        if row is None:
            return False
        self._db.execute(
            "INSERT INTO run_targets (id) SELECT message_id FROM plan_targets WHERE plan_id = %s "
            "ON CONFLICT DO NOTHING",
            (row[0],),
        )
        return True

    def _keep(self, key: str) -> None:
        """Keep this plan's targets under ``key`` (replacing an older plan of the same key, and
        dropping plans nobody can reuse any more)."""
        now = time.time()
        with self._tx() as db:
            db.execute(
                "DELETE FROM plan_targets WHERE plan_id IN "
                "(SELECT id FROM plans WHERE key = %s OR made_at < %s)",
                (key, now - PLAN_FRESH),
            )
            db.execute("DELETE FROM plans WHERE key = %s OR made_at < %s", (key, now - PLAN_FRESH))
            row = db.execute(
                "INSERT INTO plans (key, made_at) VALUES (%s, %s) RETURNING id", (key, now)
            ).fetchone()
            db.execute(
                "INSERT INTO plan_targets (plan_id, message_id) SELECT %s, id FROM run_targets", (row[0],)
            )

    def targets_to_send(self, now: float) -> Iterator[Claimed]:
        """Every target this run would attempt, in send order, a page at a time (the driver
        would otherwise hold every row of a million-person plan in memory at once)."""
        last = 0
        while True:
            rows = self._db.execute(
                "SELECT m.id, m.attempts, m.first_attempt_at, m.possibly_duplicated, r.email, r.key, "
                "r.fields, r.source, r.line, r.smtputf8 FROM run_targets t JOIN messages m ON m.id = t.id "
                "JOIN recipients r ON r.id = m.recipient_id WHERE m.state IN ('pending', 'deferred') "
                "AND t.id > %s ORDER BY t.id LIMIT %s",
                (last, _PAGE),
            ).fetchall()
            if not rows:
                return
            last = int(rows[-1][0])
            for row in rows:
                yield self._claimed(row)
