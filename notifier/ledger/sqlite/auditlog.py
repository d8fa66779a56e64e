"""The ledger's hash-chained audit log: appending entries (keyed) and reading them back."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from typing import Any

from notifier.errors import ConfigError
from notifier.ledger.audit import (
    GENESIS,
    AuditEntry,
    Head,
    canonical,
    entry_mac,
    head_mac,
    key_id,
    operator,
)
from notifier.ledger.base import (
    map_errors,
)
from notifier.ledger.sqlite.core import LedgerCore, _driver_error

__all__ = ["AuditMixin"]


class AuditMixin(LedgerCore):
    """The audit log in the ledger."""

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


map_errors(AuditMixin, _driver_error)
