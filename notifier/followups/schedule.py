"""Scheduled follow-ups: `notify schedule`, `notify run-due` and `notify worker`.

A schedule says which notice goes to which segment, and when: ``--after 7d`` (after the first
notice of the campaign was first accepted) or ``--at`` an absolute time, optionally only inside
a send window in each recipient's local time. `notify run-due` looks at every schedule once and
sends what is due (safe to run from cron every few minutes: a schedule that is done stays done;
the ledger makes resends impossible); `notify worker` does that in a loop and stops cleanly on
SIGTERM.

A schedule whose time passed more than ``[schedule] grace`` (24 h) ago while nothing ran is not
sent blindly: it waits in state ``needs-confirm`` for `notify schedule confirm ID`, and says why
(a week-old "what we changed" may no longer be true, or may now go out at 3 a.m.).

Pure decisions (:func:`decide`) are apart from the ledger and the send.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from notifier.errors import LedgerBusyError, NotifierError, UsageError
from notifier.followups.digests import DIGEST, next_due, send_due_digest
from notifier.followups.readiness import refuse_unready
from notifier.followups.windows import parse_window
from notifier.ledger import Ledger, open_ledger
from notifier.ledger.audit import operator
from notifier.lists.segments import resolve
from notifier.locks import hold_lock
from notifier.pipeline.campaign import Campaign, first_notice_at
from notifier.pipeline.run import SendOptions, run
from notifier.pipeline.ui import RunUI, SilentUI, interrupt_on_signals
from notifier.render.notice import notice_meta
from notifier.settings import Settings

__all__ = [
    "Decision",
    "Schedule",
    "cancel",
    "confirm",
    "create",
    "decide",
    "find",
    "run_due",
    "schedules",
    "set_state",
    "worker",
]

OPEN = ("waiting", "due", "sending")


@dataclass(frozen=True)
class Schedule:
    id: int
    notice: str
    segment: str
    after_s: float | None
    at: float | None
    window: str
    state: str
    created_at: float
    created_by: str
    confirmed_at: float | None
    last_run_at: float | None
    note: str

    def describe_when(self) -> str:
        if self.notice == DIGEST:
            return f"incident digest daily at {self.window}" + (f" to {self.segment}" if self.segment else "")
        if self.at is not None:
            return dt.datetime.fromtimestamp(self.at, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        days = (self.after_s or 0) / 86400
        return f"{days:g} day(s) after the first notice"


@dataclass(frozen=True)
class Decision:
    action: str  # wait | send | confirm | done
    due_at: float | None
    why: str


def due_time(s: Schedule, first_at: float | None, zone: str = "UTC") -> float | None:
    if s.notice == DIGEST:
        return next_due(s, zone)
    if s.at is not None:
        return s.at
    return None if first_at is None else first_at + (s.after_s or 0)


def decide(s: Schedule, *, now: float, first_at: float | None, grace: float) -> Decision:
    """What to do with one schedule now."""
    if s.state in ("done", "cancelled"):
        return Decision("done", None, s.state)
    due = due_time(s, first_at)
    if due is None:
        return Decision("wait", None, "the first notice has not been sent yet")
    if now < due:
        return Decision("wait", due, "not due yet")
    late = now - due
    if s.last_run_at is None and s.confirmed_at is None and late > grace:
        hours = late / 3600
        return Decision(
            "confirm",
            due,
            f"was due {_utc(due)} and nothing ran for {hours:.0f} h (more than the {grace / 3600:g} h grace "
            "period): check the notice is still right, then `notify schedule confirm "
            f"{s.id}`",
        )
    return Decision("send", due, "due")


def _utc(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def schedules(ledger: Ledger) -> list[Schedule]:
    return [Schedule(*r) for r in ledger.schedules()]


def set_state(
    ledger: Ledger,
    schedule_id: int,
    state: str,
    note: str = "",
    *,
    last_run_at: float | None = None,
    confirmed_at: float | None = None,
) -> None:
    ledger.set_schedule_state(schedule_id, state, note, last_run_at=last_run_at, confirmed_at=confirmed_at)


def find(ledger: Ledger, schedule_id: int) -> Schedule:
    """Schedule ``schedule_id``; a number that is none is a usage error naming where to look."""
    found = next((x for x in schedules(ledger) if x.id == schedule_id), None)
    if found is None:
        raise UsageError(f"no schedule {schedule_id}", hint="see `notify schedule list`")
    return found


def cancel(ledger: Ledger, schedule_id: int) -> None:
    """`notify schedule cancel ID`: it will not be sent (audited); a finished one stays as it is."""
    found = find(ledger, schedule_id)
    if found.state in ("done", "cancelled"):
        raise UsageError(f"schedule {schedule_id} is already {found.state}")
    set_state(ledger, schedule_id, "cancelled", "cancelled by hand")
    ledger.audit("schedule.cancel", {"id": schedule_id})


def confirm(ledger: Ledger, schedule_id: int, *, now: float) -> None:
    """`notify schedule confirm ID`: a person checked it, so the next run-due sends it even
    past its grace period (audited)."""
    found = find(ledger, schedule_id)
    if found.state in ("done", "cancelled"):
        raise UsageError(f"schedule {schedule_id} is {found.state}; nothing to confirm")
    set_state(ledger, schedule_id, "due", "confirmed by hand", confirmed_at=now)
    ledger.audit("schedule.confirm", {"id": schedule_id})


def create(
    settings: Settings,
    ledger: Ledger,
    *,
    notice: str,
    segment: str,
    after_s: float | None,
    at: float | None,
    window: str,
    now: float,
) -> int:
    if (after_s is None) == (at is None):
        raise UsageError("say when: --after DURATION (after the first notice) or --at DATETIME, not both")
    if not (settings.templates_dir / notice).is_dir():
        raise UsageError(f"no notice {notice!r} in {settings.templates_dir}")
    kind, _ = notice_meta(settings.templates_dir / notice)
    if kind != "follow-up":
        raise UsageError(
            f'{notice!r} is not a follow-up notice (no kind = "follow-up" in its notice.toml)',
            hint="schedules are for follow-ups; send legally required notices with `notify send`",
        )
    # A mistyped name first (the quickest fix), then readiness: refused now, not on the day it
    # goes out, when its facts are empty or it has no unsubscribe address.
    resolve(segment, settings.segments, path=str(settings.path), lines=settings.segment_lines)
    refuse_unready(settings, notice)
    if window:
        parse_window(window, settings.timezones, settings.timezone)
    if at is not None and at < now - settings.grace:
        raise UsageError(f"--at {_utc(at)} is in the past", hint="give a future time, or use --after")
    user, _host = operator()
    schedule_id = ledger.add_schedule(
        notice=notice, segment=segment, after_s=after_s, at=at, window=window, created_at=now, created_by=user
    )
    ledger.audit(
        "schedule.create",
        {
            "id": schedule_id,
            "notice": notice,
            "segment": segment,
            "after_s": after_s,
            "at": at,
            "window": window,
        },
    )
    return schedule_id


def run_due(
    settings: Settings,
    out: TextIO,
    *,
    now: Callable[[], float],
    ui: RunUI | None = None,
) -> int:
    """Send every due schedule once, each through pipeline.run; returns 0, or 1 when one needs
    attention. What is said goes to ``ui`` (default: a SilentUI writing to ``out``); a worker
    passes its own, whose ``interrupted`` stops the round between schedules."""
    ui = ui or SilentUI(out=out)
    ledger = open_ledger(settings)
    try:
        pending = [s for s in schedules(ledger) if s.state in OPEN]
        first_at = first_notice_at(settings, settings.notice)
    finally:
        ledger.close()
    if not pending:
        ui.say("No schedule is waiting.\n")
        return 0
    attention = 0
    for s in pending:
        if ui.interrupted.is_set():
            break
        t = now()
        if s.notice == DIGEST:
            # The incident-team digest (notifier/digest): recurring, through its own transport.
            ok, note = send_due_digest(settings, s, now=t, say=ui.say)
            attention += not ok
            if note:
                _update(settings, s.id, "waiting", note, last_run_at=t if ok else None)
            continue
        decision = decide(s, now=t, first_at=first_at, grace=settings.grace)
        if decision.action == "wait":
            when = f" (due {_utc(decision.due_at)})" if decision.due_at else ""
            ui.say(f"Schedule {s.id} ({s.notice} to {s.segment}): waiting{when}: {decision.why}\n")
            continue
        if decision.action == "confirm":
            attention += 1
            _update(settings, s.id, "needs-confirm", decision.why, audit="schedule.missed")
            ui.say(f"Schedule {s.id} ({s.notice}) NOT SENT: it {decision.why}\n")
            continue
        ui.say(
            f"Schedule {s.id}: sending {s.notice} to segment {s.segment}"
            + (f", window {s.window}" if s.window else "")
            + "\n"
        )
        window = parse_window(s.window, settings.timezones, settings.timezone) if s.window else None
        options = SendOptions(yes=True, target_filter=window.predicate(t) if window else None)
        try:
            result = run(Campaign.open(settings, segment=s.segment, notice=s.notice), options, ui)
        except LedgerBusyError as exc:
            ui.say(f"Schedule {s.id}: {exc.message}; will try again next time\n")
            attention += 1
            continue
        except NotifierError as exc:
            ui.say(f"Schedule {s.id}: not sent: {exc.message}\n")
            if exc.hint:
                ui.say(f"  what to do: {exc.hint}\n")
            attention += 1
            _update(settings, s.id, "due", f"last attempt failed: {exc.message}", last_run_at=t)
            continue
        if result.remaining == 0 and result.code == 0:
            _update(
                settings,
                s.id,
                "done",
                "everyone in the segment handled",
                audit="schedule.done",
                last_run_at=t,
            )
            ui.say(f"Schedule {s.id}: done\n")
        else:
            why = f"{result.remaining} still to send" + (" (outside their send window)" if window else "")
            _update(settings, s.id, "sending", why, last_run_at=t)
            ui.say(f"Schedule {s.id}: {why}\n")
            attention += int(result.code != 0 and not window)
    return 1 if attention else 0


def _update(
    settings: Settings,
    schedule_id: int,
    state: str,
    note: str,
    *,
    audit: str = "",
    last_run_at: float | None = None,
) -> None:
    ledger = open_ledger(settings)
    try:
        set_state(ledger, schedule_id, state, note, last_run_at=last_run_at)
        if audit:
            ledger.audit(audit, {"id": schedule_id, "note": note})
    finally:
        ledger.close()


def worker(
    settings: Settings,
    out: TextIO,
    *,
    interval: float,
    now: Callable[[], float],
    stop: threading.Event | None = None,
) -> int:
    """`notify run-due` every ``interval`` seconds until SIGTERM/SIGINT (or ``stop``)."""
    ui = SilentUI(interrupted=stop or threading.Event(), out=out)
    # One scheduler per campaign: with SQLite a lock file; with PostgreSQL every worker may run
    # (on any machine) and the one holding the leader lock sends; if it dies, another takes over.
    leader = open_ledger(settings) if settings.ledger_url else None
    fd = -1
    if leader is None:
        fd = hold_lock(
            Path(f"{settings.ledger_path}.worker.lock"),
            "another notify worker is already running for this campaign ({holder})",
            "one worker per campaign is enough; stop the other one first",
        )
    standing_by = False
    ui.say(f"Worker started: checking schedules every {interval:g} s (SIGTERM stops it)\n")
    out.flush()
    try:
        # Between rounds a signal ends the wait; during a send, pipeline.run's handlers stop
        # it after the messages in flight and set the same ``interrupted``, which ends the loop.
        with interrupt_on_signals(ui):
            while not ui.interrupted.is_set():
                if leader is not None and not leader.try_lead():
                    if not standing_by:
                        ui.say("Another worker leads this campaign; standing by to take over.\n")
                    standing_by = True
                    out.flush()
                    ui.interrupted.wait(interval)
                    continue
                if standing_by:
                    ui.say("Now leading this campaign's schedules.\n")
                    out.flush()  # before the sends: whoever watches the log sees the hand-over first
                    standing_by = False
                try:
                    run_due(settings, out, now=now, ui=ui)
                except NotifierError as exc:
                    ui.say(f"worker: {exc.message}\n")
                out.flush()
                ui.interrupted.wait(interval)
    finally:
        if fd >= 0:
            os.close(fd)
        if leader is not None:
            leader.close()
    ui.say("Worker stopped.\n")
    out.flush()
    return 0
