"""`notify channels`: who gets email, who gets a letter, and why; `notify channels log`: New
York's log of every electronic notice."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from notifier import csvsafe
from notifier.channels.audience import ChannelTable, channel_table
from notifier.cli.options import Subparsers, add_json, add_lists, add_notice, add_segment, settings
from notifier.ledger import ledger_exists, open_ledger
from notifier.lists.segments import resolve
from notifier.private import private_text

__all__ = ["channels", "log", "register"]

LOG_COLUMNS = ["at_utc", "notice", "recipient_id", "email", "channel", "message_id", "rule"]


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "channels",
        help="who gets email, who gets a letter, and why (counts by jurisdiction and reason)",
        description="Decide each person's lawful channel (email, postal letter, or none possible "
        "with the data held) from the channel rules and the list's evidence columns, and count them "
        "by jurisdiction and reason. `notify send` emails only those whose channel is email.",
    )
    add_segment(p, "segment name from [segments], or 'all' (default: 'affected' if defined, else all)")
    add_notice(p, "the notice (default: [campaign] notice)")
    add_lists(p, "read this CSV instead of [lists] files (repeatable)")
    add_json(p)
    csub = p.add_subparsers(dest="channels_command", metavar="ACTION")
    lg = csub.add_parser(
        "log",
        help="the log of every electronic notice to people whose rule requires one (New York)",
        description="Every accepted email to a person whose channel rule requires a log of each "
        "notice (NY GBL 899-aa(5)(b)): time, channel and message id. Contains addresses: written 0600.",
    )
    lg.add_argument("--format", choices=("csv", "json"), default="csv")
    lg.add_argument(
        "--output", type=Path, metavar="FILE", help="write to FILE (created 0600) instead of stdout"
    )


def channels(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    current = settings(args)
    name = args.segment or ("affected" if "affected" in current.segments else "all")
    segment = resolve(name, current.segments, path=str(current.path), lines=current.segment_lines)
    notice = args.notice or current.notice
    table = channel_table(current, segment, notice=notice, files=tuple(args.lists or ()))
    if args.json:
        json.dump(table.as_dict(), out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        write_table(table, out)
    return 1 if table.by_channel()["none-possible"] else 0


def write_table(table: ChannelTable, out: TextIO) -> None:
    by = table.by_channel()
    total = sum(by.values())
    out.write(
        f"Channels for notice {table.notice!r}, segment {table.segment!r} ({total} people; "
        f"rules {table.rules_version}):\n"
        f"  email          {by['email']:>7}\n  postal letter  {by['postal']:>7}\n"
        f"  none possible  {by['none-possible']:>7}\n"
    )
    if table.log_required:
        out.write(
            f"  {table.log_required} of them need every electronic notice logged (`notify channels log`)\n"
        )
    out.write("\nBy jurisdiction:\n")
    out.write(f"  {'where':<10} {'email':>7} {'postal':>7} {'none':>7}\n")
    for where, row in table.by_jurisdiction().items():
        out.write(f"  {where:<10} {row['email']:>7} {row['postal']:>7} {row['none-possible']:>7}\n")
    out.write("\nWhy:\n")
    for (_where, channel, rule, reason), n in sorted(table.counts.items()):
        out.write(f"  {n:>7}  {channel:<13} {rule:<12} {reason}\n")
    if not table.applied:
        out.write(
            "\nWARNING: [channels] apply = false — `notify send` emails everyone in the segment; for those "
            "whose channel is not email that email is not lawful notice.\n"
        )
    if by["none-possible"]:
        out.write(
            f"\n{by['none-possible']} people cannot be reached lawfully with the data held: add consent or "
            "postal columns (README, 'Letters and other channels'), or see `notify substitute`.\n"
        )
    for w in table.warnings:
        out.write(f"WARNING {w}\n")


def log(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    current = settings(args)
    rows: list[dict[str, Any]] = []
    if ledger_exists(current):
        ledger = open_ledger(current)
        try:
            ledger.sync_notice_log()
            rows = [
                {
                    "at_utc": dt.datetime.fromtimestamp(e.at, dt.UTC).isoformat(timespec="seconds"),
                    "notice": e.notice,
                    "recipient_id": e.list_id,
                    "email": e.email,
                    "channel": e.channel,
                    "message_id": e.message_id,
                    "rule": e.rule,
                }
                for e in ledger.notice_log()
            ]
        finally:
            ledger.close()

    def write(fh: TextIO) -> None:
        if args.format == "json":
            json.dump(rows, fh, indent=2, ensure_ascii=False)
            fh.write("\n")
            return
        writer = csvsafe.dict_writer(fh, LOG_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)

    if args.output:
        with private_text(args.output) as fh:
            write(fh)
        sys.stderr.write(f"Wrote {len(rows)} logged notices to {args.output}\n")
    else:
        write(out)
    return 0
