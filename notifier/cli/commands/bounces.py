"""`notify bounces parse` (what bounce messages say) and `notify bounces ingest` (into the ledger)."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import TextIO

from notifier.bounces import sources
from notifier.bounces.ingest import UNVERIFIED, ingest_policy
from notifier.bounces.parse import parse_bounce
from notifier.cli.options import Subparsers, add_json, settings
from notifier.errors import UsageError
from notifier.ledger import open_ledger
from notifier.tokens import Tokens

__all__ = ["ingest_sources", "parse", "register"]


def register(sub: Subparsers) -> None:
    bounces = sub.add_parser("bounces", help="bounce and complaint mail")
    bsub = bounces.add_subparsers(dest="bounces_command", metavar="ACTION", required=True)
    bparse = bsub.add_parser(
        "parse",
        help="show what bounce messages say, without touching the ledger",
        description="For each .eml file: kind (bounce, delay, complaint, auto-reply, not a "
        "bounce) and per recipient the address, action, status, reply code, reason and "
        "hard/soft. Reads only; for debugging a bounce mailbox.",
    )
    bparse.add_argument("files", nargs="+", type=Path)
    add_json(bparse)
    bingest = bsub.add_parser(
        "ingest",
        help="read bounce mail into the ledger",
        description="Read .eml files, mbox files, Maildir folders, saved Amazon SES/SNS JSON "
        "files (none of these is changed) or an IMAP mailbox imaps://USER@HOST[:PORT]/FOLDER "
        "(password from NOTIFY_IMAP_PASSWORD; each message tied to this campaign is flagged "
        "with the campaign's own $Notify- keyword, and with ?move=FOLDER moved, only after it "
        "is recorded). A report acts only when tied to a message this campaign sent: its VERP "
        "token, SES message id or original Message-ID. A tied failed delivery marks the "
        "notice bounced; tied hard bounces and complaints suppress the address, soft bounces "
        "after [bounces] soft_threshold in a row over soft_span. A report that only names an "
        "address we wrote to is recorded as unverified and changes nothing. Re-reading the "
        "same mail changes nothing; unmatched and unverified mail is kept and reported.",
    )
    bingest.add_argument("sources", nargs="+", metavar="SOURCE")


def parse(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    results = []
    for path in args.files:
        try:
            parsed = parse_bounce(path.read_bytes())
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror}") from None
        results.append((path, parsed))
    if args.json:
        json.dump([{"file": str(p), **b.as_dict()} for p, b in results], out, indent=2, ensure_ascii=False)
        out.write("\n")
        return 0
    for path, parsed in results:
        out.write(f"{path}: {parsed.kind}")
        if parsed.original_message_id:
            out.write(f" (original {parsed.original_message_id})")
        out.write("\n")
        for r in parsed.recipients:
            hardness = "hard" if r.hard else "soft"
            codes = f"{r.status or '-'}, {r.reply_code or '-'}"
            out.write(f"  {r.address}: {r.action}, {codes}, {r.reason}, {hardness}\n")
    return 0


def ingest_sources(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    current = settings(args)
    ledger = open_ledger(current)
    policy = ingest_policy(current)
    try:
        tokens = Tokens(current.secret or ledger.secret())
        report = sources.ingest_sources(ledger, tokens, args.sources, policy, os.environ)
    finally:
        ledger.close()
    matched = ", ".join(f"{n} by {how}" for how, n in sorted(report.matched.items())) or "none"
    out.write(
        f"Read {report.messages} message(s): {report.already_seen} seen before, "
        f"{report.not_bounces} not bounces; "
        f"{report.recipients} recipient report(s), matched {matched}; {report.suppressed} address(es) "
        "newly suppressed\n"
    )
    for line in report.unmatched:
        out.write(f"  unmatched: {line}\n")
    for line in report.unverified:
        out.write(f"  unverified: {line}: {UNVERIFIED}\n")
    return 1 if report.unmatched or report.unverified else 0
