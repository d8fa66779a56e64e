"""Importing lists into the SQLite ledger: resumable batches, merged duplicates, every reject kept."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterable, Iterator
from typing import Any

from notifier.ledger.base import (
    ImportSummary,
    map_errors,
)
from notifier.ledger.sqlite.core import BATCH, LedgerCore, _driver_error, _new_id
from notifier.models import ListRow, Recipient, merge_duplicate

__all__ = ["ListsMixin"]


class ListsMixin(LedgerCore):
    """List imports and their issues."""

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
        # A duplicate inside one list: the first row stays, with every category either row lists.
        merged, reason = merge_duplicate(json.loads(fields_json), r.fields, first_line)
        if merged is not None:
            db.execute(q["merge_fields"], (json.dumps(merged), rid))
        db.execute(q["add_duplicate"], (list_id, r.line, reason, r.email, rid))
        return True

    def list_issues(self, list_ids: Iterable[int], kinds: Iterable[str]) -> Iterator[dict[str, Any]]:
        params = (self._many(list_ids), self._many(kinds))
        for path, line, kind, reason, email, raw in self._db.execute(self._sql["list_issues"], params):
            yield {"file": path, "line": line, "kind": kind, "reason": reason, "email": email, "raw": raw}


map_errors(ListsMixin, _driver_error)
