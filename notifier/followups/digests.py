"""Scheduled incident-team digests: `notify schedule --digest daily --at 08:00`.

A digest schedule is a row of the schedules table with notice ``@digest``: ``window`` holds the
time of day (in ``[campaign] timezone``), ``segment`` the ``--to`` list name ("" = ``[digest]
to``), ``after_s`` the period (one day). It never finishes: after each sending it waits for the
next day's time, until `notify schedule cancel ID`. `notify run-due` and `notify worker` send it.
A missed digest is not a risk to anyone (it reports the state as it is now), so unlike a
follow-up it goes out late without asking for confirmation — once, not once per missed day.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from notifier.errors import NotifierError, UsageError
from notifier.ledger import Ledger
from notifier.ledger.audit import operator
from notifier.settings import Settings

__all__ = ["DIGEST", "PERIODS", "create_digest", "is_digest", "next_due", "send_due_digest"]

DIGEST = "@digest"
PERIODS = {"daily": 86400.0}
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def is_digest(notice: str) -> bool:
    return notice == DIGEST


def parse_time_of_day(text: str) -> str:
    m = _HHMM.match(text.strip())
    if not m:
        raise UsageError(f"--at {text!r} is not a time of day", hint="e.g. --digest daily --at 08:00")
    return f"{int(m.group(1)):02d}:{m.group(2)}"


def create_digest(settings: Settings, ledger: Ledger, *, every: str, at: str, to: str, now: float) -> int:
    """A recurring digest. Raises UsageError (unknown period, bad time, no recipients)."""
    from notifier.digest.send import recipients

    if every not in PERIODS:
        raise UsageError(f"--digest {every!r}: use {', '.join(PERIODS)}")
    time_of_day = parse_time_of_day(at or "08:00")
    recipients(settings, [to] if to else [])  # nobody to send to: refused now, not tomorrow at 8
    user, _host = operator()
    schedule_id = ledger.add_schedule(
        notice=DIGEST,
        segment=to,
        after_s=PERIODS[every],
        at=None,
        window=time_of_day,
        created_at=now,
        created_by=user,
    )
    ledger.audit("schedule.create", {"id": schedule_id, "digest": every, "at": time_of_day, "to": to})
    return schedule_id


def next_due(schedule: Any, zone: str) -> float:
    """The first ``window`` time of day (in ``zone``) after the schedule last ran, or after it
    was made."""
    tz = ZoneInfo(zone)
    since = dt.datetime.fromtimestamp(schedule.last_run_at or schedule.created_at, tz)
    hour, minute = (int(x) for x in schedule.window.split(":"))
    due = since.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if due <= since:
        due = (since + dt.timedelta(days=1)).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return due.timestamp()


def send_due_digest(
    settings: Settings, schedule: Any, *, now: float, say: Callable[[str], None]
) -> tuple[bool, str]:
    """Send one digest schedule if it is due: (sent or not due and fine, note for the ledger).
    Never raises for a sending problem: it is reported, and tried again next round."""
    from notifier.digest.send import digest_transport, recipients, send_digest
    from notifier.digest.status import collect

    due = next_due(schedule, settings.timezone)
    if now < due:
        say(f"Schedule {schedule.id} (incident digest): waiting (due {_utc(due)})\n")
        return True, ""
    try:
        to = recipients(settings, [schedule.segment] if schedule.segment else [])
        results = send_digest(settings, collect(settings), to, digest_transport(settings))
    except NotifierError as exc:
        say(f"Schedule {schedule.id} (incident digest): not sent: {exc.message}\n")
        return False, f"last attempt failed: {exc.message}"
    refused = [r for r in results if not r.accepted]
    for r in refused:
        say(f"Schedule {schedule.id} (incident digest): refused for {r.address}: {r.reply}\n")
    say(f"Schedule {schedule.id}: incident digest sent to {len(results) - len(refused)} of {len(results)}\n")
    return not refused, f"sent {_utc(now)}"


def _utc(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
