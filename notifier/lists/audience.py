"""The one answer to "who is in segment S for notice N, and in which state".

Every command that names a segment asks here: `lint`, `check`, `deadlines`, `lists check`, the
preview and the evidence pack. The lists are read exactly as `send` imports them (the same
reader, the same merge rules as ``ledger.import_list``), each person is joined with the REAL
campaign ledger's state through its read-only "audience reads", and the segment sees the one
view :func:`notifier.models.segment_view` builds (the ledger's plan uses it too). So a command
never disagrees with what `send`/`run-due` would target, and nothing here writes: before the
first send there is no ledger, and the state is empty.

Memory: the merged recipients of the current lists are held while a command runs (the merge
needs every key to apply the ledger's rules); the ledger itself is read in batches.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from notifier.ledger import ledger_exists, open_ledger
from notifier.lists.recipients import read_list
from notifier.lists.segments import Segment
from notifier.models import LedgerState, Recipient, merge_duplicate, segment_view
from notifier.settings import Settings

__all__ = [
    "Counts",
    "ListSummary",
    "Lists",
    "Member",
    "StateReader",
    "count",
    "first_notice_of",
    "members",
    "open_reader",
    "read_lists",
]

BATCH = 500  # keys per ledger read: well under SQLite's 32,766 bound parameters


class StateReader(Protocol):
    """The ledger's read-only audience reads (notifier.ledger.base.Ledger has them)."""

    def audience_states(
        self, notice: str, first_notice: str, keys: Sequence[str]
    ) -> dict[str, LedgerState]: ...
    def accepted_at(self, notice: str, keys: Sequence[str]) -> dict[str, float]: ...
    def filings(self) -> dict[str, tuple[float, str, str]]: ...


@dataclass(frozen=True, slots=True)
class ListSummary:
    """One list file as the import would count it."""

    path: str
    rows: int
    valid: int
    invalid: int
    duplicates: int
    warnings: int


@dataclass
class Lists:
    """The campaign's lists, read and merged as the ledger import merges them."""

    summaries: list[ListSummary] = field(default_factory=list)
    recipients: list[Recipient] = field(default_factory=list)  # one per person, first-seen order
    issues: list[dict[str, Any]] = field(default_factory=list)  # rejects, duplicates, warnings
    rejected_fields: list[tuple[dict[str, Any] | None, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Member:
    """One person of a segment: ``id`` is their place in the merged lists (1-based)."""

    id: int
    recipient: Recipient
    state: LedgerState
    view: dict[str, Any]

    @property
    def where(self) -> str:
        return f"{self.recipient.source}:{self.recipient.line}"


@dataclass(frozen=True, slots=True)
class Counts:
    """How many people a segment holds, by their state for the notice and by place."""

    segment: str
    members: int
    by_state: dict[str, int]  # "" = not planned for this notice yet
    by_place: dict[tuple[str, str], int]  # (country, region)
    invalid: int  # rejected list rows the segment would include (planned as 'invalid')

    def as_dict(self) -> dict[str, Any]:
        return {
            "segment": self.segment,
            "members": self.members,
            "by_state": {k or "new": v for k, v in sorted(self.by_state.items())},
            "invalid_rows": self.invalid,
        }


def read_lists(
    files: Sequence[Path], *, check_deliverability: bool = False, dns_resolver: Any = None
) -> Lists:
    """Read and merge ``files`` with the ledger import's rules (SqliteLedger._upsert):

    - someone new is added where first seen;
    - someone already seen in an EARLIER list takes this list's row (the later list wins);
    - a second row in the SAME list is merged into the first: its extra ``exposed`` categories
      are added (a breach notice must not under-report) and it is reported as a duplicate.

    Raises ListError when a file cannot be used at all.
    """
    out = Lists()
    index: dict[str, tuple[int, Recipient, set[int]]] = {}  # key -> (position, row, lists it is in)
    for number, path in enumerate(files):
        rows = valid = invalid = dupes = warns = 0
        source = str(path)
        for item in read_list(path, check_deliverability=check_deliverability, dns_resolver=dns_resolver):
            rows += 1
            if item.reject is not None:
                rj = item.reject
                invalid += 1
                out.issues.append(_issue(source, rj.line, rj.kind, rj.reason, rj.email, rj.raw))
                out.rejected_fields.append((rj.fields, f"{source}:{rj.line}"))
                continue
            r = item.recipient
            assert r is not None
            seen = index.get(r.key)
            if seen is None:
                index[r.key] = (len(out.recipients), r, {number})
                out.recipients.append(r)
                valid += 1
            elif number not in seen[2]:
                position, _old, in_lists = seen
                index[r.key] = (position, r, {*in_lists, number})
                out.recipients[position] = r
                valid += 1
            else:
                position, first, in_lists = seen
                merged, reason = merge_duplicate(first.fields, r.fields, first.line)
                if merged is not None:
                    first = dataclasses.replace(first, fields=merged)
                    index[r.key] = (position, first, in_lists)
                    out.recipients[position] = first
                dupes += 1
                out.issues.append(_issue(source, r.line, "duplicate", reason, r.email, None))
            for w in item.warnings:
                warns += 1
                out.issues.append(_issue(source, r.line, "warning", w, r.email, None))
        out.summaries.append(ListSummary(source, rows, valid, invalid, dupes, warns))
    out.issues.sort(key=lambda i: (i["file"], i["line"]))
    return out


def _issue(path: str, line: int, kind: str, reason: str, email: str, raw: str | None) -> dict[str, Any]:
    return {"file": path, "line": line, "kind": kind, "reason": reason, "email": email, "raw": raw}


def first_notice_of(settings: Settings, notice: str, refers_to: str = "") -> str:
    """The notice whose state `notified`/`unreached` read: a follow-up's ``refers_to``, else the
    campaign's notice (as `send` plans it)."""
    return refers_to or settings.notice


@contextlib.contextmanager
def open_reader(settings: Settings) -> Iterator[StateReader | None]:
    """The campaign ledger for reading, or None when there is none yet (nothing is created)."""
    if not ledger_exists(settings):
        yield None
        return
    ledger = open_ledger(settings)
    try:
        yield ledger
    finally:
        ledger.close()


def members(
    lists: Lists, segment: Segment, reader: StateReader | None, *, notice: str, first_notice: str
) -> Iterator[Member]:
    """Everyone of ``lists`` in ``segment``, with their ledger state, in list order.

    Raises SegmentError when the expression fails for someone (with their file:line).
    """
    people = lists.recipients
    for start in range(0, len(people), BATCH):
        batch = people[start : start + BATCH]
        states = reader.audience_states(notice, first_notice, [r.key for r in batch]) if reader else {}
        for offset, r in enumerate(batch):
            state = states.get(r.key) or LedgerState()
            view = segment_view(r.fields, r.email, state)
            where = f"{r.source}:{r.line}"
            if segment.matches(view, where=where):
                yield Member(start + offset + 1, r, state, view)


def count(
    lists: Lists, segment: Segment, reader: StateReader | None, *, notice: str, first_notice: str
) -> Counts:
    """How many people :func:`members` yields, by state and place, plus the rejected rows the
    segment would take (the plan records those as 'invalid')."""
    by_state: Counter[str] = Counter()
    by_place: Counter[tuple[str, str]] = Counter()
    n = 0
    for m in members(lists, segment, reader, notice=notice, first_notice=first_notice):
        n += 1
        by_state[m.state.state] += 1
        by_place[(str(m.view.get("country", "")), str(m.view.get("region", "")))] += 1
    invalid = 0
    for fields, where in lists.rejected_fields:
        keep = True
        if fields is not None:
            try:
                keep = segment.matches(segment_view(fields, ""), where=where)
            except Exception:  # a row we could not read fully is still reported (as the plan does)
                keep = True
        invalid += keep
    return Counts(segment.name, n, dict(by_state), dict(by_place), invalid)
