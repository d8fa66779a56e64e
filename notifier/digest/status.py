"""What the incident team needs to know today, read from the ledger and the deadline planner.

Counts only (reference notice-channels §8, "notification_progress" and "legal_clocks"): no
address, name or any other list value leaves this module — jurisdictions are ISO codes, offers
and notices are the campaign's own names. The lists are read (to count people by place and to
run the planner) and dropped.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from notifier.compliance.deadlines_view import deadline_report
from notifier.errors import NotifierError
from notifier.followups.schedule import OPEN, due_time, schedules
from notifier.ledger import Ledger, ledger_exists, open_ledger
from notifier.pipeline.campaign import first_notice_at
from notifier.settings import Settings

__all__ = ["Deadline", "DigestData", "NoticeProgress", "WINDOW_HOURS", "collect"]

WINDOW_HOURS = 72  # "deadlines due in the next 72 hours" (issue 17)
UNREACHED = ("invalid", "bounced", "failed", "suppressed")


@dataclass(frozen=True, slots=True)
class NoticeProgress:
    notice: str
    planned: int
    sent: int  # accepted by a receiving server
    delivered: int  # confirmed delivered (SES Delivery events)
    bounced: int
    deferred: int  # still being retried
    pending: int  # not tried yet
    unreached: int  # invalid, bounced, failed, suppressed: they need another channel
    unreached_by_place: dict[str, int]  # region (US-CA) or country (DE), or "unknown"
    letters_built: int | None  # None: this notice has no letters
    letters_returned: int | None


@dataclass(frozen=True, slots=True)
class Deadline:
    rule: str
    what: str
    people: int
    due: dt.datetime | None
    status: str


@dataclass
class DigestData:
    campaign: str
    codename: str
    as_of: dt.datetime  # in the campaign's time zone
    notices: list[NoticeProgress] = field(default_factory=list)
    codes: list[dict[str, Any]] = field(default_factory=list)  # offer, pool, issued, total, enrolled
    due_soon: list[Deadline] = field(default_factory=list)
    overdue: list[Deadline] = field(default_factory=list)
    regulators: dict[str, int] = field(default_factory=dict)  # filings by status (filed, to do, ...)
    followups: list[dict[str, Any]] = field(default_factory=list)  # id, notice, state, due
    digests: list[dict[str, Any]] = field(default_factory=list)  # scheduled digests
    notes: list[str] = field(default_factory=list)  # what could not be counted, and why


def _place(fields: dict[str, Any]) -> str:
    return str(fields.get("region") or fields.get("country") or "unknown").upper()


def _progress(ledger: Ledger, notice: str) -> NoticeProgress:
    counts = ledger.counts(notice)
    delivered = sum(1 for o in ledger.outcome_rows(notice) if o.delivered)
    by_place: Counter[str] = Counter(
        _place(r.fields) for r in ledger.report_rows(states=UNREACHED, notice=notice)
    )
    # The letters' table (issue 16) and the code pools (offers) may be absent from an older
    # ledger or build: then they are left out, and the digest says so (collect's notes).
    read_letters = getattr(ledger, "letter_rows", None)
    letters = list(read_letters(notice)) if read_letters is not None else []
    return NoticeProgress(
        notice=notice,
        planned=sum(counts.values()),
        sent=counts.get("sent", 0),
        delivered=delivered,
        bounced=counts.get("bounced", 0),
        deferred=counts.get("deferred", 0),
        pending=counts.get("pending", 0) + counts.get("sending", 0),
        unreached=sum(counts.get(s, 0) for s in UNREACHED),
        unreached_by_place=dict(sorted(by_place.items(), key=lambda kv: (-kv[1], kv[0]))),
        letters_built=len(letters) if letters else None,
        letters_returned=sum(1 for x in letters if x.returned_at is not None) if letters else None,
    )


def collect(settings: Settings, *, now: dt.datetime | None = None) -> DigestData:
    """Read the campaign's state. Raises NotifierError (a list or the ledger unreadable)."""
    tz = ZoneInfo(settings.timezone)
    now = (now or dt.datetime.now(dt.UTC)).astimezone(tz)
    data = DigestData(settings.campaign, settings.digest.codename, now)
    if not ledger_exists(settings):
        data.notes.append("nothing has been sent yet: there is no ledger")
    else:
        ledger = open_ledger(settings)
        try:
            for notice in ledger.notices():
                data.notices.append(_progress(ledger, notice))
            offer_counts = getattr(ledger, "offer_counts", None)
            data.codes = [
                {"offer": c.offer, "pool": c.pool, "issued": c.issued, "total": c.total}
                | {"enrolled": c.enrolled}
                for c in (offer_counts() if offer_counts is not None else [])
            ]
            _schedules(settings, ledger, data)
        finally:
            ledger.close()
    if not data.codes:
        data.notes.append("no credit-monitoring codes imported (notify offers import)")
    try:
        report = deadline_report(settings, settings.notice)
    except NotifierError as exc:
        # The team still needs the rest of the digest; say what could not be read.
        data.notes.append(f"deadlines not computed: {exc.message}")
        return data
    horizon = now + dt.timedelta(hours=WINDOW_HOURS)
    regulators: Counter[str] = Counter()
    for o in report.obligations:
        status = o.status(now)
        if o.rule.kind != "individuals":  # regulators, attorneys general, credit bureaus
            regulators[status] += 1
        item = Deadline(o.rule.id, o.rule.what, o.people, o.due, status)
        if status.upper().startswith("OVERDUE") or status == "late":
            data.overdue.append(item)
        elif o.due is not None and now <= o.due <= horizon and status in ("open", "to do"):
            data.due_soon.append(item)
    data.regulators = dict(sorted(regulators.items()))
    return data


def _schedules(settings: Settings, ledger: Ledger, data: DigestData) -> None:
    first = first_notice_at(settings, settings.notice)
    for s in schedules(ledger):
        if s.state not in (*OPEN, "needs-confirm"):
            continue
        due = due_time(s, first, settings.timezone)
        row = {
            "id": s.id,
            "notice": s.notice,
            "state": s.state,
            "due": dt.datetime.fromtimestamp(due, dt.UTC) if due is not None else None,
        }
        (data.digests if s.notice.startswith("@") else data.followups).append(row)
