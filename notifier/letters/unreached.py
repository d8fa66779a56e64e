"""Letters in `notify report --unreached`: a returned letter is someone not reached, and someone
email did not reach whose letter went out (and did not come back) is reached after all."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from notifier.ledger.base import LetterRow

__all__ = ["LetterReads", "RETURNED", "with_letters"]

RETURNED = "letter-returned"  # a report row's state: the mail house sent the letter back


class LetterReads(Protocol):
    def returned_letters(self, notice: str = "") -> list[LetterRow]: ...
    def letter_keys(self, notice: str) -> set[str]: ...


def _iso(at: float | None) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).isoformat(timespec="seconds") if at else ""


def with_letters(
    rows: Iterable[dict[str, Any]], ledger: LetterReads, *, notice: str, columns: Sequence[str]
) -> Iterator[dict[str, Any]]:
    """``rows`` (the report's unreached rows) less those whose letter was delivered, then one
    row per returned letter (state ``letter-returned``, its reason, the printed address)."""
    returned = ledger.returned_letters(notice)
    back = {r.key for r in returned}
    printed: dict[str, set[str]] = {}
    for row in rows:
        name = str(row.get("notice", ""))
        if name not in printed:
            printed[name] = ledger.letter_keys(name)
        key = str(row.get("email", "")).lower()
        if key in printed[name] and key not in back:
            continue  # email did not reach them; the letter did
        yield row
    for letter in returned:
        yield _row(letter, columns)


def _row(letter: LetterRow, columns: Sequence[str]) -> dict[str, Any]:
    source, _, line = letter.source.rpartition(":")
    values: Mapping[str, Any] = {
        "notice": letter.notice,
        "state": RETURNED,
        "email": letter.key,
        "id": letter.letter_id,
        "postal_address": " / ".join(letter.address),
        "reason": letter.return_reason,
        "last_attempt_at": _iso(letter.returned_at),
        "sent_at": _iso(letter.built_at),
        "list": source,
        "line": int(line) if line.isdigit() else "",
        "channel": "postal",
    }
    return {c: values.get(c, "") for c in columns}
