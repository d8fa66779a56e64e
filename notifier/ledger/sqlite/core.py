"""The SQLite ledger's core: the connection, its schema migration, the meta table (schema
version, token key), transactions, the send lock and the driver-error mapping. Every other
part of SqliteLedger is a mixin over LedgerCore."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from notifier.errors import LedgerDamaged, LedgerError
from notifier.ledger.audit import (
    CREATE,
    UPGRADE,
    AuditKey,
    operator,
)
from notifier.ledger.base import (
    map_errors,
)
from notifier.ledger.schema import ADDED_COLUMNS, DDL, SCHEMA_VERSION
from notifier.ledger.statements_sqlite import SQL
from notifier.locks import hold_lock
from notifier.models import LedgerState

__all__ = ["BATCH", "LedgerCore"]

BATCH = 2000


def _driver_error(ledger: LedgerCore, exc: Exception) -> Exception | None:
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


class LedgerCore:
    """What every part of the ledger shares: the connection, its statements and transactions."""

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

    # Methods of the mixins (auditlog, reads) that SqliteLedger composes, used here and by other
    # mixins: declared for the type checker only, defined where they belong.
    _audit_key: Callable[[sqlite3.Connection], tuple[bytes, str]]
    _audit: Callable[[sqlite3.Connection, str, dict[str, Any]], None]
    audience_states: Callable[[str, str, Sequence[str]], dict[str, LedgerState]]

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

    @staticmethod
    def _many(values: Iterable[Any]) -> Any:
        """A list as one statement parameter: JSON, which SQLite's json_each() reads."""
        return json.dumps(list(values))


map_errors(LedgerCore, _driver_error)
