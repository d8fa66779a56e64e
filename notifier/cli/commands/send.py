"""`notify send`: one notice to one segment, resumable."""

from __future__ import annotations

import argparse
from typing import TextIO

from notifier.cli.options import Subparsers, add_lists, add_notice, add_segment, settings, whole
from notifier.cli.progress import TerminalUI
from notifier.pipeline.campaign import Campaign
from notifier.pipeline.run import SendOptions, run

__all__ = ["register", "send"]


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "send",
        help="send a notice to a segment",
        description="Send a notice to everyone in a segment who has not received it yet. "
        "Resumable: run it again after any stop and it sends only what is left; "
        "--retry-failed sends again to those no server accepted once the cause is fixed.",
    )
    add_segment(p, "segment name from [segments], or 'all'", required=True)
    add_notice(p, "notice to send (default: [campaign] notice)")
    add_lists(p, "send to this CSV instead of [lists] files (repeatable)")
    p.add_argument("--transport", metavar="URL", help="override [transport] url for this run")
    again = p.add_mutually_exclusive_group()
    again.add_argument(
        "--retry-failed",
        action="store_true",
        help="send again to the people no server accepted: gave up after retrying, refused for a "
        "reason on our side, or soft-bounced; never to anyone accepted, a dead address (user "
        "unknown, ...) or anyone suppressed. The plan shows how many and why before asking",
    )
    again.add_argument(
        "--resend",
        action="store_true",
        help="send AGAIN to everyone in the segment, on purpose: also those whose server already "
        "accepted this notice (to retry only the failed ones, use --retry-failed)",
    )
    p.add_argument("--limit", type=whole(1), metavar="N", help="send at most N messages in this run")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="render everything into a temporary outbox; the ledger is not changed",
    )
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument(
        "--check-deliverability",
        action="store_true",
        help="reject addresses whose domain has no mail server (DNS lookups)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="send even if sender-authentication or message checks fail (asks again on a "
        "terminal; the override and the full report are kept in the ledger), and email also the "
        "people whose lawful channel is a letter or none (in addition to their letter; audited) — "
        "never a mailbox we provide whose login leaked",
    )


def send(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    options = SendOptions(
        list_files=tuple(args.lists or ()),
        resend=args.resend,
        retry_failed=args.retry_failed,
        limit=args.limit,
        dry_run=args.dry_run,
        yes=args.yes,
        check_deliverability=args.check_deliverability,
        force=args.force,
    )
    campaign = Campaign.open(settings(args), segment=args.segment, notice=args.notice)
    return run(campaign, options, TerminalUI(stdin, out)).code
