"""`notify offers import` and `notify offers report`: the vendor's files in, counts out.

Neither the codes nor the file's contents are logged or printed: the audit log records the
offer, pool, counts and the file's SHA-256; problems name file:line and why.
"""

from __future__ import annotations

import csv
import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from notifier.compliance.offers import DEFAULT_POOL, MINORS
from notifier.errors import UsageError, did_you_mean
from notifier.ledger import Ledger
from notifier.ledger.audit import file_sha256
from notifier.ledger.base import CodeImport
from notifier.offers.codes import CodeFile, read_codes
from notifier.settings import Offer, Settings

__all__ = ["Enrolments", "POOLS", "import_codes", "import_enrolments", "offer_named"]

POOLS = (DEFAULT_POOL, MINORS)
_DATE_COLUMNS = ("enrolled_at", "enrollment_date", "enrolment_date", "enrolled", "date")


def offer_named(settings: Settings, name: str) -> Offer:
    """The ``[offers.NAME]`` called ``name``. Raises UsageError naming the ones there are."""
    offer = settings.offers.get(name)
    if offer is None:
        names = list(settings.offers)
        raise UsageError(
            f"no offer called {name!r} in notify.toml",
            hint=did_you_mean(name, names)
            or (f"the offers are: {', '.join(names)}" if names else "add an [offers.NAME] table first"),
        )
    return offer


def import_codes(
    settings: Settings, ledger: Ledger, path: Path, offer: str, pool: str
) -> tuple[CodeImport, CodeFile]:
    """Stream ``path``'s codes into ``offer``'s ``pool``; audited without the codes."""
    offer_named(settings, offer)
    if pool not in POOLS:
        raise UsageError(f"no pool {pool!r}", hint=f"use one of: {', '.join(POOLS)}")
    found = CodeFile(path)
    added = ledger.import_codes(offer, pool, read_codes(path, found))
    ledger.audit(
        "offers.import",
        {
            "offer": offer,
            "pool": pool,
            "sha256": file_sha256(path),
            "rows": found.rows,
            "added": added.added,
            "duplicates": added.duplicates,
            "malformed": found.malformed,
        },
    )
    return added, found


@dataclass(frozen=True, slots=True)
class Enrolments:
    issued: int  # enrolled codes we had issued to someone
    unissued: int  # enrolled codes of ours nobody was given (the vendor's mistake, or a test)
    unknown: int  # codes we never imported
    found: CodeFile


def _enrolled_rows(path: Path, found: CodeFile) -> Iterator[tuple[str, float]]:
    """(code, when) from the vendor's report: a code column, and a date column if it has one."""
    dates: dict[int, float] = {}
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = [c.strip().lower() for c in next(csv.reader(handle), [])]
    except (OSError, csv.Error, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    column = next((header.index(c) for c in _DATE_COLUMNS if c in header), None)
    if column is not None:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            next(reader, None)
            for row in reader:
                text = row[column].strip() if column < len(row) else ""
                try:
                    when = dt.datetime.fromisoformat(text)
                except ValueError:
                    continue
                if when.tzinfo is None:
                    when = when.replace(tzinfo=dt.UTC)
                dates[reader.line_num] = when.timestamp()
    now = time.time()
    for line, code in read_codes(path, found):
        yield code, dates.get(line, now)


def import_enrolments(settings: Settings, ledger: Ledger, path: Path, offer: str) -> Enrolments:
    """Mark the codes of the vendor's enrolment report as enrolled (take-up); audited."""
    offer_named(settings, offer)
    found = CodeFile(path)
    issued, unissued, unknown = ledger.mark_enrolled(offer, _enrolled_rows(path, found))
    ledger.audit(
        "offers.enrolments",
        {
            "offer": offer,
            "sha256": file_sha256(path),
            "enrolled": issued,
            "unissued": unissued,
            "unknown": unknown,
        },
    )
    return Enrolments(issued, unissued, unknown, found)
