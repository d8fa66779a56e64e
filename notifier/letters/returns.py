"""The mail house's returned-mail file: which letters came back, and why.

A CSV with a header row naming each letter by ``recipient_id`` (or ``id``) — the manifest's
column — or by ``row``, the manifest's row number, plus an optional ``reason`` ("moved, left no
address", "no such street"). Every line that names no letter of the notice is reported with its
file:line; the lines that do are marked returned, so the person counts as unreached.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from notifier.errors import ListError
from notifier.ledger.base import LetterRow

__all__ = ["ReturnLine", "ReturnsRead", "read_returns"]

_ID_COLUMNS = ("recipient_id", "id")
_CONTROL = str.maketrans({c: " " for c in map(chr, range(32))})


class LetterFinder(Protocol):
    def find_letter(self, notice: str, *, letter_id: str = "", row: int = 0) -> LetterRow | None: ...


@dataclass(frozen=True, slots=True)
class ReturnLine:
    where: str
    letter_id: str
    reason: str


@dataclass
class ReturnsRead:
    found: list[ReturnLine] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (file:line, what is wrong)


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip().lower() for h in reader.fieldnames or []]
            if not any(c in header for c in (*_ID_COLUMNS, "row")):
                raise ListError(
                    f"{path}:1: the returned-mail file names no letter column "
                    f"(found: {', '.join(header) or 'nothing'})",
                    hint="it needs a header row with recipient_id (as in the manifest) or row, "
                    "and optionally reason",
                )
            reader.fieldnames = header
            for record in reader:
                yield reader.line_num, {k: (v or "").strip() for k, v in record.items() if k}
    except (OSError, UnicodeDecodeError) as exc:
        raise ListError(f"cannot read {path}: {exc}") from None
    except csv.Error as exc:
        raise ListError(f"{path}: not a CSV file the returns can be read from: {exc}") from None


def read_returns(path: Path, notice: str, ledger: LetterFinder) -> ReturnsRead:
    """Each line of ``path`` matched to a letter of ``notice``. Raises ListError when the file
    cannot be read at all; lines naming no letter are ``problems``."""
    out = ReturnsRead()
    for line, record in _rows(path):
        where = f"{path}:{line}"
        reason = " ".join(record.get("reason", "").translate(_CONTROL).split())[:200] or "returned"
        letter_id = next((record[c] for c in _ID_COLUMNS if record.get(c)), "")
        found: LetterRow | None = None
        if letter_id:
            found = ledger.find_letter(notice, letter_id=letter_id)
            what = f"recipient id {letter_id!r}"
        elif record.get("row"):
            text = record["row"]
            number = int(text) if text.isdigit() else 0
            found = ledger.find_letter(notice, row=number) if number else None
            what = f"manifest row {text!r}"
        else:
            if any(record.values()):
                out.problems.append((where, "names no letter: recipient_id and row are both empty"))
            continue
        if found is None:
            out.problems.append((where, f"{what} is no letter of {notice!r} built by `notify letters build`"))
            continue
        out.found.append(ReturnLine(where, found.letter_id, reason))
    return out
