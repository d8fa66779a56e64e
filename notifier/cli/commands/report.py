"""`notify report`: per-recipient rows (never message bodies), or outcome counts with --by."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from notifier.cli.options import Subparsers, add_notice, settings
from notifier.cli.views import REPORT_COLUMNS, outcome_table, report_rows, write_outcomes, write_report
from notifier.errors import NotifierError
from notifier.ledger import open_ledger
from notifier.letters.unreached import with_letters
from notifier.pipeline.campaign import notice_context
from notifier.private import private_text
from notifier.render.notice import Notice, load_notice
from notifier.settings import Settings

__all__ = ["register", "report"]

UNREACHED = {"invalid", "bounced", "failed", "suppressed"}


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "report",
        help="per-recipient rows (no message bodies)",
        description="Export per-recipient rows from the ledger: state, attempts, last "
        "reply, queue id. Never includes message bodies.",
    )
    p.add_argument(
        "--state",
        action="append",
        default=[],
        metavar="STATE",
        help="only this state (repeatable; comma-separated allowed): pending, sending, sent, "
        "deferred, failed, bounced, invalid, suppressed",
    )
    p.add_argument(
        "--possibly-duplicated",
        action="store_true",
        help="only messages that may have been delivered twice after a hard stop",
    )
    p.add_argument(
        "--unreached",
        action="store_true",
        help="people not reached: email could not reach them (invalid, bounced, failed, suppressed) "
        "and no letter went out, or their letter came back (letter-returned), for a substitute notice",
    )
    p.add_argument(
        "--by",
        choices=("reason", "domain"),
        help="instead of rows, counts of delivered / accepted / complained / bounced / deferred / "
        "unreached per reason or per recipient domain",
    )
    add_notice(p, "only this notice")
    p.add_argument("--format", choices=("csv", "json"), default="csv")
    p.add_argument(
        "--output", type=Path, metavar="FILE", help="write to FILE (created 0600) instead of stdout"
    )


def language_chooser(current: Settings) -> Callable[[str, dict[str, Any]], tuple[str, str]]:
    """(language, why) per notice and person, from the notice's packs as they are now; a notice
    whose templates are gone says so instead of guessing."""
    notices: dict[str, Notice | None] = {}

    def language_of(notice: str, fields: dict[str, Any]) -> tuple[str, str]:
        if notice not in notices:
            try:
                notices[notice] = load_notice(current.templates_dir, notice, notice_context(current, notice))
            except NotifierError:
                notices[notice] = None
        loaded = notices[notice]
        if loaded is None:
            return "", "the notice's templates are not there"
        choice = loaded.language_for(fields)
        return choice.language, choice.reason

    return language_of


def report(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    current = settings(args)
    states = [s.strip() for arg in args.state for s in arg.split(",") if s.strip()]
    if args.unreached:
        states = sorted(set(states) | UNREACHED)
    ledger = open_ledger(current)
    try:

        def write(fh: TextIO) -> int:
            if args.by:
                table = outcome_table(ledger, args.notice or current.notice, args.by)
                return write_outcomes(table, args.by, args.format, fh)
            rows = report_rows(
                ledger,
                states=states,
                notice=args.notice,
                possibly_duplicated=args.possibly_duplicated,
                language_of=language_chooser(current),
            )
            if args.unreached:  # returned letters too; a delivered letter reaches whom email did not
                rows = with_letters(rows, ledger, notice=args.notice or "", columns=REPORT_COLUMNS)
            return write_report(rows, args.format, fh)

        if args.output:
            with private_text(args.output) as fh:
                n = write(fh)
            sys.stderr.write(f"Wrote {n} rows to {args.output}\n")
        else:
            write(out)
    finally:
        ledger.close()
    return 0
