"""`notify check` (will this campaign authenticate and reach the inbox?) and `notify check spf`."""

from __future__ import annotations

import argparse
import json
import os
from typing import TextIO

from notifier.checks.dns.lookup import Lookup
from notifier.checks.dns.resolver import make_resolver
from notifier.checks.dns.spf import evaluate
from notifier.checks.preflight import AudienceFacts, campaign_report
from notifier.cli.options import Subparsers, add_json, add_notice, add_segment, settings
from notifier.compliance import approvals
from notifier.lists import audience
from notifier.pipeline.campaign import Campaign
from notifier.settings import config_path, load

__all__ = ["check", "register", "spf"]


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "check",
        help="will this campaign authenticate and reach the inbox?",
        description="Check SPF, DKIM, DMARC and alignment, reverse DNS, TLS to the relay, "
        "mailbox-provider rules, a rendered sample message, the list and the transport. "
        "Every item is PASS, WARN or FAIL with its check ID and the fix. Exit 1 on any FAIL.",
    )
    add_segment(p, "segment to take the sample message from (default all)", default="all")
    add_notice(p, "notice to check (default: [campaign] notice)")
    add_json(p)
    check_sub = p.add_subparsers(dest="check_command", metavar="WHAT")
    spf_parser = check_sub.add_parser(
        "spf",
        help="evaluate SPF for one sending IP, with the full trace",
        description="Evaluate SPF (RFC 7208 check_host) for IP sending as MAIL_FROM and "
        "print the result with every term and DNS lookup. Works without notify.toml.",
    )
    spf_parser.add_argument("ip", help="the sending IP address")
    spf_parser.add_argument("mail_from", help="the envelope sender (an address or a domain)")
    spf_parser.add_argument("--helo", default="", help="the EHLO name, for the %%{h} macro")
    add_json(spf_parser, suppress=True)


def check(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    current = settings(args)
    # Campaign.open resolves the segment, loads the notice, refuses an unready follow-up and
    # checks the transport URL, as `send` does; its sample() is the one message builder.
    campaign = Campaign.open(current, segment=args.segment, notice=args.notice)
    notice, segment = campaign.notice, campaign.segment
    lists = audience.read_lists(current.list_files)
    first = audience.first_notice_of(current, notice.name, notice.refers_to)
    with audience.open_reader(current) as reader:
        members = audience.members(lists, segment, reader, notice=notice.name, first_notice=first)
        facts = AudienceFacts(segment.name, members, lists.summaries, campaign.sample)
        report = campaign_report(current, campaign.transport, notice, facts)
    # Sign-off: approved, not yet, or "changed since approved by ..." (notice content area).
    report.add(approvals.finding(approvals.statuses(current, [notice.name])[notice.name], current))
    if args.json:
        report.write_json(out)
    else:
        out.write(f"notify check — {current.campaign}, notice {notice.name}, From {current.sender.address}\n")
        report.write_text(out)
    return 1 if report.failed else 0


def spf(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    path = config_path(args.config)
    nameservers: tuple[str, ...] = ()
    timeout = 5.0
    if path.exists():
        current = load(path)
        nameservers, timeout = current.nameservers, current.dns_timeout
    elif os.environ.get("NOTIFY_NAMESERVERS"):
        nameservers = tuple(n for n in os.environ["NOTIFY_NAMESERVERS"].split(",") if n.strip())
    lookup = Lookup(make_resolver(nameservers, timeout=timeout))
    result = evaluate(lookup, args.ip, args.mail_from, helo=args.helo)
    if getattr(args, "json", False):
        json.dump(result.as_dict(), out, indent=2)
        out.write("\n")
        return 0 if result.result == "pass" else 1
    out.write(f"SPF {result.result} for {args.ip} sending as {args.mail_from}\n")
    out.write(f"  reason:  {result.reason}\n")
    if result.explanation:
        out.write(f"  explanation: {result.explanation}\n")
    out.write(f"  lookups: {result.lookups} of 10, void lookups: {result.voids} of 2\n\ntrace:\n")
    for line in result.trace:
        out.write(f"  {line}\n")
    return 0 if result.result == "pass" else 1
