"""`notify suppress add/remove/list`: the campaign's suppression list.

Adding and removing are :mod:`notifier.lists.suppressions`'s; this module parses and prints.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import TextIO

from notifier import csvsafe
from notifier.cli.options import Subparsers, settings
from notifier.ledger import open_ledger
from notifier.lists import suppressions

__all__ = ["add", "register", "remove", "show"]


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "suppress",
        help="the campaign's suppression list",
        description="Addresses on the suppression list are skipped (state suppressed, "
        "counted) by later sends. Hard failures (user unknown, domain does not exist) "
        "are added automatically; policy and authentication refusals never are.",
    )
    ssub = p.add_subparsers(dest="suppress_command", metavar="ACTION", required=True)
    s_add = ssub.add_parser("add", help="suppress addresses")
    s_add.add_argument("addresses", nargs="+")
    s_add.add_argument("--reason", default="manual", help="why (kept with the entry; default manual)")
    s_remove = ssub.add_parser("remove", help="take addresses off the list")
    s_remove.add_argument("addresses", nargs="+")
    s_list = ssub.add_parser("list", help="show the list")
    s_list.add_argument("--format", choices=("text", "csv", "json"), default="text")


def add(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    current = settings(args)
    ledger = open_ledger(current)
    try:
        added, already = suppressions.suppress(current, ledger, args.addresses, args.reason)
    finally:
        ledger.close()
    out.write(f"{added} address(es) added to the suppression list ({already} already there)\n")
    return 0


def remove(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    current = settings(args)
    ledger = open_ledger(current)
    try:
        removed = suppressions.unsuppress(current, ledger, args.addresses)
    finally:
        ledger.close()
    out.write(f"{removed} address(es) removed from the suppression list\n")
    return 0


def show(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    ledger = open_ledger(settings(args))
    try:
        rows = [(k, r, dt.datetime.fromtimestamp(a, dt.UTC), s) for k, r, a, s in ledger.suppressions()]
    finally:
        ledger.close()
    if args.format == "json":
        entries = [{"address": k, "reason": r, "at": at.isoformat(), "source": s} for k, r, at, s in rows]
        json.dump(entries, out, indent=2)
        out.write("\n")
    elif args.format == "csv":
        writer = csvsafe.writer(out)
        writer.writerow(["address", "reason", "at", "source"])
        writer.writerows([(k, r, at.isoformat(), s) for k, r, at, s in rows])
    else:
        for k, r, at, s in rows:
            out.write(f"{k}  {r} ({s}, {at:%Y-%m-%d %H:%M} UTC)\n")
        out.write(f"{len(rows)} suppressed\n")
    return 0
