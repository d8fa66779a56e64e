"""`notify schedule` (create, list, cancel, confirm), `notify run-due` and `notify worker`.

The state changes are :mod:`notifier.followups.schedule`'s; this module parses and prints.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import time
from typing import TextIO

from notifier.cli.options import Subparsers, add_json, add_notice, add_segment, after, seconds, settings
from notifier.errors import UsageError
from notifier.followups import schedule
from notifier.followups.digests import PERIODS, create_digest
from notifier.ledger import open_ledger
from notifier.pipeline.campaign import first_notice_at

__all__ = ["cancel", "confirm", "create", "list_schedules", "register", "run_due", "worker"]


def register(sub: Subparsers) -> None:
    sched = sub.add_parser(
        "schedule",
        help="schedule a follow-up notice; list, cancel or confirm schedules",
        description="`notify schedule --notice what-we-changed --after 7d [--segment notified] "
        "[--window 09:00-17:00]` sends a follow-up 7 days after the first notice was first "
        "accepted (or --at a date and time with its UTC offset), only inside the window in "
        "each recipient's local time. `notify run-due` (cron) or `notify worker` sends it. A "
        "schedule missed by more than [schedule] grace waits for `notify schedule confirm ID`.",
    )
    add_notice(sched, "the follow-up notice (a folder in templates/ with kind = follow-up)")
    sched.add_argument("--after", type=after, help="time after the first notice: 7d, 36h, ...")
    sched.add_argument("--at", help="an absolute time with UTC offset: 2026-12-08T10:00+01:00")
    add_segment(sched, "who gets it (default notified)", default="notified")
    sched.add_argument("--window", default="", help="only between these local times, e.g. 09:00-17:00")
    sched.add_argument(
        "--digest",
        choices=sorted(PERIODS),
        help="instead of a follow-up: the incident-team digest (notify digest), sent every day at "
        "--at HH:MM in [campaign] timezone, to --to NAME or [digest] to",
    )
    sched.add_argument(
        "--to", default="", metavar="NAME", help="with --digest: a [digest.lists] name or an address"
    )
    schsub = sched.add_subparsers(dest="schedule_command", metavar="ACTION")
    add_json(schsub.add_parser("list", help="every schedule with its state and due time"))
    for verb, what in (("cancel", "cancel a schedule"), ("confirm", "send a schedule that missed its time")):
        schsub.add_parser(verb, help=what).add_argument("id", type=int)

    sub.add_parser(
        "run-due",
        help="send the follow-ups that are due, then exit (for cron)",
        description="Looks at every schedule once and sends what is due; running it again "
        "changes nothing for a schedule that is done. Exit 1 when a schedule needs attention.",
    )
    work = sub.add_parser(
        "worker",
        help="keep sending due follow-ups until stopped (SIGTERM stops it cleanly)",
        description="`notify run-due` in a loop. On SIGTERM or Ctrl-C it lets the messages in "
        "flight finish, records them, and exits 0.",
    )
    work.add_argument(
        "--interval", type=seconds(0.1, 86400), default=60.0, help="seconds between checks (default 60)"
    )


def create(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    if args.digest:
        return _create_digest(args, out)
    if not args.notice:
        raise UsageError("which follow-up? --notice NAME", hint="e.g. --notice what-we-changed --after 7d")
    current = settings(args)
    ledger = open_ledger(current)
    try:
        schedule_id = schedule.create(
            current,
            ledger,
            notice=args.notice,
            segment=args.segment,
            after_s=args.after,  # seconds: parsed and range-checked by argparse (options.after)
            at=_parse_at(args.at) if args.at else None,
            window=args.window,
            now=time.time(),
        )
        made = schedule.find(ledger, schedule_id)
    finally:
        ledger.close()
    window = f", between {args.window} local time" if args.window else ""
    out.write(
        f"Schedule {schedule_id}: {args.notice} to segment {args.segment}, "
        f"{made.describe_when()}{window}. "
        "Nothing is sent until `notify run-due` or `notify worker` runs.\n"
    )
    return 0


def _create_digest(args: argparse.Namespace, out: TextIO) -> int:
    current = settings(args)
    ledger = open_ledger(current)
    try:
        schedule_id = create_digest(
            current, ledger, every=args.digest, at=args.at or "08:00", to=args.to, now=time.time()
        )
        made = schedule.find(ledger, schedule_id)
    finally:
        ledger.close()
    out.write(
        f"Schedule {schedule_id}: {made.describe_when()} ({current.timezone}), through [digest] "
        "transport. Nothing is sent until `notify run-due` or `notify worker` runs.\n"
    )
    return 0


def list_schedules(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    current = settings(args)
    ledger = open_ledger(current)
    try:
        rows = schedule.schedules(ledger)
        first = first_notice_at(current, current.notice)
    finally:
        ledger.close()
    if args.json:
        json.dump(
            [
                {**dataclasses.asdict(x), "due_at": schedule.due_time(x, first, current.timezone)}
                for x in rows
            ],
            out,
            indent=2,
        )
        out.write("\n")
        return 0
    if not rows:
        out.write("No schedules. Add one: notify schedule --notice what-we-changed --after 7d\n")
    for x in rows:
        due = schedule.due_time(x, first, current.timezone)
        when = dt.datetime.fromtimestamp(due, dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if due else "—"
        window = f" window {x.window}" if x.window else ""
        out.write(
            f"{x.id:>3}  {x.state:<13} {x.notice} to {x.segment}: "
            f"{x.describe_when()} (due {when}){window}" + (f"\n     {x.note}" if x.note else "") + "\n"
        )
    return 0


def cancel(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    ledger = open_ledger(settings(args))
    try:
        schedule.cancel(ledger, args.id)
    finally:
        ledger.close()
    out.write(f"Schedule {args.id} cancelled.\n")
    return 0


def confirm(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    ledger = open_ledger(settings(args))
    try:
        schedule.confirm(ledger, args.id, now=time.time())
    finally:
        ledger.close()
    out.write(f"Schedule {args.id} confirmed: the next `notify run-due` sends it.\n")
    return 0


def run_due(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    return schedule.run_due(settings(args), out, now=time.time)


def worker(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    return schedule.worker(settings(args), out, interval=args.interval, now=time.time)


def _parse_at(text: str) -> float:
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"--at {text!r} is not a date and time", hint="e.g. 2026-12-08T10:00+01:00"
        ) from None
    if when.tzinfo is None:
        raise UsageError(f"--at {text!r} has no UTC offset", hint="add it, e.g. 2026-12-08T10:00+01:00")
    return when.timestamp()
