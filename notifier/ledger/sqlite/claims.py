"""A run: its targets, claiming them, recording their outcomes, releasing the rest."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from notifier.ledger.audit import (
    canonical,
)
from notifier.ledger.base import (
    Claimed,
    Result,
    map_errors,
)
from notifier.ledger.sqlite.core import LedgerCore, _driver_error, _new_id, _user
from notifier.models import Recipient

__all__ = ["ClaimsMixin"]


class ClaimsMixin(LedgerCore):
    """A run's records. recover_in_flight, claim and _record are SQLite's own (one sender, the
    file lock): PgLedger overrides them with leases and FOR UPDATE SKIP LOCKED."""

    def keep_targets(self, keep: Callable[[dict[str, Any]], bool]) -> int:
        """Narrow this run's due targets to those ``keep`` accepts; returns how many are due."""
        rows = self._db.execute(self._sql["due_targets"]).fetchall()
        drop = [(i,) for i, fields, email in rows if not keep({**json.loads(fields), "email": email})]
        with self._tx() as db:
            db.executemany(self._sql["drop_target"], drop)
        return len(rows) - len(drop)

    def targets_to_send(self, now: float) -> Iterator[Claimed]:
        """Every target this run would attempt (pending, or deferred and due), in send order."""
        for row in self._db.execute(self._sql["targets_to_send"]):
            yield self._claimed(row)

    _claim_select = (
        "SELECT m.id, m.attempts, m.first_attempt_at, m.possibly_duplicated, r.email, r.key, r.fields, "
        "r.source, r.line, r.smtputf8 FROM run_targets t JOIN messages m ON m.id=t.id "
        "JOIN recipients r ON r.id=m.recipient_id"
    )

    @staticmethod
    def _claimed(row: tuple[Any, ...]) -> Claimed:
        mid, attempts, first, dup, email, key, fields, source, line, utf8 = row
        return Claimed(
            row=mid,
            recipient=Recipient(email, key, source, line, json.loads(fields), bool(utf8)),
            attempts=attempts,
            first_attempt_at=first,
            possibly_duplicated=bool(dup),
        )

    def start_run(self, notice: str, segment: str, transport: str, options: dict[str, Any]) -> int:
        user = _user()
        with self._tx() as db:
            run_id = _new_id(
                db,
                self._sql["start_run"],
                (
                    notice,
                    segment,
                    time.time(),
                    os.getpid(),
                    socket.gethostname(),
                    user,
                    transport,
                    json.dumps(options),
                ),
            )
        self._run_id = run_id
        return run_id

    def recover_in_flight(self) -> int:
        """Messages a dead run left in ``sending``: flag them and send them again.

        Only valid while holding the send lock (no live run can own them).
        """
        with self._tx() as db:
            cur = db.execute(
                "UPDATE messages SET state='pending', possibly_duplicated=1 WHERE state='sending'"
            )
            db.execute(
                "UPDATE runs SET status='killed' WHERE status='running' AND id != ?", (self._run_id or 0,)
            )
        return cur.rowcount

    def claim(self, run_id: int, limit: int, now: float, results: list[Result]) -> list[Claimed]:
        """Record ``results``, then mark up to ``limit`` due targets ``sending``; one commit."""
        db = self._db
        with self._tx():
            self._record(run_id, results)
            rows = db.execute(
                self._claim_select + " WHERE t.id > ? AND m.state='pending' ORDER BY t.id LIMIT ?",
                (self._cursor, limit),
            ).fetchall()
            if rows:
                self._cursor = rows[-1][0]
            if len(rows) < limit:
                # Due retries, found through the (notice, state, next_attempt_at) index.
                rows += db.execute(
                    "SELECT m.id, m.attempts, m.first_attempt_at, m.possibly_duplicated, r.email, r.key, "
                    "r.fields, r.source, r.line, r.smtputf8 FROM messages m "
                    "JOIN recipients r ON r.id=m.recipient_id WHERE m.notice=? AND m.state='deferred' "
                    "AND m.next_attempt_at <= ? AND m.id IN (SELECT id FROM run_targets) "
                    "ORDER BY m.next_attempt_at LIMIT ?",
                    (self._notice, now, limit - len(rows)),
                ).fetchall()
            db.executemany(
                "UPDATE messages SET state='sending', run_id=? WHERE id=?", [(run_id, r[0]) for r in rows]
            )
        return [self._claimed(r) for r in rows]

    def record(self, run_id: int, results: list[Result]) -> None:
        if results:
            with self._tx():
                self._record(run_id, results)

    def _record(self, run_id: int, results: list[Result]) -> None:
        if not results:
            return
        self._db.executemany(
            "UPDATE messages SET state=?, attempts=attempts+1, "
            "first_attempt_at=COALESCE(first_attempt_at, ?), "
            "last_attempt_at=?, next_attempt_at=?, last_code=?, last_text=?, queue_id=?, message_id=?, "
            "reason=?, possibly_duplicated=CASE WHEN ? THEN 1 ELSE possibly_duplicated END, "
            "sent_at=CASE WHEN ?='sent' THEN ? ELSE sent_at END WHERE id=?",
            [
                (
                    r.state.value,
                    r.at,
                    r.at,
                    r.next_attempt_at,
                    r.code,
                    r.text,
                    r.queue_id,
                    r.message_id,
                    r.reason,
                    int(r.possibly_duplicated),
                    r.state.value,
                    r.at,
                    r.row,
                )
                for r in results
            ],
        )
        self._db.executemany(
            "INSERT INTO attempts (message, run_id, at, verdict, code, text, queue_id, reason) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(r.row, run_id, r.at, r.verdict, r.code, r.text, r.queue_id, r.reason) for r in results],
        )
        hard = [r for r in results if r.suppress]
        if hard:
            self._db.executemany(
                "INSERT OR IGNORE INTO suppressions (key, reason, at, source) SELECT r.key, ?, ?, 'smtp' "
                "FROM messages m JOIN recipients r ON r.id = m.recipient_id WHERE m.id = ?",
                [(r.reason or "hard", r.at, r.row) for r in hard],
            )

    def release(self, rows: Iterable[int]) -> None:
        """Claimed but never handed over (a clean stop): back to their earlier state."""
        ids = list(rows)
        if ids:
            with self._tx() as db:
                db.executemany(self._sql["release"], [(i,) for i in ids])

    def next_retry_at(self) -> float | None:
        row = self._db.execute(self._sql["next_retry_at"], (self._notice,)).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def record_check(
        self, *, kind: str, notice: str, run_id: int | None, failed: list[str], report: dict[str, Any]
    ) -> None:
        """Keep a check report (a pre-send gate, or a --force override) with who and when."""
        with self._tx() as db:
            db.execute(
                self._sql["record_check"],
                (time.time(), _user(), kind, notice, run_id, ",".join(failed), json.dumps(report)),
            )
            self._audit(
                db,
                "check.override" if kind == "override" else "check.report",
                {
                    "kind": kind,
                    "notice": notice,
                    "run": run_id,
                    "failed": failed,
                    "report_sha256": hashlib.sha256(canonical(report).encode()).hexdigest(),
                },
            )

    def record_test(self, *, notice: str, seed: str, accepted: bool, reply: str) -> None:
        """A test send to a seed address (from the preview); kept apart from notices."""
        with self._tx() as db:
            db.execute(self._sql["record_test"], (time.time(), _user(), notice, seed, int(accepted), reply))

    def end_run(self, run_id: int, status: str, summary: dict[str, Any]) -> None:
        with self._tx() as db:
            db.execute(self._sql["end_run"], (time.time(), status, json.dumps(summary), run_id))
            self._audit(db, "send.stop", {"run": run_id, "status": status, "summary": summary})


map_errors(ClaimsMixin, _driver_error)
