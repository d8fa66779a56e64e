"""The Ledger boundary: the Protocol every caller depends on, and the values it speaks in.

Two backends implement it: the SQLite file (notifier/ledger/sqlite/) and PostgreSQL for
several senders (notifier/ledger/postgres.py), each with its own statements. Nothing outside
notifier/ledger/ sees SQL or a database driver: callers use these named methods, and a driver
error leaves the ledger as a :class:`~notifier.errors.LedgerError` (see :func:`map_errors`).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from notifier.ledger.audit import AuditEntry, AuditKey, Head
from notifier.models import LedgerState, ListRow, Recipient, State

__all__ = [
    "BounceEntry",
    "BounceRecord",
    "ChannelCount",
    "ChannelRow",
    "Claimed",
    "CodeImport",
    "ImportSummary",
    "Ledger",
    "LetterRow",
    "ListImport",
    "LoggedNotice",
    "NOT_EMAILED",
    "NoticeStatus",
    "OfferCount",
    "OutcomeRow",
    "PersonEvent",
    "PersonState",
    "PlanSummary",
    "ReportRow",
    "Result",
    "RunRecord",
    "ScheduleRow",
    "StoredChannel",
    "map_errors",
]


# ---- values -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportSummary:
    list_id: int
    path: str
    rows: int
    valid: int
    invalid: int
    duplicates: int
    warnings: int
    reused: bool


@dataclass(frozen=True, slots=True)
class PlanSummary:
    """This run's targets by state. ``failed_before``: the targets that no server accepted
    before this plan (state failed or bounced), as (how, reason) -> (retryable, kept) counts;
    ``how`` is ``gave_up`` (temporary failures until the retry window closed), ``refused`` (a
    permanent refusal) or ``bounced`` (accepted, then bounced). Retryable means not a dead
    address and not suppressed: ``--retry-failed`` sends to those again (``retried``)."""

    targets: int
    by_state: dict[str, int]
    failed_before: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    retried: bool = False

    def count(self, *states: State) -> int:
        return sum(self.by_state.get(s.value, 0) for s in states)

    @property
    def retryable(self) -> int:
        return sum(n for n, _ in self.failed_before.values())


@dataclass(frozen=True, slots=True)
class Claimed:
    row: int
    recipient: Recipient
    attempts: int
    first_attempt_at: float | None
    possibly_duplicated: bool


@dataclass(frozen=True, slots=True)
class Result:
    row: int
    state: State
    verdict: str
    code: int | None
    text: str
    queue_id: str
    at: float
    next_attempt_at: float | None
    message_id: str
    reason: str | None = None  # reply vocabulary (notifier.bounces.replies), None when accepted
    suppress: bool = False  # a hard failure: the address cannot receive mail, skip it in later notices
    possibly_duplicated: bool = False  # the data went out but the reply was lost: a resend may duplicate


@dataclass(frozen=True, slots=True)
class BounceEntry:
    """One recipient of a bounce or event, and what it may change. ``message`` is set only
    when the report is tied to a message this campaign sent (its VERP token, provider message
    id or Message-ID); without it the entry is only recorded."""

    address: str = ""
    message: int | None = None
    matched: str = ""  # verp, provider-id, message-id, token, unverified, or "" (unmatched)
    reason: str = ""
    hard: bool = False
    key: str = ""  # the recipient's dedupe key: what a suppression applies to
    bounced: bool = False  # mark the message bounced (it did not reach them)
    suppress: str = ""  # suppress ``key`` now, for this reason (hard bounce, complaint)
    soft: bool = False  # a soft bounce: suppress ``key`` once the soft streak is long enough


@dataclass(frozen=True, slots=True)
class BounceRecord:
    """One bounce message or event for :meth:`Ledger.record_bounce_batch`: what
    ``record_bounce_outcome`` takes for one, as a value."""

    digest: str
    source: str
    kind: str
    entries: tuple[BounceEntry, ...]
    event_at: float | None = None
    also_seen_as: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NoticeStatus:
    """What `notify status` says about one notice, read in one go."""

    notice: str
    counts: dict[str, int]
    deferred: int
    next_retry_at: float | None
    errors: list[tuple[int | None, int, str]]  # (reply code or None, how many, last reply text)
    reasons: dict[str, int]  # not delivered, by reason
    duplicated: int  # flagged possibly duplicated
    duplicated_emails: list[str]  # the first ``show`` of them


@dataclass(frozen=True, slots=True)
class OutcomeRow:
    """One message of a notice, as the outcome tables count it."""

    message: int
    domain: str
    state: str
    reason: str
    delivered: bool  # a delivery event came back for it
    complained: bool


@dataclass(frozen=True, slots=True)
class PersonState:
    """One person's message for one notice, as the console's recipient browser shows it."""

    state: str
    attempts: int
    reason: str
    last_code: int | None
    recipient_row: int = 0  # the ledger's row of the person (channel decisions are kept by it)


@dataclass(frozen=True, slots=True)
class PersonEvent:
    """One thing the ledger recorded about a person (the console's person page)."""

    at: float
    notice: str
    kind: str  # "attempt accepted|temporary|permanent", bounce, complaint, delay, unsubscribed, suppressed
    detail: str


@dataclass(frozen=True, slots=True)
class ListImport:
    path: str
    rows: int
    valid: int
    invalid: int
    duplicates: int
    imported_at: float


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: int
    notice: str
    segment: str
    status: str
    started_at: float
    ended_at: float | None
    user: str
    host: str
    summary: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One (notice, recipient or rejected list row) as `notify report` and the evidence pack
    read it. ``recipient_id`` is None for a rejected list row (state invalid)."""

    message: int
    recipient_id: int | None
    notice: str
    state: str
    email: str
    fields: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    last_code: int | None = None
    last_reply: str = ""
    reason: str = ""
    queue_id: str = ""
    message_id: str = ""
    first_attempt_at: float | None = None
    last_attempt_at: float | None = None
    sent_at: float | None = None
    possibly_duplicated: bool = False
    source: str = ""
    line: int | None = None


NOT_EMAILED = "not-emailed"  # a report row's state: a channel decision, and no email planned (issue 16)


@dataclass(frozen=True, slots=True)
class ChannelRow:
    """One channel decision to record (issue 16): ``key`` is the recipient's dedupe key."""

    key: str
    channel: str  # email, postal, none-possible
    rule: str
    reason: str
    jurisdiction: str = ""
    log_required: bool = False
    rules_version: str = ""


@dataclass(frozen=True, slots=True)
class StoredChannel:
    channel: str
    rule: str
    reason: str
    log_required: bool


@dataclass(frozen=True, slots=True)
class ChannelCount:
    jurisdiction: str
    channel: str
    rule: str
    reason: str
    people: int


@dataclass(frozen=True, slots=True)
class LetterRow:
    """One printed letter (issue 16): which batch PDF holds it, from which page, for whom."""

    notice: str
    letter_id: str  # the recipient id printed in the manifest
    key: str  # the person's dedupe key
    batch: int
    file: str  # the batch PDF's name in the output folder
    first_page: int
    pages: int
    address: tuple[str, ...]
    addressee: str  # "recipient", or "next_of_kin" for a deceased person
    source: str  # list file:line
    built_at: float = 0.0
    returned_at: float | None = None
    return_reason: str = ""


@dataclass(frozen=True, slots=True)
class LoggedNotice:
    """One entry of the notice log (NY GBL 899-aa(5)(b)): an electronic notice that was accepted."""

    at: float
    notice: str
    email: str
    list_id: str  # the list's own `id` column, "" when it has none
    channel: str
    message_id: str
    rule: str


@dataclass(frozen=True, slots=True)
class CodeImport:
    """What `notify offers import` added (issue 17); duplicates: codes the ledger already held."""

    added: int
    duplicates: int
    duplicate_lines: tuple[int, ...] = ()  # the first of them, by line of the file


@dataclass(frozen=True, slots=True)
class OfferCount:
    """One offer's pool: codes imported, issued to someone, enrolled (the vendor's report)."""

    offer: str
    pool: str
    total: int
    issued: int
    enrolled: int

    @property
    def remaining(self) -> int:
        return self.total - self.issued


@dataclass(frozen=True, slots=True)
class ScheduleRow:
    id: int
    notice: str
    segment: str
    state: str
    created_at: float
    note: str


# ---- driver errors --------------------------------------------------------------------------

F = TypeVar("F", bound=Callable[..., Any])


def map_errors(cls: type[Any], mapper: Callable[[Any, Exception], Exception | None]) -> None:
    """Wrap every public method of ``cls`` (and the generators they return) so that a driver
    error raised inside becomes what ``mapper`` makes of it (a LedgerError), never a
    sqlite3/psycopg exception a caller would have to import the driver to catch. ``mapper``
    gets the ledger (to name it) and the error, and returns None for errors that are not the
    driver's."""

    def wrap(fn: F) -> F:
        if inspect.isgeneratorfunction(fn):

            @functools.wraps(fn)
            def gen(*args: Any, **kwargs: Any) -> Iterator[Any]:
                try:
                    yield from fn(*args, **kwargs)
                except Exception as exc:
                    mapped = mapper(args[0], exc)
                    if mapped is None:
                        raise
                    raise mapped from None

            return gen  # type: ignore[return-value]

        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                mapped = mapper(args[0], exc)
                if mapped is None:
                    raise
                raise mapped from None

        return call  # type: ignore[return-value]

    for name, value in list(vars(cls).items()):
        if name.startswith("_") or not inspect.isfunction(value) or getattr(value, "_mapped", False):
            continue
        wrapped = wrap(value)
        wrapped._mapped = True  # type: ignore[attr-defined]
        setattr(cls, name, wrapped)


# ---- the interface ---------------------------------------------------------------------------


class Ledger(Protocol):
    """Every method a caller outside notifier/ledger/ may use."""

    path: Path
    audit_source: AuditKey

    @property
    def label(self) -> str: ...

    # set-up
    def secret(self) -> bytes: ...
    def lock(self) -> None: ...
    def close(self) -> None: ...
    def copy_to(self, path: Path) -> None: ...

    # lists and planning
    def find_import(self, path: str, sha256: str) -> ImportSummary | None: ...
    def import_list(self, path: str, sha256: str, rows: Iterable[ListRow]) -> ImportSummary: ...
    def list_issues(self, list_ids: Iterable[int], kinds: Iterable[str]) -> Iterator[dict[str, Any]]: ...
    # members of imported lists read back a page at a time (notifier.lists.audience, issue 15)
    def member_ids(self, list_ids: Iterable[int], after: int, limit: int) -> list[int]: ...
    def recipients_by_id(self, ids: Sequence[int]) -> dict[int, Recipient]: ...
    def target_recipients(self) -> Iterator[Recipient]: ...
    def target_groups(
        self, present: Sequence[str], truthy: Sequence[str], valued: Sequence[str], *, limit: int
    ) -> list[tuple[int, int]] | None: ...
    def rejected_rows(self, list_ids: Iterable[int]) -> list[tuple[dict[str, Any] | None, str]]: ...
    def plan(
        self,
        notice: str,
        list_ids: list[int],
        include: Callable[[dict[str, Any], str], bool] | None,
        *,
        resend: bool = False,
        retry_failed: bool = False,
        never_retried: Iterable[str] = (),
        first_notice: str = "",
        follow_up: bool = False,
        ledger_state: bool = True,
        shared_key: str = "",
    ) -> PlanSummary: ...
    def keep_targets(self, keep: Callable[[dict[str, Any]], bool]) -> int: ...
    def targets_to_send(self, now: float) -> Iterator[Claimed]: ...

    # a run
    def start_run(self, notice: str, segment: str, transport: str, options: dict[str, Any]) -> int: ...
    def recover_in_flight(self) -> int: ...
    def claim(self, run_id: int, limit: int, now: float, results: list[Result]) -> list[Claimed]: ...
    def record(self, run_id: int, results: list[Result]) -> None: ...
    def release(self, rows: Iterable[int]) -> None: ...
    def next_retry_at(self) -> float | None: ...
    def end_run(self, run_id: int, status: str, summary: dict[str, Any]) -> None: ...
    def rate_share(self) -> float: ...
    def live_senders(self) -> list[dict[str, Any]]: ...
    def stale_leases(self) -> int: ...
    def try_lead(self) -> bool: ...
    def record_check(
        self, *, kind: str, notice: str, run_id: int | None, failed: list[str], report: dict[str, Any]
    ) -> None: ...

    # ---- audience reads (notifier.lists.audience): read-only, by dedupe key ----
    def states_for(self, notice: str, keys: Sequence[str]) -> dict[str, str]: ...
    def complained(self, keys: Sequence[str]) -> set[str]: ...
    def unsubscribed(self, keys: Sequence[str]) -> set[str]: ...
    def suppressed(self, keys: Sequence[str]) -> dict[str, str]: ...
    def audience_states(
        self, notice: str, first_notice: str, keys: Sequence[str]
    ) -> dict[str, LedgerState]: ...
    def accepted_at(self, notice: str, keys: Sequence[str]) -> dict[str, float]: ...
    def filings(self) -> dict[str, tuple[float, str, str]]: ...
    def mark_filed(self, rule: str, at: float, ref: str) -> None: ...
    def record_test(self, *, notice: str, seed: str, accepted: bool, reply: str) -> None: ...

    # suppressions, unsubscribes, bounces
    def suppress(self, keys: Iterable[str], *, reason: str, source: str) -> int: ...
    def unsuppress(self, keys: Iterable[str]) -> int: ...
    def suppressions(self) -> list[tuple[str, str, float, str]]: ...
    def unsubscribe(self, message_row: int, *, via: str) -> bool | None: ...
    def is_unsubscribed(self, message_row: int) -> bool: ...
    def record_bounce_outcome(
        self,
        *,
        digest: str,
        source: str,
        kind: str,
        entries: Sequence[BounceEntry],
        event_at: float | None = None,
        also_seen_as: Sequence[str] = (),
        soft_threshold: int = 3,
        soft_span: float = 86400.0,
        on_suppress: Callable[[str, str], None] | None = None,
    ) -> int | None: ...
    def record_bounce_batch(
        self,
        records: Sequence[BounceRecord],
        *,
        soft_threshold: int = 3,
        soft_span: float = 86400.0,
        on_suppress: Callable[[str, str], None] | None = None,
    ) -> list[int | None]: ...
    def recipient_key_of(self, message_row: int) -> str | None: ...
    def recipient_keys_of(self, message_rows: Iterable[int]) -> dict[int, str]: ...
    def message_by_queue_id(self, queue_id: str, key: str) -> int | None: ...
    def message_by_message_id(self, message_id: str, key: str) -> int | None: ...
    def was_sent_to(self, key: str) -> bool: ...
    def event_seen(self, digests: Sequence[str]) -> bool: ...

    # audit trail
    def audit(self, action: str, details: dict[str, Any]) -> None: ...
    def audit_entries(self) -> Iterator[AuditEntry]: ...
    def audit_head(self) -> Head | None: ...
    def audit_key_id(self) -> str | None: ...
    def audit_activity(self) -> dict[str, Any]: ...

    # reading (status, report, evidence)
    def notices(self) -> list[str]: ...
    def counts(self, notice: str) -> dict[str, int]: ...
    def notice_status(self, notice: str, *, show: int = 20) -> NoticeStatus: ...
    def outcome_rows(self, notice: str) -> Iterator[OutcomeRow]: ...
    def recent_lists(self, limit: int = 10) -> list[ListImport]: ...
    def recent_runs(self, limit: int = 5) -> list[RunRecord]: ...
    def report_rows(
        self, *, states: Sequence[str] = (), notice: str | None = None, possibly_duplicated: bool = False
    ) -> Iterator[ReportRow]: ...
    def schedule_rows(self) -> list[ScheduleRow]: ...

    # notice channels (issue 16): a decision per (notice, recipient); the NY notice log
    def record_channels(self, notice: str, rows: Iterable[ChannelRow]) -> int: ...
    def channel_counts(self, notice: str) -> list[ChannelCount]: ...
    def channels_of(self, notice: str) -> dict[int, StoredChannel]: ...
    def channel_notices(self) -> list[str]: ...
    def unemailed_rows(self, notice: str | None = None) -> Iterator[ReportRow]: ...
    def sync_notice_log(self) -> int: ...
    def notice_log(self) -> Iterator[LoggedNotice]: ...

    # letters (issue 16): batches built, returned mail
    def letters_built(self, notice: str) -> set[str]: ...
    def letter_keys(self, notice: str) -> set[str]: ...
    def last_letter_batch(self, notice: str) -> int: ...
    def record_letters(self, notice: str, batch: int, rows: Sequence[LetterRow]) -> None: ...
    def letter_rows(self, notice: str) -> Iterator[LetterRow]: ...
    def find_letter(self, notice: str, *, letter_id: str = "", row: int = 0) -> LetterRow | None: ...
    def mark_returned(self, notice: str, returns: Sequence[tuple[str, str]], *, source: str) -> int: ...
    def returned_letters(self, notice: str = "") -> list[LetterRow]: ...

    # ---- credit-monitoring code pools (notifier.offers; issue 17) ----
    def import_codes(self, offer: str, pool: str, codes: Iterable[tuple[int, str]]) -> CodeImport: ...
    def issue_codes(
        self, offer: str, wants: Sequence[tuple[str, str]], now: float | None = None
    ) -> tuple[dict[str, str], list[str]]: ...
    def offer_codes_of(self, keys: Sequence[str]) -> dict[str, dict[str, tuple[str, str]]]: ...
    def offer_free(self, offer: str, pool: str) -> int: ...
    def offer_counts(self) -> list[OfferCount]: ...
    def mark_enrolled(self, offer: str, codes: Iterable[tuple[str, float]]) -> tuple[int, int, int]: ...

    # ---- the campaign console (notify preview): read-only ----
    def attempt_timeline(self, notice: str, bucket: int = 60) -> list[tuple[float, str, int]]: ...
    def people_states(self, notice: str, keys: Sequence[str]) -> dict[str, PersonState]: ...
    def person_events(self, key: str) -> list[PersonEvent]: ...

    # ---- run and schedule reads (notifier.pipeline.run, notifier.followups.schedule) ----
    def first_sent_at(self, notice: str) -> float | None: ...
    def oldest_sent_since(self, since: float) -> float | None: ...
    def complete_lists(self) -> dict[str, str]: ...
    def waiting_in_run(self) -> int: ...
    def schedules(self) -> list[tuple[Any, ...]]: ...
    def add_schedule(
        self,
        *,
        notice: str,
        segment: str,
        after_s: float | None,
        at: float | None,
        window: str,
        created_at: float,
        created_by: str,
    ) -> int: ...
    def set_schedule_state(
        self,
        schedule_id: int,
        state: str,
        note: str,
        *,
        last_run_at: float | None = None,
        confirmed_at: float | None = None,
    ) -> None: ...
