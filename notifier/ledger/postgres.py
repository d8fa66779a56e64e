"""The campaign ledger in PostgreSQL, shared by any number of `notify send` processes.

Same schema (``schema.PG_DDL``, written out for PostgreSQL), same states and the same Python as
the SQLite ledger (this class extends it): the methods both share run the statements they name in
``SQL`` below, the same names as ``sqlite.SQL`` in PostgreSQL's own words (``%s`` parameters, a
list as one array parameter, ``ON CONFLICT``, quoted ``"user"``); the methods a shared ledger does
differently are overridden here with their own PostgreSQL statements. Nothing is rewritten at run
time. What differs is what several senders need:

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
import os
import socket
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, cast

from notifier.errors import LedgerDamaged, LedgerError, UsageError
from notifier.ledger.audit import AuditKey
from notifier.ledger.base import Claimed, Result
from notifier.ledger.pgplans import SharedPlansMixin
from notifier.ledger.schema import ADDED_COLUMNS, PG_ADDED_TYPES, PG_DDL
from notifier.ledger.sqlite import SqliteLedger
from notifier.ledger.statements_postgres import SQL
from notifier.settings.urls import redact_url

__all__ = ["PgLedger", "SQL"]

_LOCK_IMPORT, _LOCK_AUDIT, _LOCK_LEADER = 7310001, 7310002, 7310003


class _Cursor:
    def __init__(self, cursor: Any) -> None:
        self._cur = cursor

    def fetchone(self) -> Any:
        return self._cur.fetchone() if self._cur.description else None

    def fetchall(self) -> list[Any]:
        return list(self._cur.fetchall()) if self._cur.description else []

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())

    @property
    def rowcount(self) -> int:
        return int(self._cur.rowcount)


class _Connection:
    """The few DB-API connection methods SqliteLedger's shared code uses, on a psycopg
    connection. Statements go to the server as written (PostgreSQL's own); errors leave as the
    project's (see _error)."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self.total_changes = 0  # rows written, as sqlite3 counts them (INSERT ... ON CONFLICT: 0 or 1)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _Cursor:
        try:
            cur = self._conn.execute(sql, tuple(params) or None)
        except Exception as exc:
            raise _error(exc) from None
        if cur.rowcount and cur.rowcount > 0 and not cur.description:
            self.total_changes += cur.rowcount
        return _Cursor(cur)

    def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> None:
        rows = [tuple(r) for r in seq]
        if not rows:
            return
        with self._conn.cursor() as cur:
            try:
                cur.executemany(sql, rows)
            except Exception as exc:
                raise _error(exc) from None
            if cur.rowcount and cur.rowcount > 0:
                self.total_changes += cur.rowcount

    def copy(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """``COPY ... FROM STDIN`` with ``rows``: the bulk path of imports and plans."""
        try:
            with self._conn.cursor() as cur, cur.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
        except Exception as exc:
            raise _error(exc) from None

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


class PgLedger(SharedPlansMixin, SqliteLedger):
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
        self.path = Path(redact_url(url))
        # No file beside a server's ledger: without the campaign's key, a scratch one.
        self.audit_source = audit_key or AuditKey(Path(".notify/audit.key"), scratch=True)
        self._audit_keyed = None
        self.lease = lease
        self.sender_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        try:
            conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise LedgerError(
                f"cannot open the ledger {redact_url(url)}: {str(exc).strip().splitlines()[0]}",
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
        db.execute("SELECT pg_advisory_lock(7310000)")  # one migration at a time
        try:
            db.execute(PG_DDL)  # one script, one round trip
            for table, column, kind in ADDED_COLUMNS:
                db.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {PG_ADDED_TYPES[kind]}")
            self._check_schema_version("upgrade notify on every sending machine before using this campaign")
        finally:
            db.execute("SELECT pg_advisory_unlock(7310000)")
        db.execute("CREATE TEMP TABLE IF NOT EXISTS run_targets (id BIGINT PRIMARY KEY)")

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
            stopped = (time.time(), self.sender_id)
            self._db.execute("UPDATE senders SET stopped_at = %s WHERE id = %s", stopped)
        self._db.close()

    # ---- serialised writers ---------------------------------------------------------------

    @contextlib.contextmanager
    def _import_lock(self) -> Iterator[None]:
        """One import at a time across every machine (see SqliteLedger.import_list); the
        server releases the lock when a killed importer's session ends."""
        self._db.execute("SELECT pg_advisory_lock(%s)", (_LOCK_IMPORT,))
        try:
            yield
        finally:
            self._db.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_IMPORT,))

    _commit_each_batch = False  # one transaction: a killed import leaves nothing behind

    def _bulk(self, name: str, rows: list[tuple[Any, ...]]) -> None:
        """Many rows into one table with COPY (the statement names the table and columns)."""
        if rows:
            cast(_Connection, self._db).copy(self._sql[name], rows)

    def _audit(self, db: Any, action: str, details: dict[str, Any]) -> None:
        db.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_AUDIT,))
        super()._audit(db, action, details)

    # ---- several senders ------------------------------------------------------------------

    def _beat(self, *, force: bool = False) -> None:
        now = time.time()
        if not force and now - self._last_beat < 1.0:
            return
        self._last_beat = now
        db = self._db
        db.execute(
            "INSERT INTO senders (id, host, pid, notice, run_id, started_at, heartbeat) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (id) DO UPDATE SET heartbeat = EXCLUDED.heartbeat, notice = EXCLUDED.notice, "
            "run_id = EXCLUDED.run_id",
            (self.sender_id, socket.gethostname(), os.getpid(), self._notice, self._run_id, now, now),
        )
        db.execute(
            "UPDATE messages SET lease_until = %s WHERE claimed_by = %s AND state = 'sending'",
            (now + self.lease, self.sender_id),
        )
        live = db.execute(
            "SELECT count(*) FROM senders WHERE stopped_at IS NULL AND heartbeat > %s AND notice = %s "
            "AND run_id IS NOT NULL",
            (now - max(3.0, self.lease / 3), self._notice),
        ).fetchone()
        self._share = 1.0 / max(1, int(live[0]) if live else 1)

    @property
    def label(self) -> str:
        return redact_url(self.url)

    def rate_share(self) -> float:
        return self._share

    def local_senders(self) -> int:
        """Live senders of this notice on this machine, this one included: they share its cores,
        so each forks fewer sending processes (pipeline/deliver.py; issue 15)."""
        row = self._db.execute(
            "SELECT count(*) FROM senders WHERE stopped_at IS NULL AND heartbeat > %s AND notice = %s "
            "AND run_id IS NOT NULL AND host = %s AND id != %s",
            (time.time() - max(3.0, self.lease / 3), self._notice, socket.gethostname(), self.sender_id),
        ).fetchone()
        return 1 + (int(row[0]) if row else 0)

    def start_run(self, notice: str, segment: str, transport: str, options: dict[str, Any]) -> int:
        run_id = super().start_run(notice, segment, transport, options)
        self._notice = notice
        self._beat(force=True)
        return run_id

    def recover_in_flight(self) -> int:
        """Claims whose sender stopped renewing them: back to the pool, flagged."""
        with self._tx() as db:
            cur = db.execute(
                "UPDATE messages SET state = 'pending', possibly_duplicated = 1, claimed_by = NULL "
                "WHERE state = 'sending' AND (lease_until IS NULL OR lease_until < %s)",
                (time.time(),),
            )
            db.execute(
                "UPDATE runs SET status = 'killed' WHERE status = 'running' AND id IN "
                "(SELECT run_id FROM senders WHERE stopped_at IS NULL AND heartbeat < %s)",
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
            ids = self._take("m.state = 'pending' AND m.id > %s", (self._cursor,), run_id, now, limit)
            if ids:
                self._cursor = max(self._cursor, max(ids))
            # Then each kind on its own index, each stopping at what is needed: one condition
            # OR-ing the three scanned and sorted every remaining row of the notice on every such
            # claim (16 ms at 10,000 rows, every claim of a run's last seconds; issue 15).
            for condition, params in (
                ("m.state = 'pending'", ()),
                ("m.state = 'deferred' AND m.next_attempt_at <= %s", (now,)),
                ("m.state = 'sending' AND m.lease_until < %s", (now,)),
            ):
                if len(ids) >= limit:
                    break
                ids += self._take(condition, params, run_id, now, limit - len(ids))
            claimed = (
                db.execute(
                    "SELECT m.id, m.attempts, m.first_attempt_at, m.possibly_duplicated, r.email, r.key, "
                    "r.fields, r.source, r.line, r.smtputf8 FROM messages m "
                    "JOIN recipients r ON r.id = m.recipient_id WHERE m.id = ANY(%s::bigint[]) ORDER BY m.id",
                    (ids,),
                ).fetchall()
                if ids
                else []
            )
            if ids or results:
                sent = sum(1 for r in results if r.state.value == "sent")
                db.execute(
                    "UPDATE senders SET claimed = claimed + %s, sent = sent + %s WHERE id = %s",
                    (len(ids), sent, self.sender_id),
                )
        self._beat()
        return [self._claimed(r) for r in claimed]

    def _take(
        self, condition: str, params: tuple[Any, ...], run_id: int, now: float, limit: int
    ) -> list[int]:
        rows = self._db.execute(
            "UPDATE messages SET possibly_duplicated = CASE WHEN state = 'sending' THEN 1 "
            "ELSE possibly_duplicated END, state = 'sending', run_id = %s, claimed_by = %s, lease_until = %s "
            "WHERE id IN (SELECT m.id FROM messages m WHERE m.notice = %s "
            f"AND m.id IN (SELECT id FROM run_targets) AND {condition} ORDER BY m.id LIMIT %s "
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
                "(%s::bigint, %s::text, %s::float8, %s::float8, %s::bigint, %s::text, %s::text, %s::text, "
                "%s::text, %s::int)"
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
        rows = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(results))
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
                "INSERT INTO suppressions (key, reason, at, source) SELECT r.key, %s, %s, 'smtp' "
                "FROM messages m JOIN recipients r ON r.id = m.recipient_id WHERE m.id = %s "
                "ON CONFLICT DO NOTHING",
                [(r.reason or "hard", r.at, r.row) for r in hard],
            )

    def next_retry_at(self) -> float | None:
        """The next deferred retry, or the end of a lease another sender holds (it may die)."""
        mine = super().next_retry_at()
        row = self._db.execute(
            "SELECT min(lease_until) FROM messages WHERE notice = %s AND state = 'sending' "
            "AND claimed_by != %s AND id IN (SELECT id FROM run_targets)",
            (self._notice, self.sender_id),
        ).fetchone()
        # Another sender's claim: look again within a second (it usually finishes; if it
        # died, its lease ends and the rows come back).
        theirs = None if row is None or row[0] is None else min(float(row[0]), time.time() + 1.0)
        times = [t for t in (mine, theirs) if t is not None]
        return min(times) if times else None

    def end_run(self, run_id: int, status: str, summary: dict[str, Any]) -> None:
        super().end_run(run_id, status, summary)
        self._db.execute("UPDATE senders SET stopped_at = %s WHERE id = %s", (time.time(), self.sender_id))

    def live_senders(self) -> list[dict[str, Any]]:
        now = time.time()
        rows = self._db.execute(
            "SELECT host, pid, notice, claimed, sent, started_at, heartbeat FROM senders "
            "WHERE stopped_at IS NULL AND heartbeat > %s ORDER BY started_at",
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
            "SELECT count(*) FROM messages WHERE state = 'sending' AND lease_until < %s", (time.time(),)
        ).fetchone()
        return int(row[0]) if row else 0

    def try_lead(self) -> bool:
        """Become the one scheduler (held until this connection ends)."""
        row = self._db.execute("SELECT pg_try_advisory_lock(%s)", (_LOCK_LEADER,)).fetchone()
        return bool(row and row[0])
