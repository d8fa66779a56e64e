"""Credit-monitoring code pools (issue 17): import, issue exactly one code per (offer,
recipient), and take-up from the vendor's enrolment report.

A code is issued in a ledger transaction: each recipient's existing code is looked up first
(under a per-recipient lock on PostgreSQL), and only if they have none is a free code taken
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so concurrent senders never take the same one). The
assignment is keyed by recipient and offer, never by message: a resend, a follow-up or a letter
gets the code already issued. A unique index on (offer, issued_to) is the last guard.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

from notifier.ledger.base import CodeImport, OfferCount, map_errors
from notifier.ledger.sqlite.core import BATCH, LedgerCore, _driver_error

__all__ = ["OffersMixin"]

_SHOWN = 20  # duplicate lines named back to the importer


class OffersMixin(LedgerCore):
    """The offer_codes table."""

    def import_codes(self, offer: str, pool: str, codes: Iterable[tuple[int, str]]) -> CodeImport:
        """Add ``codes`` ((line, code) pairs) to ``offer``'s ``pool``, in batches. A code the
        ledger already holds for the offer (any pool) is not added; its line is reported."""
        db, q = self._db, self._sql
        added, duplicates = 0, 0
        lines: list[int] = []
        batch: list[tuple[int, str]] = []
        now = time.time()

        def flush() -> None:
            nonlocal added, duplicates
            with self._tx():
                for line, code in batch:
                    if db.execute(q["offer_code_add"], (offer, pool, code, now)).rowcount:
                        added += 1
                    else:
                        duplicates += 1
                        if len(lines) < _SHOWN:
                            lines.append(line)
            batch.clear()

        for item in codes:
            batch.append(item)
            if len(batch) >= BATCH:
                flush()
        if batch:
            flush()
        return CodeImport(added=added, duplicates=duplicates, duplicate_lines=tuple(lines))

    def issue_codes(
        self, offer: str, wants: Sequence[tuple[str, str]], now: float | None = None
    ) -> tuple[dict[str, str], list[str]]:
        """Each (recipient key, pool) of ``wants``: their code for ``offer``, issued now from
        ``pool`` when they have none yet, all in one transaction. Returns (key -> code, the keys
        left without one because the pool ran out)."""
        db, q = self._db, self._sql
        at = time.time() if now is None else now
        codes: dict[str, str] = {}
        short: list[str] = []
        with self._tx():
            # Sorted: every sender takes the per-recipient locks in the same order (no deadlock).
            for key, pool in sorted(set(wants)):
                db.execute(q["offer_lock_recipient"], (offer, key))
                row = db.execute(q["offer_code_of"], (offer, key)).fetchone()
                if row is None:
                    row = self._take_code(key, at, offer, pool)
                if row is None:
                    short.append(key)
                else:
                    codes[key] = str(row[0])
        return codes, short

    def _take_code(self, key: str, at: float, offer: str, pool: str) -> tuple[str, int] | None:
        """A free code of the pool for ``key``: from where this ledger's last one came from, then
        (codes another sender skipped and gave back) from the start."""
        q = self._sql
        cursors: dict[tuple[str, str], int] = self.__dict__.setdefault("_offer_cursors", {})
        start = cursors.get((offer, pool), 0)
        row = self._db.execute(q["offer_code_issue"], (key, at, offer, pool, start)).fetchone()
        if row is None and start:
            row = self._db.execute(q["offer_code_issue"], (key, at, offer, pool, 0)).fetchone()
        if row is None:
            return None
        cursors[offer, pool] = int(row[1])
        return str(row[0]), int(row[1])

    def offer_codes_of(self, keys: Sequence[str]) -> dict[str, dict[str, tuple[str, str]]]:
        """recipient key -> offer -> (code, pool), for the keys that hold a code."""
        out: dict[str, dict[str, tuple[str, str]]] = {}
        for key, offer, code, pool in self._db.execute(self._sql["offer_codes_of"], (self._many(keys),)):
            out.setdefault(str(key), {})[str(offer)] = (str(code), str(pool))
        return out

    def offer_free(self, offer: str, pool: str) -> int:
        """Codes of ``offer``'s ``pool`` not issued to anyone yet."""
        row = self._db.execute(self._sql["offer_free"], (offer, pool)).fetchone()
        return int(row[0]) if row else 0

    def offer_counts(self) -> list[OfferCount]:
        """Per offer and pool: codes imported, issued, enrolled (for `notify offers` and the
        incident-team digest; counts only, no codes)."""
        return [
            OfferCount(str(o), str(p), int(total), int(issued), int(enrolled))
            for o, p, total, issued, enrolled in self._db.execute(self._sql["offer_counts"])
        ]

    def mark_enrolled(self, offer: str, codes: Iterable[tuple[str, float]]) -> tuple[int, int, int]:
        """The vendor's enrolment report: mark each (code, enrolled at) of ``offer``. Returns
        (enrolled codes that were issued, enrolled codes never issued, codes we do not know)."""
        db, q = self._db, self._sql
        issued = unissued = unknown = 0
        rows = list(codes)
        for start in range(0, len(rows), BATCH):
            with self._tx():
                for code, at in rows[start : start + BATCH]:
                    found = db.execute(q["offer_enrol"], (at, offer, code)).fetchall()
                    if not found:
                        unknown += 1
                    elif found[0][0] is None:
                        unissued += 1
                    else:
                        issued += 1
        return issued, unissued, unknown


map_errors(OffersMixin, _driver_error)
