"""Reading a vendor's file of activation codes, streamed: one code per row, in a column named
``code`` (or ``activation_code``), or a file of bare codes. A row that is not a usable code is
reported with file:line and why; the code itself is never shown, logged or kept anywhere but
the ledger (it is a future recipient's secret)."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from notifier.errors import UsageError

__all__ = ["CODE_COLUMNS", "CodeFile", "read_codes"]

CODE_COLUMNS = ("code", "activation_code", "activation code", "activationcode", "enrollment_code")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{3,63}$")
_SHOWN = 20


@dataclass
class CodeFile:
    """What reading one file found: rows read, and the rows that were not codes."""

    path: Path
    rows: int = 0
    malformed: int = 0
    problems: list[str] = field(default_factory=list)  # the first few, "file:line: why"

    def reject(self, line: int, why: str) -> None:
        self.malformed += 1
        if len(self.problems) < _SHOWN:
            self.problems.append(f"{self.path.name}:{line}: {why}")


def _why(value: str) -> str:
    if not value:
        return "no code in this row"
    if len(value) < 4 or len(value) > 64:
        return f"a code of {len(value)} characters (expected 4 to 64)"
    return "the code has characters other than letters, digits and '-'"


def read_codes(
    path: Path, found: CodeFile, *, columns: tuple[str, ...] = CODE_COLUMNS
) -> Iterator[tuple[int, str]]:
    """(line, code) for each usable row of ``path``; ``found`` counts and names the others.
    Raises UsageError when the file cannot be read or has no code column."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}", hint="check the path") from None
    with handle:
        reader = csv.reader(handle)
        try:
            first = next(reader, None)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise UsageError(f"{path.name}:1: not a CSV file ({type(exc).__name__})") from None
        if first is None:
            return
        names = [c.strip().lower() for c in first]
        column = next((names.index(c) for c in columns if c in names), None)
        if column is None:
            if len(first) == 1 and _CODE.match(first[0].strip()):
                column = 0  # bare codes, no header: the first row is a code too
                found.rows += 1
                yield reader.line_num, first[0].strip()
            else:
                raise UsageError(
                    f"{path.name}:1: no code column",
                    hint=f"name the column with the codes one of: {', '.join(columns)} "
                    "(or give a file with one bare code per line)",
                )
        try:
            for row in reader:
                found.rows += 1
                if not any(cell.strip() for cell in row):
                    found.rows -= 1  # blank lines are not rows
                    continue
                value = row[column].strip() if column < len(row) else ""
                if not _CODE.match(value):
                    found.reject(reader.line_num, _why(value))
                    continue
                yield reader.line_num, value
        except (csv.Error, UnicodeDecodeError) as exc:
            raise UsageError(
                f"{path.name}:{reader.line_num}: cannot read the file further ({type(exc).__name__})",
                hint="save it as UTF-8 CSV and import it again; codes before this line were imported",
            ) from None
