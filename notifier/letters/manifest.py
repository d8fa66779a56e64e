"""The manifest a mail house takes with the batch PDFs: one row per letter, in print order.

Columns: ``row`` (1 = the first letter; the returned-mail file may name a letter by it),
``recipient_id``, ``file``, ``first_page``, ``pages``, ``addressee`` (recipient or next_of_kin)
and ``address_1`` … ``address_6``. Spreadsheet-safe (notifier.csvsafe), 0600 (notifier.private),
written to a temporary file and renamed, so a mail house never picks up half a manifest.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from notifier.csvsafe import writer
from notifier.ledger.base import LetterRow
from notifier.private import private_text

__all__ = ["ADDRESS_COLUMNS", "HEADER", "write_manifest"]

ADDRESS_COLUMNS = 6
HEADER = (
    "row",
    "recipient_id",
    "file",
    "first_page",
    "pages",
    "addressee",
    *(f"address_{i}" for i in range(1, ADDRESS_COLUMNS + 1)),
)


def write_manifest(rows: Iterable[LetterRow], path: Path) -> Path:
    """Write every letter of ``rows`` (manifest order) to ``path``; returns ``path``."""
    temp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with private_text(temp) as fh:
        out = writer(fh)
        out.writerow(HEADER)
        for number, r in enumerate(rows, 1):
            address = list(r.address[:ADDRESS_COLUMNS]) + [""] * (ADDRESS_COLUMNS - len(r.address))
            out.writerow([number, r.letter_id, r.file, r.first_page, r.pages, r.addressee, *address])
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(temp, path)
    return path
