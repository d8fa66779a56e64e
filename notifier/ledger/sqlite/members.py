"""Reading the members of imported lists back, a page at a time (notifier.lists.audience)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import orjson

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
            out[int(rid)] = Recipient(email, key, source, int(line), orjson.loads(fields), bool(utf8))
        return out

    def target_recipients(self) -> Iterator[Recipient]:
        """The recipients of this run's targets to send, in send order, without the claim's
        bookkeeping: what the render check reads (a third of targets_to_send's cost a row)."""
        for row in self._db.execute(self._sql["targets_to_send"]):
            email, key, fields, source, line, utf8 = row[4:]
            yield Recipient(email, key, source, int(line), orjson.loads(fields), bool(utf8))

    def target_groups(
        self, present: Sequence[str], truthy: Sequence[str], valued: Sequence[str], *, limit: int
    ) -> list[tuple[int, int]] | None:
        """This run's targets to send, grouped by what the fields named hold: ``present``, whether
        the field is there; ``truthy``, there and not empty; ``valued``, its value (a missing
        field, a JSON null and each type apart). ``email`` names the address. Returns a recipient
        id of each group with the group's size, or None when there are more than ``limit`` groups.
        Raises ValueError for a name no JSON path can hold."""
        keys: list[str] = []
        params: list[str] = []
        for kind, names in (("group_present", present), ("group_truthy", truthy), ("group_valued", valued)):
            for name in names:
                if name == "email":
                    keys += [] if kind == "group_present" else ["r.email"]
                    continue
                expr = self._sql[kind]
                keys.append(expr)
                params += [self._field_param(name)] * (expr.count("?") + expr.count("%s"))
        sql = self._sql["targets_by_fields"].format(keys=", ".join(keys or ["m.state IS NULL"]))
        out: list[tuple[int, int]] = []
        for rid, n in self._db.execute(sql, params):
            if len(out) >= limit:
                return None
            out.append((int(rid), int(n)))
        return out

    @staticmethod
    def _field_param(name: str) -> str:
        """A field's JSON path for SQLite's json_* functions (PostgreSQL takes the bare name)."""
        if '"' in name or "\\" in name:
            raise ValueError(f"field name {name!r} cannot be a JSON path")
        return f'$."{name}"'

    def rejected_rows(self, list_ids: Iterable[int]) -> list[tuple[dict[str, Any] | None, str]]:
        """The unusable rows (invalid, malformed) of the lists: their fields, and file:line."""
        rows = self._db.execute(self._sql["plan_issues"], (self._many(list_ids),)).fetchall()
        return [(orjson.loads(f) if f is not None else None, f"{path}:{line}") for _, f, path, line in rows]


map_errors(MembersMixin, _driver_error)
