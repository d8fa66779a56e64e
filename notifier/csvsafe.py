"""CSV that a spreadsheet opens as data, never as formulas (OWASP "CSV Injection").

Every CSV notify writes (reports, `--unreached`, outcome tables, rejected rows, the
suppression list) goes through :func:`writer` or :func:`dict_writer`. Staff open these files
in Excel or LibreOffice, and their cells carry text from outside: list values, addresses and
the reply texts of remote mail servers (a relay can answer ``550 =HYPERLINK(...)``).

The rule, applied to every text cell whatever its column:

- a cell whose first character, ignoring leading spaces, is ``=``, ``+``, ``-``, ``@``, TAB,
  CR or LF gets a leading single quote, which spreadsheets take as "this is text";
- every cell is quoted, so a spreadsheet that splits on another delimiter (``;`` in many
  locales) cannot start a new cell, and so a formula, in the middle of one of ours.

Numbers notify computes itself (attempts, reply codes, line numbers) are written as numbers:
they are never negative and cannot hold a formula. Text is neutralised in every column rather
than only in "untrusted" ones because nearly every text column can carry outside text, and a
rule with exceptions is one a later column forgets. The cost: an address or value that
really starts with one of those characters (``-joe@example.com``) appears with a leading
``'``; programs should read the JSON output (``--format json``), which is never altered.
"""

from __future__ import annotations

import csv
from collections.abc import Collection, Iterable, Mapping
from typing import Any, Protocol

__all__ = ["TRIGGERS", "dict_writer", "safe_cell", "writer"]

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


class _Writable(Protocol):
    def write(self, s: str, /) -> Any: ...


def safe_cell(value: Any) -> Any:
    """``value`` unchanged unless it is text a spreadsheet would evaluate; then ``'value``."""
    if isinstance(value, str) and value.lstrip(" ").startswith(TRIGGERS):
        return "'" + value
    return value


class SafeWriter:
    """``csv.writer`` with every cell passed through :func:`safe_cell`."""

    def __init__(self, out: _Writable) -> None:
        self._w = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)

    def writerow(self, row: Iterable[Any]) -> None:
        self._w.writerow([safe_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


class SafeDictWriter:
    """``csv.DictWriter`` with every cell passed through :func:`safe_cell`."""

    def __init__(self, out: _Writable, fieldnames: Collection[str]) -> None:
        self.fieldnames = list(fieldnames)
        self._w = SafeWriter(out)

    def writeheader(self) -> None:
        self._w.writerow(self.fieldnames)

    def writerow(self, row: Mapping[str, Any]) -> None:
        self._w.writerow(row.get(name, "") for name in self.fieldnames)

    def writerows(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out: _Writable) -> SafeWriter:
    return SafeWriter(out)


def dict_writer(out: _Writable, fieldnames: Collection[str]) -> SafeDictWriter:
    return SafeDictWriter(out, fieldnames)
