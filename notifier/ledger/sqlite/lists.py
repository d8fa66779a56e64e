"""Importing lists into the SQLite ledger: in bulk, resumable, merged duplicates, every reject kept."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from notifier.ledger.base import (
    ImportSummary,
    map_errors,
)
from notifier.ledger.sqlite.core import LedgerCore, _driver_error, _new_id
from notifier.models import ListRow, Recipient, merge_duplicate

__all__ = ["ListsMixin"]

IMPORT_BATCH = 5000  # rows per read of the ledger and per bulk write


def _compact(fields: dict[str, Any]) -> str:
    """A row's fields as stored: JSON without spaces or escaped accents (about 10% of a
    recipient's bytes in the ledger; any JSON reader reads it). orjson: 0.4 µs a row against
    the standard library's 9 µs with ensure_ascii=False (a tenth of a million-row import)."""
    return orjson.dumps(fields).decode()


@dataclass
class _Batch:
    """One batch's writes, collected so each table gets one bulk statement."""

    new: list[tuple[Any, ...]] = field(default_factory=list)  # (id, key, email, fields, source, line, utf8)
    replaced: list[tuple[Any, ...]] = field(default_factory=list)
    members: list[tuple[int, int]] = field(default_factory=list)
    merged: dict[int, dict[str, Any]] = field(default_factory=dict)  # rid -> fields, for rows already stored
    issues: list[tuple[Any, ...]] = field(default_factory=list)
    warnings: list[tuple[Any, ...]] = field(default_factory=list)
    duplicates: list[tuple[Any, ...]] = field(default_factory=list)


class ListsMixin(LedgerCore):
    """List imports and their issues."""

    # SQLite commits every batch (a long import never holds the one write lock for long, and a
    # killed one is cleared by the next); PostgreSQL imports in one transaction (its writers do
    # not block each other, and a killed import leaves nothing).
    _commit_each_batch = True

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
        """Stream ``rows`` into the ledger in bulk batches; merge duplicates; keep every reject.

        Each batch costs one read of the ledger (who of these is known already, and already in
        this list) and one bulk write per table, so the import is linear in the list. Resumable:
        on SQLite the batches commit as they go, under a ``lists`` row that is marked complete
        in the last transaction. An import killed half-way leaves an incomplete row; the next
        import of any list first deletes every incomplete import with its members and issues,
        in one transaction, so the rerun counts exactly what one clean import counts. Recipient
        rows the killed import wrote are rewritten by the rerun as a clean import would write
        them. Another process importing the same file waits, then finds it done.
        """
        with self._import_lock():
            found = self.find_import(path, sha256)
            if found:
                return found
            return self._import_rows(path, sha256, rows)

    def _import_rows(self, path: str, sha256: str, rows: Iterable[ListRow]) -> ImportSummary:
        db, q = self._db, self._sql
        db.execute(q["begin"])
        try:
            stale = [r[0] for r in db.execute(q["stale_imports"]).fetchall()]
            for old in stale:
                self._forget_list(old)
            db.execute(q["drop_stale_imports"])
            list_id = _new_id(db, q["new_import"], (path, sha256, time.time()))
            # SQLite reuses the highest id once its row is gone; an older build deleted
            # interrupted imports without their rows, which would now count as this list's.
            self._forget_list(list_id)
            if self._commit_each_batch:
                db.execute(q["commit"])
                db.execute(q["begin"])
            counts = {"rows": 0, "valid": 0, "invalid": 0, "merged": 0, "warnings": 0}
            batch: list[ListRow] = []
            for item in rows:
                batch.append(item)
                if len(batch) >= IMPORT_BATCH:
                    self._import_batch(list_id, batch, counts)
                    batch = []
                    if self._commit_each_batch:
                        db.execute(q["commit"])
                        db.execute(q["begin"])
            self._import_batch(list_id, batch, counts)
            n, valid, invalid = counts["rows"], counts["valid"], counts["invalid"]
            dupes, warns = counts["merged"], counts["warnings"]
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

    def _import_batch(self, list_id: int, items: list[ListRow], counts: dict[str, int]) -> None:
        """Write one batch: new people, people seen in other lists (this list's row wins), and
        second rows of someone already in this list (merged into the first; SqliteLedger's
        rules, models.merge_duplicate)."""
        if not items:
            return
        db, q = self._db, self._sql
        keys = list({i.recipient.key for i in items if i.recipient is not None})
        # key -> [id, fields, first line, already a member of this list]
        known: dict[str, list[Any]] = {}
        if keys:
            for key, rid, fields_json, line, member in db.execute(
                q["import_lookup"], (list_id, self._many(keys))
            ).fetchall():
                known[key] = [rid, orjson.loads(fields_json), line, bool(member)]
        fresh = sum(1 for k in keys if k not in known)
        ids = iter(
            [int(r[0]) for r in db.execute(q["new_recipient_ids"], (fresh,)).fetchall()] if fresh else []
        )
        out = _Batch()
        pending: dict[int, int] = {}  # rid -> index in out.new / out.replaced, for merges inside the batch
        for item in items:
            counts["rows"] += 1
            if item.reject is not None:
                rj = item.reject
                counts["invalid"] += 1
                fields = _compact(rj.fields) if rj.fields is not None else None
                out.issues.append((list_id, rj.line, rj.kind, rj.reason, rj.email, rj.raw, fields))
                continue
            r = item.recipient
            assert r is not None
            seen = known.get(r.key)
            if seen is None or not seen[3]:
                self._take_row(list_id, r, seen, ids, out, pending, known)
                counts["valid"] += 1
            else:
                rid, first_fields, first_line, _ = seen
                merged, reason = merge_duplicate(first_fields, r.fields, first_line)
                if merged is not None:
                    seen[1] = merged
                    self._set_fields(rid, merged, out, pending)
                counts["merged"] += 1
                out.duplicates.append((list_id, r.line, reason, r.email, rid))
            for w in item.warnings:
                counts["warnings"] += 1
                out.warnings.append((list_id, r.line, w, r.email))
        self._bulk("bulk_recipient", out.new)
        db.executemany(q["replace_recipient"], out.replaced)
        db.executemany(q["merge_fields"], [(_compact(f), rid) for rid, f in out.merged.items()])
        self._bulk("bulk_member", out.members)
        db.executemany(q["add_reject"], out.issues)
        db.executemany(q["add_warning"], out.warnings)
        db.executemany(q["add_duplicate"], out.duplicates)

    @staticmethod
    def _take_row(
        list_id: int,
        r: Recipient,
        seen: list[Any] | None,
        ids: Iterator[int],
        out: _Batch,
        pending: dict[int, int],
        known: dict[str, list[Any]],
    ) -> None:
        """Someone new, or someone seen in another list (or an older version): this row wins."""
        fields = _compact(r.fields)
        if seen is None:
            rid = next(ids)
            pending[rid] = len(out.new)
            out.new.append((rid, r.key, r.email, fields, r.source, r.line, int(r.smtputf8)))
        else:
            rid = seen[0]
            pending[rid] = -1 - len(out.replaced)
            out.replaced.append((r.email, fields, r.source, r.line, int(r.smtputf8), rid))
        out.members.append((list_id, rid))
        known[r.key] = [rid, r.fields, r.line, True]

    @staticmethod
    def _set_fields(rid: int, fields: dict[str, Any], out: _Batch, pending: dict[int, int]) -> None:
        """A merge: into the row this batch writes for ``rid``, else an update of the stored row."""
        at = pending.get(rid)
        if at is None:
            out.merged[rid] = fields
        elif at >= 0:
            row = out.new[at]
            out.new[at] = (*row[:3], _compact(fields), *row[4:])
        else:
            row = out.replaced[-1 - at]
            out.replaced[-1 - at] = (row[0], _compact(fields), *row[2:])

    def _bulk(self, name: str, rows: list[tuple[Any, ...]]) -> None:
        """Many rows into one table (SQLite: executemany; PostgreSQL overrides with COPY)."""
        if rows:
            self._db.executemany(self._sql[name], rows)

    def _forget_list(self, list_id: int) -> None:
        """Delete the members and issues of an import that never completed (inside a
        transaction). Nothing else refers to them: only complete imports are planned."""
        self._db.execute(self._sql["forget_members"], (list_id,))
        self._db.execute(self._sql["forget_issues"], (list_id,))

    def list_issues(self, list_ids: Iterable[int], kinds: Iterable[str]) -> Iterator[dict[str, Any]]:
        params = (self._many(list_ids), self._many(kinds))
        for path, line, kind, reason, email, raw in self._db.execute(self._sql["list_issues"], params):
            yield {"file": path, "line": line, "kind": kind, "reason": reason, "email": email, "raw": raw}


map_errors(ListsMixin, _driver_error)
