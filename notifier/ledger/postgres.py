"""The campaign ledger in PostgreSQL, shared by any number of `notify send` processes.

Same schema, same states and the same code as the SQLite ledger (this class extends it): the
statements are written once, in the SQL both databases speak, and the few SQLite spellings are
translated here (``?`` placeholders, ``INSERT OR IGNORE``, ``json_extract``, reserved column
names). What differs is what several senders need:

- **claims**: ``FOR UPDATE SKIP LOCKED`` hands each batch to exactly one sender, with a lease
  (``[ledger] lease``, 30 s) that every claim renews; a claim whose sender died (kill -9, a lost
  machine, a network cut) returns to the pool when its lease runs out, is sent by someone else
  and is flagged ``possibly duplicated``, like the in-flight messages of a killed SQLite run;
- **one rate**: live senders register in ``senders`` with a heartbeat; each takes
  ``1 / live senders`` of the campaign and per-domain rates, rebalanced at every claim;
- **one scheduler**: `notify worker` leads through a session advisory lock; when the leader's
  session ends (it died), another worker takes over;
- list imports and audit appends are serialised with advisory locks.

Driver: psycopg 3 (maintained, libpq-based, so ``PGPASSWORD`` and ``.pgpass`` work as in psql;
a synchronous driver fits the ledger, which is called between batches and not per message).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import socket
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from notifier.errors import LedgerDamaged, LedgerError, UsageError
from notifier.ledger.audit import AuditKey, operator
from notifier.ledger.schema import ADDED_COLUMNS, DDL
from notifier.ledger.sqlite import Claimed, Result, SqliteLedger

__all__ = ["PgLedger", "translate"]

_LOCK_IMPORT, _LOCK_AUDIT, _LOCK_LEADER = 7310001, 7310002, 7310003

# The named statements of SqliteLedger (sqlite.SQL), with the same names, in PostgreSQL's own
# words: %s placeholders, a list as one array parameter (= ANY), jsonb, quoted "user".
SQL: dict[str, str] = {
    "notices": "SELECT DISTINCT notice FROM messages ORDER BY notice",
    "counts": "SELECT state, count(*) FROM messages WHERE notice = %s GROUP BY state",
    "status_deferred": (
        "SELECT count(*), min(next_attempt_at) FROM messages WHERE notice = %s AND state = 'deferred'"
    ),
    "status_errors": (
        "SELECT last_code, count(*), max(last_text) FROM messages WHERE notice = %s "
        "AND state IN ('deferred', 'failed') GROUP BY last_code ORDER BY count(*) DESC"
    ),
    "status_reasons": (
        "SELECT reason, count(*) FROM messages WHERE notice = %s "
        "AND state IN ('deferred', 'failed', 'bounced') AND reason IS NOT NULL "
        "GROUP BY reason ORDER BY count(*) DESC"
    ),
    "status_duplicated": "SELECT count(*) FROM messages WHERE notice = %s AND possibly_duplicated = 1",
    "status_duplicated_emails": (
        "SELECT r.email FROM messages m JOIN recipients r ON r.id = m.recipient_id "
        "WHERE m.notice = %s AND m.possibly_duplicated = 1 ORDER BY m.id LIMIT %s"
    ),
    "outcome_rows": (
        "SELECT m.id, split_part(r.email, '@', 2), m.state, coalesce(m.reason, ''), "
        "EXISTS (SELECT 1 FROM bounce_events e WHERE e.message = m.id AND e.kind = 'delivered'), "
        "EXISTS (SELECT 1 FROM bounce_events e WHERE e.message = m.id AND e.kind = 'complaint') "
        "FROM messages m JOIN recipients r ON r.id = m.recipient_id WHERE m.notice = %s"
    ),
    "recent_lists": (
        "SELECT path, rows, valid, invalid, duplicates, imported_at FROM lists WHERE complete = 1 "
        "ORDER BY id DESC LIMIT %s"
    ),
    "recent_runs": (
        'SELECT id, notice, segment, status, started_at, ended_at, "user", host, summary FROM runs '
        "ORDER BY id DESC LIMIT %s"
    ),
    "report_rows": (
        "SELECT m.id, m.recipient_id, m.notice, m.state, COALESCE(r.email, i.email, ''), "
        "COALESCE(r.fields, i.fields), m.attempts, m.last_code, COALESCE(m.last_text, i.reason), "
        "m.queue_id, m.message_id, m.first_attempt_at, m.last_attempt_at, m.sent_at, "
        "m.possibly_duplicated, COALESCE(r.source, l.path), COALESCE(r.line, i.line), m.reason "
        "FROM messages m LEFT JOIN recipients r ON r.id = m.recipient_id "
        "LEFT JOIN list_issues i ON i.id = m.issue_id LEFT JOIN lists l ON l.id = i.list_id "
        "WHERE (%s::int = 0 OR m.state = ANY(%s::text[])) AND (%s::text IS NULL OR m.notice = %s) "
        "AND (%s::int = 0 OR m.possibly_duplicated = 1) ORDER BY m.notice, m.id"
    ),
    "schedule_rows": "SELECT id, notice, segment, state, created_at, note FROM schedules ORDER BY id",
    "recipient_key_of": (
        "SELECT r.key FROM messages m JOIN recipients r ON r.id = m.recipient_id WHERE m.id = %s"
    ),
    "message_by_queue_id": (
        "SELECT m.id FROM messages m JOIN recipients r ON r.id = m.recipient_id "
        "WHERE m.queue_id = %s AND r.key = %s"
    ),
    "message_by_message_id": (
        "SELECT m.id FROM messages m JOIN recipients r ON r.id = m.recipient_id "
        "WHERE m.message_id = %s AND r.key = %s"
    ),
    "was_sent_to": (
        "SELECT 1 FROM messages m JOIN recipients r ON r.id = m.recipient_id "
        "WHERE r.key = %s AND m.sent_at IS NOT NULL LIMIT 1"
    ),
    "event_seen": "SELECT 1 FROM bounce_events WHERE digest = ANY(%s::text[]) LIMIT 1",
}
# Statements written for PostgreSQL go to the server as they are. (The statements of
# SqliteLedger not yet named still pass through translate() below: see README, PostgreSQL.)
_NATIVE = frozenset(SQL.values())
_RESERVED = re.compile(r'(?<![\w."])(user|window)(?![\w"])')
_JSON = re.compile(r"json_extract\(([\w.]+), '\$\.(\w+)'\)")


@functools.lru_cache(maxsize=1024)
def translate(sql: str) -> str:
    """SQLite's spelling of one of our statements -> PostgreSQL's."""
    parts = sql.split("'")
    for i in range(0, len(parts), 2):  # outside string literals only
        p = parts[i]
        p = p.replace("%", "%%").replace("?", "%s")
        p = _RESERVED.sub(r'"\1"', p)
        p = p.replace("BEGIN IMMEDIATE", "BEGIN").replace("instr(", "strpos(")
        parts[i] = p
    out = "'".join(parts)
    out = _JSON.sub(r"(\1::jsonb ->> '\2')", out)
    if "INSERT OR IGNORE INTO" in out:
        out = out.replace("INSERT OR IGNORE INTO", "INSERT INTO") + " ON CONFLICT DO NOTHING"
    if "INSERT OR REPLACE INTO meta" in out:
        out = out.replace("INSERT OR REPLACE INTO", "INSERT INTO") + (
            " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
        )
    return out


def _pg_ddl() -> list[str]:
    text = re.sub(r"--[^\n]*", "", DDL)
    text = re.sub(r"CREATE TRIGGER.*?END;", "", text, flags=re.S)
    text = text.replace(") WITHOUT ROWID;", ");")
    text = text.replace("INTEGER PRIMARY KEY", "BIGSERIAL PRIMARY KEY")
    text = re.sub(r"\bINTEGER\b", "BIGINT", text)
    text = re.sub(r"\bREAL\b", "DOUBLE PRECISION", text)
    text = _RESERVED.sub(r'"\1"', text)
    statements = [s.strip() for s in text.split(";") if s.strip()]
    statements += [
        "CREATE OR REPLACE FUNCTION notify_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$",
        "DROP TRIGGER IF EXISTS audit_no_change ON audit",
        "CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit "
        "FOR EACH ROW EXECUTE FUNCTION notify_audit_append_only()",
        # Several senders: who holds a claim, until when; and who is alive.
        "ALTER TABLE messages ADD COLUMN IF NOT EXISTS claimed_by TEXT",
        "ALTER TABLE messages ADD COLUMN IF NOT EXISTS lease_until DOUBLE PRECISION",
        "CREATE INDEX IF NOT EXISTS messages_lease ON messages (notice, state, lease_until)",
        "CREATE INDEX IF NOT EXISTS messages_claims ON messages (claimed_by) WHERE state='sending'",
        # Claims walk pending rows in id order from each sender's cursor.
        "CREATE INDEX IF NOT EXISTS messages_pending ON messages (notice, id) WHERE state='pending'",
        "CREATE TABLE IF NOT EXISTS senders (id TEXT PRIMARY KEY, host TEXT NOT NULL, pid BIGINT NOT NULL, "
        "notice TEXT NOT NULL, run_id BIGINT, started_at DOUBLE PRECISION NOT NULL, "
        "heartbeat DOUBLE PRECISION NOT NULL, claimed BIGINT NOT NULL DEFAULT 0, "
        "sent BIGINT NOT NULL DEFAULT 0, "
        "stopped_at DOUBLE PRECISION)",
    ]
    return statements


class _Cursor:
    def __init__(self, conn: Any, cursor: Any) -> None:
        self._conn, self._cur = conn, cursor

    def fetchone(self) -> Any:
        return self._cur.fetchone() if self._cur.description else None

    def fetchall(self) -> list[Any]:
        return list(self._cur.fetchall()) if self._cur.description else []

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())

    @property
    def rowcount(self) -> int:
        return int(self._cur.rowcount)

    @property
    def lastrowid(self) -> int:
        row = self._conn.execute("SELECT lastval()").fetchone()
        return int(row[0])


class _Connection:
    """The few DB-API connection methods the ledger uses, on a psycopg connection."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self.total_changes = 0

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _Cursor:
        try:
            native = sql if sql in _NATIVE else translate(sql)
            cur = self._conn.execute(native, tuple(params) or None)
        except Exception as exc:
            raise _error(exc) from None
        if cur.rowcount and cur.rowcount > 0 and not cur.description:
            self.total_changes += cur.rowcount
        return _Cursor(self._conn, cur)

    def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> None:
        rows = [tuple(r) for r in seq]
        if not rows:
            return
        with self._conn.cursor() as cur:
            try:
                cur.executemany(translate(sql), rows)
            except Exception as exc:
                raise _error(exc) from None
            if cur.rowcount and cur.rowcount > 0:
                self.total_changes += cur.rowcount

    def close(self) -> None:
        self._conn.close()


def _error(exc: Exception) -> Exception:
    import psycopg

    # psycopg's errors leave the ledger as the project's, so no caller imports a driver.
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if isinstance(exc, psycopg.OperationalError):
        return LedgerError(
            f"the PostgreSQL ledger is unreachable: {first}",
            hint="check that the server is up and reachable, then run the same command again; it resumes",
        )
    if isinstance(exc, psycopg.Error):  # a refused statement (the audit trigger, a damaged schema)
        return LedgerDamaged(
            f"the PostgreSQL ledger refused a statement: {first}",
            hint="the ledger's tables are not as notify made them: restore the database from a backup",
        )
    return exc


class PgLedger(SqliteLedger):
    """The ledger of one campaign in PostgreSQL. Safe for many processes on many machines."""

    _sql = SQL

    @staticmethod
    def _many(values: Iterable[Any]) -> Any:
        return list(values)  # one text[] parameter

    def __init__(
        self, url: str, *, shared: bool = False, lease: float = 30.0, audit_key: AuditKey | None = None
    ) -> None:
        import psycopg

        self.url = url
        self.path = Path(_redacted(url))
        # No file beside a server's ledger: without the campaign's key, a scratch one.
        self.audit_source = audit_key or AuditKey(Path(".notify/audit.key"), scratch=True)
        self._audit_keyed = None
        self.lease = lease
        self.sender_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        try:
            conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise LedgerError(
                f"cannot open the ledger {_redacted(url)}: {str(exc).strip().splitlines()[0]}",
                hint="check the URL; the password comes from PGPASSWORD or ~/.pgpass, never the URL",
            ) from None
        self._db = _Connection(conn)  # type: ignore[assignment]
        self._lock_fd = None
        self._run_id = None
        self._notice = ""
        self._cursor = 0
        self._share = 1.0
        self._last_beat = 0.0
        self._migrate()

    # ---- set-up -------------------------------------------------------------------------

    def _migrate(self) -> None:
        db = self._db
        db.execute("SELECT pg_advisory_lock(7310000)")
        try:
            for statement in _pg_ddl():
                db.execute(statement)
            for table, column, kind in ADDED_COLUMNS:
                kind = {"REAL": "DOUBLE PRECISION", "INTEGER": "BIGINT"}.get(kind, kind)
                db.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {kind}")
            self._check_schema_version("upgrade notify on every sending machine before using this campaign")
        finally:
            db.execute("SELECT pg_advisory_unlock(7310000)")
        db.execute("CREATE TEMP TABLE IF NOT EXISTS run_targets (id BIGINT PRIMARY KEY)")

    def secret(self) -> bytes:
        row = self._db.execute("SELECT value FROM meta WHERE key='token_key'").fetchone()
        if row:
            return bytes.fromhex(row[0])
        self._db.execute("INSERT OR IGNORE INTO meta VALUES ('token_key', ?)", (os.urandom(32).hex(),))
        return self.secret()

    def lock(self) -> None:
        """Several senders may work one campaign: nothing to lock, but say we are here."""
        self._beat(force=True)

    def copy_to(self, path: Path) -> None:
        raise UsageError(
            "--dry-run is not available with a PostgreSQL ledger",
            hint="preview the messages with `notify preview`, or send to an outbox: --transport outbox:DIR",
        )

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing must not fail because the server went away
            self._db.execute("UPDATE senders SET stopped_at=? WHERE id=?", (time.time(), self.sender_id))
        self._db.close()

    # ---- serialised writers ---------------------------------------------------------------

    @contextlib.contextmanager
    def _import_lock(self) -> Iterator[None]:
        """One import at a time across every machine (see SqliteLedger.import_list); the
        server releases the lock when a killed importer's session ends."""
        self._db.execute("SELECT pg_advisory_lock(?)", (_LOCK_IMPORT,))
        try:
            yield
        finally:
            self._db.execute("SELECT pg_advisory_unlock(?)", (_LOCK_IMPORT,))

    def _upsert(self, list_id: int, r: Any) -> bool:
        """One round trip for someone new (the common case of a first import); the SQLite
        path, with its merge rules, for everyone seen before."""
        row = self._db.execute(
            "WITH ins AS (INSERT INTO recipients (key, email, fields, source, line, smtputf8) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING RETURNING id) "
            "INSERT INTO list_members SELECT ?, id FROM ins RETURNING recipient_id",
            (r.key, r.email, json.dumps(r.fields), r.source, r.line, int(r.smtputf8), list_id),
        ).fetchone()
        if row is not None:
            return False
        return super()._upsert(list_id, r)

    def _audit(self, db: Any, action: str, details: dict[str, Any]) -> None:
        db.execute("SELECT pg_advisory_xact_lock(?)", (_LOCK_AUDIT,))
        super()._audit(db, action, details)

    # ---- audience reads ---------------------------------------------------------------------
    # The same questions as SqliteLedger's section of this name, in PostgreSQL's own SQL (keys
    # passed as one array, not translated SQLite): see notifier.lists.audience.

    def _pg(self, sql: str, params: Sequence[Any]) -> list[Any]:
        try:
            cur = self._db._conn.execute(sql, tuple(params))  # type: ignore[attr-defined]
        except Exception as exc:
            raise _error(exc) from None
        return list(cur.fetchall()) if cur.description else []

    def states_for(self, notice: str, keys: Sequence[str]) -> dict[str, str]:
        if not notice or not keys:
            return {}
        rows = self._pg(
            "SELECT r.key, m.state FROM messages m JOIN recipients r ON r.id = m.recipient_id "
            "WHERE m.notice = %s AND r.key = ANY(%s)",
            (notice, list(keys)),
        )
        return {str(k): str(v) for k, v in rows}

    def complained(self, keys: Sequence[str]) -> set[str]:
        if not keys:
            return set()
        rows = self._pg(
            "SELECT r.key FROM bounce_events e JOIN messages m ON m.id = e.message "
            "JOIN recipients r ON r.id = m.recipient_id WHERE e.kind = 'complaint' AND r.key = ANY(%s) "
            "UNION SELECT address FROM bounce_events WHERE kind = 'complaint' AND message IS NOT NULL "
            "AND address = ANY(%s)",
            (list(keys), list(keys)),
        )
        return {str(r[0]) for r in rows}

    def unsubscribed(self, keys: Sequence[str]) -> set[str]:
        if not keys:
            return set()
        rows = self._pg("SELECT key FROM unsubscribes WHERE key = ANY(%s)", (list(keys),))
        return {str(r[0]) for r in rows}

    def suppressed(self, keys: Sequence[str]) -> dict[str, str]:
        if not keys:
            return {}
        rows = self._pg("SELECT key, reason FROM suppressions WHERE key = ANY(%s)", (list(keys),))
        return {str(k): str(v) for k, v in rows}

    def accepted_at(self, notice: str, keys: Sequence[str]) -> dict[str, float]:
        if not keys:
            return {}
        rows = self._pg(
            "SELECT r.key, m.sent_at FROM messages m JOIN recipients r ON r.id = m.recipient_id "
            "WHERE m.notice = %s AND m.state IN ('sent', 'bounced') AND m.sent_at IS NOT NULL "
            "AND r.key = ANY(%s)",
            (notice, list(keys)),
        )
        return {str(k): float(t) for k, t in rows}

    def filings(self) -> dict[str, tuple[float, str, str]]:
        rows = self._pg('SELECT rule, at, ref, "user" FROM filings ORDER BY rule', ())
        return {str(r[0]): (float(r[1]), str(r[2]), str(r[3])) for r in rows}

    def mark_filed(self, rule: str, at: float, ref: str) -> None:
        user = operator()[0]
        with self._tx() as db:
            self._pg(  # the same connection, inside the transaction
                'INSERT INTO filings (rule, at, ref, "user", recorded_at) VALUES (%s, %s, %s, %s, %s) '
                "ON CONFLICT (rule) DO UPDATE SET at = EXCLUDED.at, ref = EXCLUDED.ref, "
                '"user" = EXCLUDED."user", recorded_at = EXCLUDED.recorded_at',
                (rule, at, ref, user, time.time()),
            )
            self._audit(db, "deadline.done", {"rule": rule, "at": at, "ref": ref})

    # ---- several senders ------------------------------------------------------------------

    def _beat(self, *, force: bool = False) -> None:
        now = time.time()
        if not force and now - self._last_beat < 1.0:
            return
        self._last_beat = now
        db = self._db
        db.execute(
            "INSERT INTO senders (id, host, pid, notice, run_id, started_at, heartbeat) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET heartbeat=EXCLUDED.heartbeat, notice=EXCLUDED.notice, "
            "run_id=EXCLUDED.run_id",
            (self.sender_id, socket.gethostname(), os.getpid(), self._notice, self._run_id, now, now),
        )
        db.execute(
            "UPDATE messages SET lease_until=? WHERE claimed_by=? AND state='sending'",
            (now + self.lease, self.sender_id),
        )
        live = db.execute(
            "SELECT count(*) FROM senders WHERE stopped_at IS NULL AND heartbeat > ? AND notice=? "
            "AND run_id IS NOT NULL",
            (now - max(3.0, self.lease / 3), self._notice),
        ).fetchone()
        self._share = 1.0 / max(1, int(live[0]) if live else 1)

    @property
    def label(self) -> str:
        return _redacted(self.url)

    def rate_share(self) -> float:
        return self._share

    def start_run(self, notice: str, segment: str, transport: str, options: dict[str, Any]) -> int:
        run_id = super().start_run(notice, segment, transport, options)
        self._notice = notice
        self._beat(force=True)
        return run_id

    def recover_in_flight(self) -> int:
        """Claims whose sender stopped renewing them: back to the pool, flagged."""
        with self._tx() as db:
            cur = db.execute(
                "UPDATE messages SET state='pending', possibly_duplicated=1, claimed_by=NULL "
                "WHERE state='sending' AND (lease_until IS NULL OR lease_until < ?)",
                (time.time(),),
            )
            db.execute(
                "UPDATE runs SET status='killed' WHERE status='running' AND id IN "
                "(SELECT run_id FROM senders WHERE stopped_at IS NULL AND heartbeat < ?)",
                (time.time() - self.lease,),
            )
        return int(cur.rowcount)

    def claim(self, run_id: int, limit: int, now: float, results: list[Result]) -> list[Claimed]:
        """Record ``results``, then take up to ``limit`` due targets no other sender holds.

        Pending rows are taken in id order from this sender's cursor (so no claim rescans what
        is already sent); when those run short, due retries, expired leases of dead senders and
        anything released behind the cursor."""
        db = self._db
        with self._tx():
            self._record(run_id, results)
            ids = self._take("m.state='pending' AND m.id > ?", (self._cursor,), run_id, now, limit)
            if ids:
                self._cursor = max(self._cursor, max(ids))
            if len(ids) < limit:
                ids += self._take(
                    "(m.state='pending' OR (m.state='deferred' AND m.next_attempt_at <= ?) "
                    "OR (m.state='sending' AND m.lease_until < ?))",
                    (now, now),
                    run_id,
                    now,
                    limit - len(ids),
                )
            claimed = (
                db.execute(
                    "SELECT m.id, m.attempts, m.first_attempt_at, m.possibly_duplicated, r.email, r.key, "
                    "r.fields, r.source, r.line, r.smtputf8 FROM messages m "
                    "JOIN recipients r ON r.id=m.recipient_id "
                    f"WHERE m.id IN ({','.join('?' * len(ids))}) ORDER BY m.id",
                    ids,
                ).fetchall()
                if ids
                else []
            )
            if ids or results:
                sent = sum(1 for r in results if r.state.value == "sent")
                db.execute(
                    "UPDATE senders SET claimed=claimed+?, sent=sent+? WHERE id=?",
                    (len(ids), sent, self.sender_id),
                )
        self._beat()
        return [self._claimed(r) for r in claimed]

    def _take(
        self, condition: str, params: tuple[Any, ...], run_id: int, now: float, limit: int
    ) -> list[int]:
        rows = self._db.execute(
            "UPDATE messages SET possibly_duplicated = CASE WHEN state='sending' THEN 1 "
            "ELSE possibly_duplicated END, state='sending', run_id=?, claimed_by=?, lease_until=? "
            "WHERE id IN (SELECT m.id FROM messages m WHERE m.notice=? "
            f"AND m.id IN (SELECT id FROM run_targets) AND {condition} ORDER BY m.id LIMIT ? "
            "FOR UPDATE SKIP LOCKED) RETURNING id",
            (run_id, self.sender_id, now + self.lease, self._notice, *params, limit),
        ).fetchall()
        return sorted(int(r[0]) for r in rows)

    def _record(self, run_id: int, results: list[Result]) -> None:
        """The same updates as SQLite's, as one statement per table for the whole batch: with
        a server over the network, round trips are what a ledger write costs."""
        if not results:
            return
        db = self._db
        values = ", ".join(
            [
                "(?::bigint, ?::text, ?::float8, ?::float8, ?::bigint, ?::text, ?::text, ?::text, ?::text, "
                "?::int)"
            ]
            * len(results)
        )
        flat: list[Any] = []
        for r in results:
            flat += [
                r.row,
                r.state.value,
                r.at,
                r.next_attempt_at,
                r.code,
                r.text,
                r.queue_id,
                r.message_id,
                r.reason,
                int(r.possibly_duplicated),
            ]
        db.execute(
            "UPDATE messages AS m SET state=v.state, attempts=m.attempts+1, "
            "first_attempt_at=COALESCE(m.first_attempt_at, v.at), last_attempt_at=v.at, "
            "next_attempt_at=v.next_at, last_code=v.code, last_text=v.txt, queue_id=v.queue_id, "
            "message_id=v.message_id, reason=v.reason, "
            "possibly_duplicated=CASE WHEN v.dup=1 THEN 1 ELSE m.possibly_duplicated END, "
            "sent_at=CASE WHEN v.state='sent' THEN v.at ELSE m.sent_at END, "
            "claimed_by=NULL, lease_until=NULL "
            f"FROM (VALUES {values}) "
            "AS v(id, state, at, next_at, code, txt, queue_id, message_id, reason, dup) "
            "WHERE m.id = v.id",
            flat,
        )
        rows = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?)"] * len(results))
        flat = []
        for r in results:
            flat += [r.row, run_id, r.at, r.verdict, r.code, r.text, r.queue_id, r.reason]
        db.execute(
            "INSERT INTO attempts (message, run_id, at, verdict, code, text, queue_id, reason) "
            f"VALUES {rows}",
            flat,
        )
        hard = [r for r in results if r.suppress]
        if hard:
            db.executemany(
                "INSERT OR IGNORE INTO suppressions (key, reason, at, source) SELECT r.key, ?, ?, 'smtp' "
                "FROM messages m JOIN recipients r ON r.id = m.recipient_id WHERE m.id = ?",
                [(r.reason or "hard", r.at, r.row) for r in hard],
            )

    def next_retry_at(self) -> float | None:
        """The next deferred retry, or the end of a lease another sender holds (it may die)."""
        mine = super().next_retry_at()
        row = self._db.execute(
            "SELECT min(lease_until) FROM messages WHERE notice=? AND state='sending' AND claimed_by != ? "
            "AND id IN (SELECT id FROM run_targets)",
            (self._notice, self.sender_id),
        ).fetchone()
        # Another sender's claim: look again within a second (it usually finishes; if it
        # died, its lease ends and the rows come back).
        theirs = None if row is None or row[0] is None else min(float(row[0]), time.time() + 1.0)
        times = [t for t in (mine, theirs) if t is not None]
        return min(times) if times else None

    def end_run(self, run_id: int, status: str, summary: dict[str, Any]) -> None:
        super().end_run(run_id, status, summary)
        self._db.execute("UPDATE senders SET stopped_at=? WHERE id=?", (time.time(), self.sender_id))

    def live_senders(self) -> list[dict[str, Any]]:
        now = time.time()
        rows = self._db.execute(
            "SELECT host, pid, notice, claimed, sent, started_at, heartbeat FROM senders "
            "WHERE stopped_at IS NULL AND heartbeat > ? ORDER BY started_at",
            (now - 3600,),
        ).fetchall()
        out = []
        for host, pid, notice, claimed, sent, started, beat in rows:
            elapsed = max(1e-9, beat - started)
            out.append(
                {
                    "host": host,
                    "pid": pid,
                    "notice": notice,
                    "claimed": claimed,
                    "sent": sent,
                    "rate": round(sent / elapsed, 1),
                    "last_heartbeat_s": round(now - beat, 1),
                    "alive": now - beat < self.lease,
                }
            )
        return out

    def stale_leases(self) -> int:
        row = self._db.execute(
            "SELECT count(*) FROM messages WHERE state='sending' AND lease_until < ?", (time.time(),)
        ).fetchone()
        return int(row[0]) if row else 0

    def try_lead(self) -> bool:
        """Become the one scheduler (held until this connection ends)."""
        row = self._db.execute("SELECT pg_try_advisory_lock(?)", (_LOCK_LEADER,)).fetchone()
        return bool(row and row[0])

    # ---- run and schedule reads ---------------------------------------------------------
    # SqliteLedger's section of this name, in PostgreSQL's own SQL.

    def first_sent_at(self, notice: str) -> float | None:
        rows = self._pg("SELECT min(sent_at) FROM messages WHERE notice = %s", (notice,))
        return None if not rows or rows[0][0] is None else float(rows[0][0])

    def oldest_sent_since(self, since: float) -> float | None:
        rows = self._pg("SELECT min(sent_at) FROM messages WHERE sent_at > %s", (since,))
        return None if not rows or rows[0][0] is None else float(rows[0][0])

    def complete_lists(self) -> dict[str, str]:
        rows = self._pg(
            "SELECT DISTINCT ON (path) path, sha256 FROM lists WHERE complete = 1 ORDER BY path, id DESC", ()
        )
        return {str(p): str(d) for p, d in rows}

    def waiting_in_run(self) -> int:
        rows = self._pg(
            "SELECT count(*) FROM messages m JOIN run_targets t ON t.id = m.id WHERE m.state = 'deferred'", ()
        )
        return int(rows[0][0]) if rows else 0

    def schedules(self) -> list[tuple[Any, ...]]:
        return [
            tuple(r)
            for r in self._pg(
                "SELECT id, notice, segment, after_s, at, \"window\", state, created_at, created_by, "
                "confirmed_at, last_run_at, note FROM schedules ORDER BY id",
                (),
            )
        ]

    def add_schedule(
        self, *, notice: str, segment: str, after_s: float | None, at: float | None, window: str,
        created_at: float, created_by: str,
    ) -> int:
        with self._tx() as db:
            try:
                row = db._conn.execute(
                    "INSERT INTO schedules (notice, segment, after_s, at, \"window\", state, created_at, "
                    "created_by) VALUES (%s, %s, %s, %s, %s, 'waiting', %s, %s) RETURNING id",
                    (notice, segment, after_s, at, window, created_at, created_by),
                ).fetchone()
            except Exception as exc:
                raise _error(exc) from None
            return int(row[0])

    def set_schedule_state(
        self, schedule_id: int, state: str, note: str, *, last_run_at: float | None = None,
        confirmed_at: float | None = None,
    ) -> None:
        with self._tx() as db:
            try:
                db._conn.execute(
                    "UPDATE schedules SET state = %s, note = %s, last_run_at = coalesce(%s, last_run_at), "
                    "confirmed_at = coalesce(%s, confirmed_at) WHERE id = %s",
                    (state, note, last_run_at, confirmed_at, schedule_id),
                )
            except Exception as exc:
                raise _error(exc) from None


def _redacted(url: str) -> str:
    return re.sub(r"//([^:@/]+):[^@/]*@", r"//\1:***@", url)
