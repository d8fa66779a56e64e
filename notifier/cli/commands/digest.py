"""`notify digest`: where the campaign stands, for the incident team (counts only).

Prints the digest (text or HTML); with --send, mails it to ``[digest] to`` (or --to) through
``[digest] transport``, a transport apart from the campaign's.
"""

from __future__ import annotations

import argparse
from typing import TextIO

from notifier.cli.options import Subparsers, settings
from notifier.digest.render import render_digest
from notifier.digest.send import digest_transport, recipients, send_digest
from notifier.digest.status import collect

__all__ = ["digest", "register"]


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "digest",
        help="today's status for the incident team (counts only); --send mails it",
        description="Where the campaign stands: sent, delivered, bounced, unreached by "
        "jurisdiction, letters built and returned, codes issued, deadlines due in the next 72 "
        "hours and overdue, follow-ups scheduled. No names or addresses, only counts. With --send "
        "it goes to [digest] to through [digest] transport (password in "
        "NOTIFY_DIGEST_SMTP_PASSWORD), never through the campaign's own mail system. "
        "Schedule it daily: notify schedule --digest daily --at 08:00",
    )
    p.add_argument(
        "--to",
        action="append",
        default=[],
        metavar="NAME",
        help="a list under [digest.lists], or an address (repeatable); default [digest] to",
    )
    p.add_argument("--format", choices=("text", "html"), default="text", help="what to print (default text)")
    p.add_argument("--send", action="store_true", help="mail it instead of printing it")


def digest(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    current = settings(args)
    if args.send or args.to:
        to = recipients(current, args.to)  # a wrong name stops us before anything is read
        transport = digest_transport(current)
        results = send_digest(current, collect(current), to, transport)
        for r in results:
            out.write(f"{'sent to' if r.accepted else 'NOT sent to'} {r.address}: {r.reply}\n")
        return 0 if all(r.accepted for r in results) else 1
    out.write(render_digest(collect(current), args.format))
    return 0
