"""Reading the members of imported lists back, a page at a time (notifier.lists.audience)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from notifier.ledger.base import map_errors
from notifier.ledger.sqlite.core import LedgerCore, _driver_error
from notifier.models import Recipient

__all__ = ["MembersMixin"]


class MembersMixin(LedgerCore):
    """The people of some imports, in recipient-id order (first seen first), never all at once."""

    def member_ids(self, list_ids: Iterable[int], after: int, limit: int) -> list[int]:
        """Up to ``limit`` recipient ids of the lists' members after ``after``, ascending."""
        rows = self._db.execute(self._sql["member_ids"], (after, self._many(list_ids), limit)).fetchall()
        return [int(r[0]) for r in rows]

    def recipients_by_id(self, ids: Sequence[int]) -> dict[int, Recipient]:
        """The recipients with these ids (as the import merged them)."""
        if not ids:
            return {}
        out = {}
        for rid, email, key, source, line, fields, utf8 in self._db.execute(
            self._sql["recipients_by_id"], (self._many(ids),)
        ).fetchall():
            out[int(rid)] = Recipient(email, key, source, int(line), json.loads(fields), bool(utf8))
        return out

    def rejected_rows(self, list_ids: Iterable[int]) -> list[tuple[dict[str, Any] | None, str]]:
        """The unusable rows (invalid, malformed) of the lists: their fields, and file:line."""
        rows = self._db.execute(self._sql["plan_issues"], (self._many(list_ids),)).fetchall()
        return [(json.loads(f) if f is not None else None, f"{path}:{line}") for _, f, path, line in rows]


map_errors(MembersMixin, _driver_error)
