"""`notify offers` (pools: imported, issued, left, enrolled), `notify offers import FILE --offer
NAME [--pool minors]` and `notify offers report FILE --offer NAME` (issue 17)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TextIO

from notifier.cli.options import Subparsers, add_json, settings
from notifier.ledger import ledger_exists, open_ledger
from notifier.offers.manage import POOLS, import_codes, import_enrolments

__all__ = ["import_file", "register", "report", "show"]


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "offers",
        help="credit-monitoring offers: code pools, codes issued, take-up",
        description="Without an action: each [offers.NAME] with its pools — codes imported, issued, "
        "left and enrolled. Codes are never shown.",
    )
    add_json(p)
    osub = p.add_subparsers(dest="offers_command", metavar="ACTION")
    imp = osub.add_parser(
        "import",
        help="import the vendor's file of activation codes into an offer's pool",
        description="Read a CSV with a 'code' (or 'activation_code') column, or one bare code per line. "
        "Rows that are not codes, and codes already imported, are named by file:line (exit 1).",
    )
    imp.add_argument("file", type=Path)
    imp.add_argument("--offer", required=True, help="the [offers.NAME] the codes belong to")
    imp.add_argument(
        "--pool", default="default", choices=POOLS, help="minors: codes for children (default: default)"
    )
    rep = osub.add_parser(
        "report",
        help="import the vendor's enrolment report: who enrolled (take-up)",
        description="A CSV with the enrolled codes ('code' column) and, if present, when ('enrolled_at').",
    )
    rep.add_argument("file", type=Path)
    rep.add_argument("--offer", required=True, help="the [offers.NAME] the report is about")


def show(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    current = settings(args)
    counts = []
    if ledger_exists(current):
        ledger = open_ledger(current)
        try:
            counts = ledger.offer_counts()
        finally:
            ledger.close()
    if args.json:
        json.dump(
            {
                "offers": [
                    {
                        "name": o.name,
                        "vendor": o.vendor,
                        "product": o.product,
                        "months": o.months,
                        "enrol_by": o.enrol_by.isoformat() if o.enrol_by else None,
                        "enrol_days": o.enrol_days,
                        "who": o.who,
                    }
                    for o in current.offers.values()
                ],
                "pools": [
                    {
                        "offer": c.offer,
                        "pool": c.pool,
                        "imported": c.total,
                        "issued": c.issued,
                        "remaining": c.remaining,
                        "enrolled": c.enrolled,
                    }
                    for c in counts
                ],
            },
            out,
            indent=2,
        )
        out.write("\n")
        return 0
    if not current.offers:
        out.write("No offers: add an [offers.NAME] table to notify.toml (see README, Monitoring offers).\n")
        return 0
    for o in current.offers.values():
        until = o.enrol_by.isoformat() if o.enrol_by else f"{o.enrol_days} days after the notice"
        out.write(f"{o.name}: {o.vendor} {o.product}, {o.months} months, enrol by {until} (for {o.who})\n")
        mine = [c for c in counts if c.offer == o.name]
        if not mine:
            out.write(f"  no codes imported yet: notify offers import FILE --offer {o.name}\n")
        for c in mine:
            take_up = f" ({100 * c.enrolled / c.issued:.0f}% of issued)" if c.issued else ""
            out.write(
                f"  {c.pool:<8} {c.total} imported, {c.issued} issued, {c.remaining} left, "
                f"{c.enrolled} enrolled{take_up}\n"
            )
    return 0


def import_file(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    current = settings(args)
    ledger = open_ledger(current)
    try:
        added, found = import_codes(current, ledger, args.file, args.offer, args.pool)
        left = ledger.offer_free(args.offer, args.pool)
    finally:
        ledger.close()
    out.write(
        f"{args.file.name}: {found.rows} row(s); {added.added} code(s) added to {args.offer} "
        f"({args.pool} pool), {left} not yet issued\n"
    )
    if added.duplicates:
        lines = ", ".join(f"{args.file.name}:{n}" for n in added.duplicate_lines)
        more = "" if len(added.duplicate_lines) == added.duplicates else ", ..."
        out.write(
            f"{added.duplicates} code(s) already imported (earlier in the file or before), "
            f"not added: {lines}{more}\n"
        )
    if found.malformed:
        out.write(f"{found.malformed} row(s) without a usable code, not added:\n")
        for problem in found.problems:
            out.write(f"  {problem}\n")
    return 1 if added.duplicates or found.malformed else 0


def report(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    current = settings(args)
    ledger = open_ledger(current)
    try:
        result = import_enrolments(current, ledger, args.file, args.offer)
        counts = [c for c in ledger.offer_counts() if c.offer == args.offer]
    finally:
        ledger.close()
    issued = sum(c.issued for c in counts)
    enrolled = sum(c.enrolled for c in counts)
    out.write(
        f"{args.file.name}: {result.issued} enrolment(s) of codes we issued; take-up of {args.offer}: "
        f"{enrolled} of {issued} issued ({100 * enrolled / issued if issued else 0:.0f}%)\n"
    )
    if result.unissued:
        out.write(f"{result.unissued} enrolled code(s) were never issued by notify (ask the vendor)\n")
    if result.unknown:
        out.write(f"{result.unknown} code(s) in the report are not in this offer's pools\n")
    for problem in result.found.problems:
        out.write(f"  {problem}\n")
    return 1 if result.unknown or result.found.malformed else 0
