"""The embedded ledger: one SQLite file per campaign, created 0600.

Crash safety: a message is marked ``sending`` in a committed transaction before it is
handed to the transport, and its outcome is committed (in small groups) after. A hard
kill therefore leaves only in-flight messages in ``sending``; the next run marks them
``possibly_duplicated`` and sends them again, so nobody is forgotten. WAL mode keeps
readers (`notify status`) from blocking the sender. One `notify send` at a time holds
an exclusive lock on ``<ledger>.lock``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import socket
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from notifier.errors import ConfigError, LedgerDamaged, LedgerError
from notifier.ledger.audit import (
    CREATE,
    GENESIS,
    UPGRADE,
    AuditEntry,
    AuditKey,
    Head,
    canonical,
    entry_mac,
    head_mac,
    key_id,
    operator,
)
from notifier.ledger.base import (
    BounceEntry,
    Claimed,
    ImportSummary,
    ListImport,
    NoticeStatus,
    OutcomeRow,
    PlanSummary,
    ReportRow,
    Result,
    RunRecord,
    ScheduleRow,
    map_errors,
)
from notifier.ledger.schema import ADDED_COLUMNS, DDL, SCHEMA_VERSION
from notifier.ledger.statements_sqlite import SQL
from notifier.locks import hold_lock
from notifier.models import LedgerState, ListRow, Recipient, segment_view

__all__ = ["BounceEntry", "Claimed", "ImportSummary", "PlanSummary", "Result", "SqliteLedger"]

BATCH = 2000



def _driver_error(ledger: SqliteLedger, exc: Exception) -> Exception | None:
    """sqlite3's errors as the project's: a locked, read-only or full database can be fixed and
    the command run again (exit 1); anything else is damage the opening checks could not see, a
    page deep in the file (exit 2, restore a backup)."""
    if not isinstance(exc, sqlite3.Error):
        return None
    if isinstance(exc, sqlite3.OperationalError):
        return LedgerError(
            f"the ledger {ledger.label} failed: {exc}",
            hint="fix the cause (another program holding it, permissions, a full disk) and run the "
            "same command again; it resumes",
        )
    return LedgerDamaged(
        f"the ledger {ledger.label} failed: {exc}",
        hint="if it says malformed or not a database, restore it from a backup; otherwise fix the "
        "cause and run the same command again",
    )


def _new_id(db: Any, statement: str, params: Sequence[Any]) -> int:
    """The id of the row an ``INSERT ... RETURNING id`` statement made (both dialects)."""
    rows = db.execute(statement, params).fetchall()  # read to the end: the statement is done
    return int(rows[0][0])


def _user() -> str:
    """The operating-system user, for the record of who did what."""
    return operator()[0]


def _create_private(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
        os.close(fd)


class SqliteLedger:
    """The ledger of one campaign. Not shared between threads."""

    _sql = SQL  # this dialect's statements, by name

    def __init__(self, path: Path, *, shared: bool = False, audit_key: AuditKey | None = None) -> None:
        """``shared``: the caller serialises use across threads itself (the preview).
        ``audit_key``: the campaign's (open_ledger passes it); without one, a scratch key."""
        self.path = path
        self.audit_source = audit_key or AuditKey(path.parent / ".notify" / "audit.key", scratch=True)
        self._audit_keyed: tuple[bytes, str] | None = None
        try:
            _create_private(path)
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=not shared)
        except (OSError, sqlite3.Error) as exc:
            raise LedgerError(f"cannot open the ledger {path}: {exc}") from None
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # durable against process kills in WAL mode
            self._db.execute("PRAGMA busy_timeout=10000")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            # The first statements are where a wrong or damaged file shows ("file is not a
            # database", "database disk image is malformed"): say so, not a traceback.
            self._db.close()
            if isinstance(exc, sqlite3.OperationalError):  # locked, read-only, disk I/O
                raise LedgerError(f"cannot open the ledger {path}: {exc}") from None
            raise LedgerDamaged(
                f"the ledger {path} is not a notify ledger or is damaged ({exc})",
                hint="restore it from a backup; if it is the wrong file, fix [ledger] path in notify.toml",
            ) from None
        self._lock_fd: int | None = None
        self._run_id: int | None = None
        self._notice = ""
        self._cursor = 0  # highest pending target claimed so far in this run

    # ---- set-up -------------------------------------------------------------------------

    def _migrate(self) -> None:
        db = self._db
        db.executescript(DDL)
        for table, column, kind in ADDED_COLUMNS:
            have = {r[1] for r in db.execute(f"PRAGMA table_info({table})")}
            if column not in have:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        self._check_schema_version("upgrade notify before using this campaign")
        db.execute("CREATE TEMP TABLE IF NOT EXISTS run_targets (id INTEGER PRIMARY KEY)")

    def _check_schema_version(self, hint: str) -> None:
        """Record this build's schema version, or refuse a ledger a newer notify wrote."""
        row = self._db.execute(self._sql["meta_get"], ("schema_version",)).fetchone()
        if row is not None and int(row[0]) > SCHEMA_VERSION:
            raise LedgerError(
                f"{self.label} was written by a newer notify (schema {row[0]}, this one knows "
                f"{SCHEMA_VERSION})",
                hint=hint,
            )
        if row is not None and int(row[0]) == SCHEMA_VERSION:
            return
        # A new ledger's log starts with a keyed entry (so an emptied log shows); an older
        # ledger's log gets one that vouches for its unkeyed entries. Same transaction as the
        # version, so no ledger of this schema lacks it.
        with self._tx() as db:
            row = db.execute(self._sql["meta_get"], ("schema_version",)).fetchone()
            if row is not None and int(row[0]) >= SCHEMA_VERSION:
                return  # another process got here first
            _, origin = self._audit_key(db)
            db.execute(self._sql["meta_set"], ("schema_version", str(SCHEMA_VERSION)))
            if row is None:
                self._audit(db, CREATE, {"schema": SCHEMA_VERSION, "key": origin})
            else:
                entries = db.execute(self._sql["audit_count"]).fetchone()[0]
                details = {"from": int(row[0]), "to": SCHEMA_VERSION, "entries": entries, "key": origin}
                self._audit(db, UPGRADE, details)

    def secret(self) -> bytes:
        """The campaign's token key, made on first use and kept in this 0600 file."""
        row = self._db.execute(self._sql["meta_get"], ("token_key",)).fetchone()
        if row:
            return bytes.fromhex(row[0])
        key = secrets.token_bytes(32)
        self._db.execute(self._sql["meta_add"], ("token_key", key.hex()))
        return self.secret()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self._db.execute(self._sql["begin"])
        try:
            yield self._db
        except BaseException:
            self._db.execute(self._sql["rollback"])
            raise
        self._db.execute(self._sql["commit"])

    def lock(self) -> None:
        """Take the campaign's send lock. Raises LedgerBusyError if another send holds it."""
        fd = hold_lock(
            Path(f"{self.path}.lock"),
            "another `notify send` is running on this campaign ({holder})",
            "wait for it to finish, or stop it with Ctrl-C; two senders would duplicate work",
        )
        self._lock_fd = fd

    def copy_to(self, path: Path) -> None:
        """A consistent copy of the whole ledger (for --dry-run), created 0600."""
        _create_private(path)
        dest = sqlite3.connect(path)
        try:
            self._db.backup(dest)
        finally:
            dest.close()

    def close(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
        self._db.close()

    # ---- lists ---------------------------------------------------------------------------

    def find_import(self, path: str, sha256: str) -> ImportSummary | None:
        row = self._db.execute(self._sql["find_import"], (path, sha256)).fetchone()
        if row is None:
            return None
        return ImportSummary(row[0], path, row[1], row[2], row[3], row[4], row[5], reused=True)

    @contextlib.contextmanager
    def _import_lock(self) -> Iterator[None]:
        """One import at a time per ledger: an import clears what a killed one left, so it
        must never clear one that is still running in another process. Waits its turn."""
        fd = os.open(f"{self.path}.import-lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock; the kernel does the same when a process dies

    def import_list(self, path: str, sha256: str, rows: Iterable[ListRow]) -> ImportSummary:
        """Stream ``rows`` into the ledger in batches; merge duplicates; keep every reject.

        Resumable: the batches commit as they go (so a long import never holds the write lock
        for long), under a ``lists`` row that is marked complete in the last transaction. An
        import killed half-way leaves an incomplete row; the next import of any list first
        deletes every incomplete import with its members and issues, in one transaction, so the
        rerun counts exactly what one clean import counts. Recipient rows the killed import
        wrote are rewritten by the rerun as a clean import would write them.
        """
        with self._import_lock():
            found = self.find_import(path, sha256)
            if found:
                return found
            return self._import_rows(path, sha256, rows)

    def _import_rows(self, path: str, sha256: str, rows: Iterable[ListRow]) -> ImportSummary:
        db, q = self._db, self._sql
        with self._tx():
            stale = [r[0] for r in db.execute(q["stale_imports"]).fetchall()]
            for old in stale:
                self._forget_list(old)
            db.execute(q["drop_stale_imports"])
            list_id = _new_id(db, q["new_import"], (path, sha256, time.time()))
            # SQLite reuses the highest id once its row is gone; an older build deleted
            # interrupted imports without their rows, which would now count as this list's.
            self._forget_list(list_id)
        n = valid = invalid = dupes = warns = 0
        pending = 0
        db.execute(q["begin"])
        try:
            for item in rows:
                n += 1
                if item.reject is not None:
                    rj = item.reject
                    invalid += 1
                    db.execute(
                        q["add_reject"],
                        (
                            list_id,
                            rj.line,
                            rj.kind,
                            rj.reason,
                            rj.email,
                            rj.raw,
                            json.dumps(rj.fields) if rj.fields is not None else None,
                        ),
                    )
                else:
                    assert item.recipient is not None
                    merged = self._upsert(list_id, item.recipient)
                    if merged:
                        dupes += 1
                    else:
                        valid += 1
                    for w in item.warnings:
                        warns += 1
                        db.execute(q["add_warning"], (list_id, item.recipient.line, w, item.recipient.email))
                pending += 1
                if pending >= BATCH:
                    db.execute(q["commit"])
                    db.execute(q["begin"])
                    pending = 0
            db.execute(q["complete_import"], (n, valid, invalid, dupes, warns, list_id))
            self._audit(
                db,
                "list.import",
                {
                    "list": path,
                    "sha256": sha256,
                    "rows": n,
                    "valid": valid,
                    "rejected": invalid,
                    "merged": dupes,
                },
            )
            db.execute(q["commit"])
        except BaseException:
            db.execute(q["rollback"])
            raise
        return ImportSummary(list_id, path, n, valid, invalid, dupes, warns, reused=False)

    def _forget_list(self, list_id: int) -> None:
        """Delete the members and issues of an import that never completed (inside a
        transaction). Nothing else refers to them: only complete imports are planned."""
        self._db.execute(self._sql["forget_members"], (list_id,))
        self._db.execute(self._sql["forget_issues"], (list_id,))

    def _upsert(self, list_id: int, r: Recipient) -> bool:
        """Insert or update one recipient; True when it merged into an earlier row of this list."""
        db, q = self._db, self._sql
        row = db.execute(q["recipient_by_key"], (r.key,)).fetchone()
        if row is None:
            row_values = (r.key, r.email, json.dumps(r.fields), r.source, r.line, int(r.smtputf8))
            rid = _new_id(db, q["add_recipient"], row_values)
            db.execute(q["add_member"], (list_id, rid))
            return False
        rid, fields_json, first_line = row
        member = db.execute(q["is_member"], (list_id, rid)).fetchone()
        if member is None:
            # This list's row for someone seen in another list (or an older version): it wins.
            values = (r.email, json.dumps(r.fields), r.source, r.line, int(r.smtputf8), rid)
            db.execute(q["replace_recipient"], values)
            db.execute(q["add_member"], (list_id, rid))
            return False
        # A duplicate inside one list: keep the first row, but tell the person about every
        # data category either row lists (a breach notice must not under-report).
        fields = json.loads(fields_json)
        extra = [c for c in r.fields.get("exposed", []) if c not in fields.get("exposed", [])]
        if extra:
            fields["exposed"] = [*fields.get("exposed", []), *extra]
            db.execute(q["merge_fields"], (json.dumps(fields), rid))
        reason = f"same address as line {first_line}; merged into that row"
        if extra:
            reason += f" (added exposed: {', '.join(extra)})"
        db.execute(q["add_duplicate"], (list_id, r.line, reason, r.email, rid))
        return True

    def list_issues(self, list_ids: Iterable[int], kinds: Iterable[str]) -> Iterator[dict[str, Any]]:
        params = (self._many(list_ids), self._many(kinds))
        for path, line, kind, reason, email, raw in self._db.execute(self._sql["list_issues"], params):
            yield {"file": path, "line": line, "kind": kind, "reason": reason, "email": email, "raw": raw}

    # ---- planning a run -----------------------------------------------------------------

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

    # ---- a run --------------------------------------------------------------------------
    # recover_in_flight, claim and _record below are SQLite's own (one sender, the file lock):
    # PgLedger overrides them with leases and FOR UPDATE SKIP LOCKED, in PostgreSQL's SQL.

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

    @property
    def label(self) -> str:
        """Where the ledger lives, for people (no secrets)."""
        return str(self.path)

    def rate_share(self) -> float:
        """This sender's part of the campaign rate (one SQLite sender: all of it)."""
        return 1.0

    def live_senders(self) -> list[dict[str, Any]]:
        return []

    def stale_leases(self) -> int:
        return 0

    def try_lead(self) -> bool:
        return True

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

    # ---- audit trail ----------------------------------------------------------------------

    def audit(self, action: str, details: dict[str, Any]) -> None:
        """Append one entry to the hash-chained audit log (and move its head)."""
        with self._tx() as db:
            self._audit(db, action, details)

    def _audit_key(self, db: sqlite3.Connection) -> tuple[bytes, str]:
        """(the audit key, where it came from), loaded once. A key is only made for a log that
        has none yet; a sender holding another key is refused before it writes anything."""
        if self._audit_keyed is None:
            row = db.execute(self._sql["meta_get"], ("audit_key_id",)).fetchone()
            key, origin = self.audit_source.for_writing(may_create=row is None)
            if row is None:
                db.execute(self._sql["meta_set"], ("audit_key_id", key_id(key)))
            elif row[0] != key_id(key) and not self.audit_source.scratch:
                raise ConfigError(
                    f"the audit key from {self.audit_source.source} (key {key_id(key)}) is not the key "
                    f"this campaign's log is written with (key {row[0]})",
                    hint="use the campaign's .notify/audit.key (copy it from the machine that made the "
                    "ledger) or its NOTIFY_AUDIT_KEY",
                )
            self._audit_keyed = key, origin
        return self._audit_keyed

    def _audit(self, db: sqlite3.Connection, action: str, details: dict[str, Any]) -> None:
        key, _ = self._audit_key(db)
        row = db.execute(self._sql["audit_last"]).fetchone()
        seq, prev = (row[0] + 1, row[1]) if row else (1, GENESIS)
        user, host = operator()
        at, text = time.time(), canonical(details)
        digest = entry_mac(key, seq, at, user, host, action, text, prev)
        db.execute(self._sql["audit_append"], (seq, at, user, host, action, text, prev, digest))
        head = f"{seq}:{digest}:{head_mac(key, seq, digest)}"
        db.execute(self._sql["meta_set"], ("audit_head", head))

    def audit_entries(self) -> Iterator[AuditEntry]:
        for row in self._db.execute(self._sql["audit_entries"]):
            yield AuditEntry(*row)

    def audit_head(self) -> Head | None:
        row = self._db.execute(self._sql["meta_get"], ("audit_head",)).fetchone()
        if row is None:
            return None
        count, digest, mac = ([*str(row[0]).split(":"), "", ""])[:3]
        try:
            return Head(int(count), digest, mac)
        except ValueError:
            return Head(-1, digest, mac)  # unreadable: verify reports it as not matching

    def audit_key_id(self) -> str | None:
        row = self._db.execute(self._sql["meta_get"], ("audit_key_id",)).fetchone()
        return None if row is None else str(row[0])

    def audit_activity(self) -> dict[str, Any]:
        """What the ledger itself records, to cross-check the log against: counts of lists,
        runs and messages, and when the earliest of them happened."""
        db, q = self._db, self._sql
        lists, first_list = db.execute(q["activity_lists"]).fetchone()
        runs, first_run = db.execute(q["activity_runs"]).fetchone()
        messages = db.execute(q["activity_messages"]).fetchone()[0]
        times = [t for t in (first_list, first_run) if t is not None]
        return {"lists": lists, "runs": runs, "messages": messages, "first_at": min(times) if times else None}

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

    @staticmethod
    def _many(values: Iterable[Any]) -> Any:
        """A list as one statement parameter: JSON, which SQLite's json_each() reads."""
        return json.dumps(list(values))


map_errors(SqliteLedger, _driver_error)
