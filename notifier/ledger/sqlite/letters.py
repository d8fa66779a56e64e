"""Printed letters in the ledger (issue 16): the batches `notify letters build` wrote, so a killed
build resumes after the last one recorded, and the returned mail the mail house reports."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

from notifier.ledger.base import LetterRow, map_errors
from notifier.ledger.sqlite.core import LedgerCore, _driver_error

__all__ = ["LettersMixin"]


def _row(r: Sequence[Any]) -> LetterRow:
    return LetterRow(
        notice=str(r[0]),
        letter_id=str(r[1]),
        key=str(r[2]),
        batch=int(r[3]),
        file=str(r[4]),
        first_page=int(r[5]),
        pages=int(r[6]),
        address=tuple(str(r[7]).split("\n")),
        addressee=str(r[8]),
        source=str(r[9]),
        built_at=float(r[10]),
        returned_at=None if r[11] is None else float(r[11]),
        return_reason=str(r[12] or ""),
    )


class LettersMixin(LedgerCore):
    """Letters built and returned."""

    def letters_built(self, notice: str) -> set[str]:
        """The recipient ids of every letter of ``notice`` already in a recorded batch."""
        return {str(r[0]) for r in self._db.execute(self._sql["letters_ids"], (notice,)).fetchall()}

    def letter_keys(self, notice: str) -> set[str]:
        """The dedupe keys of everyone a letter of ``notice`` was built for."""
        return {str(r[0]) for r in self._db.execute(self._sql["letters_keys"], (notice,)).fetchall()}

    def last_letter_batch(self, notice: str) -> int:
        row = self._db.execute(self._sql["letters_last_batch"], (notice,)).fetchone()
        return int(row[0]) if row else 0

    def record_letters(self, notice: str, batch: int, rows: Sequence[LetterRow]) -> None:
        """Record one batch whose PDF is in place, with an audit entry, in one transaction: a
        letter is either in a recorded batch or will be built again."""
        now = time.time()
        with self._tx() as db:
            db.executemany(
                self._sql["letters_add"],
                [
                    (
                        notice,
                        r.letter_id,
                        r.key,
                        batch,
                        r.file,
                        r.first_page,
                        r.pages,
                        "\n".join(r.address),
                        r.addressee,
                        r.source,
                        now,
                    )
                    for r in rows
                ],
            )
            file = rows[0].file if rows else ""
            self._audit(
                db, "letters.batch", {"notice": notice, "batch": batch, "file": file, "letters": len(rows)}
            )

    def letter_rows(self, notice: str) -> Iterator[LetterRow]:
        """Every letter of ``notice`` in manifest order (batch, then page)."""
        for r in self._db.execute(self._sql["letters_rows"], (notice,)):
            yield _row(r)

    def find_letter(self, notice: str, *, letter_id: str = "", row: int = 0) -> LetterRow | None:
        """A letter by its recipient id, or by its row in the manifest (1 = the first letter)."""
        if letter_id:
            found = self._db.execute(self._sql["letters_by_id"], (notice, letter_id)).fetchone()
        elif row > 0:
            found = self._db.execute(self._sql["letters_by_row"], (notice, row - 1)).fetchone()
        else:
            return None
        return _row(found) if found else None

    def mark_returned(self, notice: str, returns: Sequence[tuple[str, str]], *, source: str) -> int:
        """Mark letters (recipient id, reason) returned; letters already returned keep their
        first report. Returns how many were newly marked; one audit entry names the file."""
        now = time.time()
        marked = 0
        with self._tx() as db:
            for letter_id, reason in returns:
                cur = db.execute(self._sql["letters_return"], (now, reason, notice, letter_id))
                marked += max(0, int(cur.rowcount or 0))
            self._audit(db, "letters.returned", {"notice": notice, "file": source, "returned": marked})
        return marked

    def returned_letters(self, notice: str = "") -> list[LetterRow]:
        """Letters the mail house returned (every notice's when ``notice`` is empty)."""
        return [_row(r) for r in self._db.execute(self._sql["letters_returned"], (notice, notice)).fetchall()]


map_errors(LettersMixin, _driver_error)
