"""`notify substitute`: does the substitute notice apply, with the counts that trigger it; the
website notice and media statement; `notify substitute posted` starts its posting clocks."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from notifier.channels.policy import policy_for
from notifier.cli.options import Subparsers, add_json, add_notice, add_segment, settings
from notifier.compliance.deadlines_view import SUBSTITUTE_POSTED, parse_filed_at
from notifier.compliance.substitute import Finding, evaluate, gather, load_substitute_rules
from notifier.compliance.substitute_notice import Posting, write_documents
from notifier.errors import UsageError
from notifier.ledger import open_ledger
from notifier.lists.segments import resolve

__all__ = ["posted", "register", "substitute"]


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "substitute",
        help="does the substitute notice apply? writes the web notice and media statement",
        description="For each jurisdiction whose residents are in the segment: whether substitute "
        "notice (website posting, media, email where held) applies, with the counts that trigger it "
        "(direct-notice cost, residents, people without usable contact). Writes the conspicuous "
        "website notice (HTML) and a media statement from notify.toml's facts: no personal data.",
    )
    add_segment(p, "segment name from [segments], or 'all' (default: 'affected' if defined, else all)")
    add_notice(p, "the notice (default: [campaign] notice)")
    p.add_argument(
        "--output", type=Path, default=Path("substitute"), metavar="DIR", help="where to write (substitute/)"
    )
    p.add_argument("--from", dest="posted_from", metavar="DATE", help="the day it goes up (default: today)")
    add_json(p, suppress=True)
    ssub = p.add_subparsers(dest="substitute_command", metavar="ACTION")
    pp = ssub.add_parser(
        "posted",
        help="record that the website notice is up: starts its posting and toll-free clocks",
        description="Record (in the ledger, audited) when the substitute notice went up on the "
        "website; `notify deadlines` then shows until when it and the toll-free line must stay up.",
    )
    pp.add_argument("--at", help="when it went up, e.g. 2026-12-01T10:00+01:00 (default: now)")
    pp.add_argument("--url", default="", help="where it is posted")


def substitute(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    current = settings(args)
    tz = ZoneInfo(current.timezone)
    name = args.segment or ("affected" if "affected" in current.segments else "all")
    segment = resolve(name, current.segments, path=str(current.path), lines=current.segment_lines)
    notice = args.notice or current.notice
    version, rules = load_substitute_rules()
    policy = policy_for(current)
    counts = gather(current, segment, notice=notice)
    flags = frozenset(k for k in ("hipaa",) if current.facts.get("incident", {}).get(k) is True)
    findings = evaluate(rules, counts, cost_per_letter=policy.cost_per_letter, flags=flags)
    applying = [f for f in findings if f.applies]
    start = _day(args.posted_from, tz)
    posting = Posting(
        start,
        max((f.rule.post_days for f in applying), default=30),
        max((f.rule.phone_days for f in applying), default=0),
    )
    web, media = write_documents(current.root / args.output, current.facts, posting)
    if getattr(args, "json", False):
        data: dict[str, Any] = {
            "rules_version": version,
            "segment": segment.name,
            "cost_per_letter": policy.cost_per_letter,
            "findings": [f.as_dict() for f in findings],
            "posted_from": posting.posted_from.isoformat(),
            "posted_until": posting.posted_until.isoformat(),
            "phone_until": posting.phone_until.isoformat() if posting.phone_until else None,
            "web_notice": str(web),
            "media_statement": str(media),
        }
        json.dump(data, out, indent=2)
        out.write("\n")
        return 0
    out.write(
        f"Substitute notice for {notice!r}, segment {segment.name!r} (rules {version}; a letter costs "
        f"${policy.cost_per_letter:,.2f}, [channels] cost_per_letter):\n"
    )
    if not findings:
        out.write("  no rule covers anyone in this segment\n")
    for f in findings:
        _write_finding(f, out)
    out.write(
        f"\nWrote {web} and {media} (drafts from notify.toml's facts; no personal data).\n"
        f"Post from {posting.posted_from:%d %b %Y} until at least {posting.posted_until:%d %b %Y}"
        + (f"; keep the toll-free line until {posting.phone_until:%d %b %Y}" if posting.phone_until else "")
        + ".\nWhen it is up:  notify substitute posted --at 2026-12-01T10:00+01:00 --url https://...\n"
    )
    if applying:
        out.write(
            f"\nSubstitute notice applies in {len(applying)} rule(s): ask counsel, then post and publish.\n"
        )
    return 0


def _write_finding(f: Finding, out: TextIO) -> None:
    flag = "APPLIES" if f.applies else "no     "
    out.write(f"\n  {flag}  {f.rule.id}  ({f.people} residents)\n")
    for t in f.triggers:
        out.write(f"           {'*' if t.met else '-'} {t.words()}\n")
    if f.applies:
        out.write(f"           needs: {'; '.join(f.rule.parts)}\n")
    out.write(f"           source: {f.rule.source}\n")
    if f.rule.verify:
        out.write(f"           WARNING (VERIFY): {f.rule.verify}\n")


def _day(value: str | None, tz: ZoneInfo) -> dt.date:
    if not value:
        return dt.datetime.now(tz).date()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--from {value!r} is not a date", hint="write it as 2026-12-01") from None


def posted(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    current = settings(args)
    tz = ZoneInfo(current.timezone)
    at = parse_filed_at(args.at, tz) if args.at else dt.datetime.now(tz)
    ledger = open_ledger(current)
    try:
        ledger.mark_filed(SUBSTITUTE_POSTED, at.timestamp(), args.url)
    finally:
        ledger.close()
    out.write(
        f"Recorded: the substitute notice went up {at.astimezone(tz):%a %d %b %Y %H:%M %Z}. "
        "`notify deadlines` shows until when it (and any toll-free line) must stay up.\n"
    )
    return 0
