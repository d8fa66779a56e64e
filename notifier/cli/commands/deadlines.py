"""`notify deadlines` (every legal deadline, met or not) and `notify deadlines done RULE`."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import TextIO
from zoneinfo import ZoneInfo

from notifier.cli.options import Subparsers, add_json, add_notice, add_segment, settings
from notifier.compliance.deadlines_view import deadline_report, mark_done, parse_filed_at, write_deadlines
from notifier.errors import UsageError
from notifier.lists.segments import resolve

__all__ = ["deadlines", "register"]


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "deadlines",
        help="every legal deadline, earliest first, met or not",
        description="From the incident dates in notify.toml and the recipients per "
        "jurisdiction: each obligation (individuals, regulators, credit bureaus) with its "
        "due time, clock start, whether it is met (from the ledger) and its source.",
    )
    add_notice(p, "the notice that counts as telling people (default: [campaign] notice)")
    add_segment(
        p,
        "the people the breach affects (default: the recipients of the notice so far; before "
        "the first send, the 'affected' segment if defined, else everyone)",
    )
    add_json(p)
    p.add_argument("action", nargs="?", choices=["done"], help="done RULE: mark a regulator filing as made")
    p.add_argument("rule", nargs="?", help="the deadline rule id, e.g. MA-AG")
    p.add_argument("--at", help="when it was filed, e.g. 2026-12-01T10:00+01:00 (default: now)")
    p.add_argument("--ref", default="", help="the regulator's reference for the filing")


def deadlines(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    current = settings(args)
    now = dt.datetime.now(dt.UTC)
    if args.action == "done":
        if not args.rule:
            raise UsageError(
                "which filing? name its rule",
                hint='notify deadlines done MA-AG --at 2026-12-01T10:00+01:00 --ref "AG-1234"',
            )
        tz = ZoneInfo(current.timezone)
        at = parse_filed_at(args.at, tz) if args.at else now
        rule = mark_done(current, args.rule.upper(), at, args.ref)
        out.write(
            f"Marked {rule.id} ({rule.what}) filed at {at.astimezone(tz):%a %d %b %Y %H:%M %Z}"
            f"{f', ref {args.ref}' if args.ref else ''}.\n"
        )
        return 0
    counted = None
    if args.segment:
        counted = resolve(args.segment, current.segments, path=str(current.path), lines=current.segment_lines)
    report = deadline_report(current, args.notice or current.notice, counted)
    write_deadlines(report, now, out, as_json=args.json)
    return 1 if any(o.status(now).upper().startswith("OVERDUE") for o in report.obligations) else 0
