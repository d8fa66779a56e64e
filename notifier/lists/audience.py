"""The one answer to "who is in segment S for notice N, and in which state".

Every command that names a segment asks here: `lint`, `check`, `deadlines`, `lists check`, the
preview and the evidence pack. The lists are read exactly as `send` imports them (the same
reader, the same merge rules as ``ledger.import_list``), each person is joined with the REAL
campaign ledger's state through its read-only "audience reads", and the segment sees the one
view :func:`notifier.models.segment_view` builds (the ledger's plan uses it too). So a command
never disagrees with what `send`/`run-due` would target, and nothing here writes: before the
first send there is no ledger, and the state is empty.

Memory: flat in the list. The lists are merged by the ledger's own import (the same code as
`send`, so the same counts) into a private scratch ledger (a 0600 file in a 0700 temporary
folder, removed when the Lists object goes), and read back a page at a time: ``Lists.recipients``
and a segment's :class:`Selection` are sequences that hold only recipient ids (8 bytes a person)
and fetch the people a caller looks at. The campaign ledger is read in batches, as before.
"""

from __future__ import annotations

import contextlib
import tempfile
import weakref
from array import array
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, overload

from notifier.ledger import SqliteLedger, ledger_exists, open_ledger
from notifier.lists.prefetch import read_list_prefetched
from notifier.lists.segments import Segment
from notifier.models import LedgerState, Recipient, segment_view
from notifier.settings import Settings

__all__ = [
    "Counts",
    "ListSummary",
    "Lists",
    "Member",
    "Recipients",
    "Selection",
    "StateReader",
    "count",
    "first_notice_of",
    "members",
    "open_reader",
    "read_lists",
    "select",
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


class Recipients(Sequence[Recipient]):
    """One per person, in first-seen order, read from the scratch ledger a page at a time: only
    their ids are held (``ids``, ascending)."""

    def __init__(self, store: SqliteLedger | None, ids: array[int]) -> None:
        self._store = store
        self.ids = ids

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, i: int) -> Recipient: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[Recipient]: ...
    def __getitem__(self, i: int | slice) -> Recipient | Sequence[Recipient]:
        if isinstance(i, slice):
            return Recipients(self._store, self.ids[i])
        return self.fetch([self.ids[i]])[0]

    def __iter__(self) -> Iterator[Recipient]:
        for start in range(0, len(self.ids), BATCH):
            yield from self.fetch(self.ids[start : start + BATCH])

    def fetch(self, ids: Sequence[int]) -> list[Recipient]:
        """The recipients with these ledger ids, in that order."""
        if self._store is None or not ids:
            return []
        found = self._store.recipients_by_id(list(ids))
        return [found[i] for i in ids]


@dataclass
class Lists:
    """The campaign's lists, read and merged as the ledger import merges them."""

    summaries: list[ListSummary] = field(default_factory=list)
    recipients: Recipients = field(default_factory=lambda: Recipients(None, array("q")))  # first-seen order
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
    """Read and merge ``files`` with the ledger import's rules (it IS the ledger import, into a
    private scratch ledger):

    - someone new is added where first seen;
    - someone already seen in an EARLIER list takes this list's row (the later list wins);
    - a second row in the SAME list is merged into the first: its extra ``exposed`` categories
      are added (a breach notice must not under-report) and it is reported as a duplicate.

    Raises ListError when a file cannot be used at all.
    """
    folder = tempfile.TemporaryDirectory(prefix="notify-audience-")  # 0700
    store = SqliteLedger(Path(folder.name) / "lists.sqlite", shared=True)  # 0600
    out = Lists()
    weakref.finalize(out, _drop, store, folder)  # the Lists own it: gone with them (or at exit)
    imports = []
    for path in files:
        rows = read_list_prefetched(
            path, check_deliverability=check_deliverability, dns_resolver=dns_resolver
        )
        imp = store.import_list(str(path), "", rows)
        imports.append(imp.list_id)
        out.summaries.append(
            ListSummary(str(path), imp.rows, imp.valid, imp.invalid, imp.duplicates, imp.warnings)
        )
    ids: array[int] = array("q")
    after = 0
    while True:
        page = store.member_ids(imports, after, 5000)
        if not page:
            break
        ids.extend(page)
        after = page[-1]
    out.recipients = Recipients(store, ids)
    kinds = ("invalid", "malformed", "duplicate", "warning")
    out.issues = [{**i, "raw": i["raw"] if i["kind"] in ("invalid", "malformed") else None}
                  for i in store.list_issues(imports, kinds)]  # fmt: skip
    out.rejected_fields = store.rejected_rows(imports)
    return out


def _drop(store: SqliteLedger, folder: tempfile.TemporaryDirectory[str]) -> None:
    store.close()
    folder.cleanup()


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


class Selection(Sequence[Member]):
    """A segment's members as a sequence that holds two small numbers a person (their place in
    the lists and their ledger state, one of the few distinct ones), taken in one pass; each
    Member is built when asked for. The state is as the ledger had it at :func:`select`."""

    def __init__(
        self, lists: Lists, places: array[int], states: array[int], table: list[LedgerState]
    ) -> None:
        self._lists = lists
        self.places = places  # 1-based places in lists.recipients, ascending (Member.id)
        self._states = states
        self._table = table

    def __len__(self) -> int:
        return len(self.places)

    @overload
    def __getitem__(self, i: int) -> Member: ...
    @overload
    def __getitem__(self, i: slice) -> Selection: ...
    def __getitem__(self, i: int | slice) -> Member | Selection:
        if isinstance(i, slice):
            return Selection(self._lists, self.places[i], self._states[i], self._table)
        if i < 0:
            i += len(self.places)
        return self._build(range(i, i + 1))[0]

    def __iter__(self) -> Iterator[Member]:
        for start in range(0, len(self.places), BATCH):
            yield from self._build(range(start, min(start + BATCH, len(self.places))))

    def _build(self, span: range) -> list[Member]:
        ids = self._lists.recipients.ids
        people = self._lists.recipients.fetch([ids[self.places[i] - 1] for i in span])
        out = []
        for i, r in zip(span, people, strict=True):
            state = self._table[self._states[i]]
            out.append(Member(self.places[i], r, state, segment_view(r.fields, r.email, state)))
        return out


def select(
    lists: Lists, segment: Segment, reader: StateReader | None, *, notice: str, first_notice: str
) -> Selection:
    """:func:`members` as a :class:`Selection` (one pass; memory flat in the list)."""
    places: array[int] = array("q")
    states: array[int] = array("H")
    table: list[LedgerState] = []
    index: dict[LedgerState, int] = {}
    for m in members(lists, segment, reader, notice=notice, first_notice=first_notice):
        at = index.get(m.state)
        if at is None:
            at = index[m.state] = len(table)
            table.append(m.state)
        places.append(m.id)
        states.append(at)
    return Selection(lists, places, states, table)
