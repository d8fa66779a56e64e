"""`notify`: parse arguments, build settings, call the pipeline. No business logic here.

Exit codes: 0 success; 1 the job ran but something needs attention (recipients
failed or were rejected); 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import logging
import math
import os
import secrets
import select
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from notifier import __version__, csvsafe
from notifier.bounces.imap import ingest_imap
from notifier.bounces.ingest import UNVERIFIED, IngestReport, ingest, ingest_policy
from notifier.bounces.parse import parse_bounce
from notifier.bounces.sns import SnsVerifier
from notifier.campaign import init_campaign
from notifier.checks.dns.lookup import Lookup
from notifier.checks.dns.resolver import make_resolver
from notifier.checks.dns.spf import evaluate
from notifier.checks.preflight import AudienceFacts, campaign_report
from notifier.cli.progress import TerminalUI
from notifier.cli.views import (
    outcome_table,
    report_rows,
    status_data,
    write_outcomes,
    write_report,
    write_status,
)
from notifier.compliance.deadlines_view import deadline_report, mark_done, parse_filed_at, write_deadlines
from notifier.compliance.evidence import check_audit, export_evidence
from notifier.compliance.lint import lint_campaign, write_lint
from notifier.errors import Aborted, NotifierError, UsageError, did_you_mean
from notifier.followups import schedule
from notifier.ledger import Claimed, ledger_exists, open_ledger
from notifier.lists import audience
from notifier.lists.recipients import dedupe_key
from notifier.lists.segments import Segment, resolve
from notifier.lists.suppressions import SharedSuppressions
from notifier.pipeline import deliver as pipeline
from notifier.pipeline.run import Campaign, SendOptions, first_notice_at, notice_context
from notifier.pipeline.run import run as run_send
from notifier.render.notice import Notice, load_notice
from notifier.render.signing import generate_key, public_txt
from notifier.settings import Settings, config_path, load, parse_duration
from notifier.tokens import Tokens
from notifier.transports import from_url
from notifier.web.preview import PreviewApp, make_server, stop_on_signals
from notifier.web.serve import ServeApp, make_serve_server
from notifier.web.unsubscribe import add_unsubscribe_routes

__all__ = ["main"]


def _whole(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number in [low, high], so a typo is a usage error (exit 2)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low or (high is not None and value > high):
            span = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise argparse.ArgumentTypeError(f"{text!r} is out of range: use a whole number {span}")
        return value

    return parse


def _seconds(low: float, high: float) -> Callable[[str], float]:
    """An argparse type: a finite number of seconds in [low, high] (nan and inf are not)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and low <= value <= high):
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds from {low:g} to {high:g}")
        return value

    return parse


def _after(text: str) -> float:
    """``--after``: 7d, 36h, 90m, 30s (at most two years: a later date is a typo, and would not fit
    in the dates shown)."""
    try:
        seconds = parse_duration(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time such as 7d, 36h, 90m or 30s (days, hours, minutes, seconds)"
        ) from None
    if seconds > 730 * 86400:
        raise argparse.ArgumentTypeError(f"{text!r} is more than two years (730d)")
    return seconds


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="notify",
        description="Send personalised data-breach notices, check them first, and record every attempt.",
    )
    p.add_argument("--version", action="version", version=f"notify {__version__}")
    p.add_argument(
        "--config", metavar="PATH", help="campaign configuration (default ./notify.toml, or $NOTIFY_CONFIG)"
    )
    p.add_argument(
        "--ledger",
        metavar="URL",
        help="postgresql://USER@HOST/DB or sqlite:PATH instead of [ledger] (password: PGPASSWORD, ~/.pgpass)",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    init = sub.add_parser(
        "init",
        help="create a ready-to-run campaign folder",
        description="Create a campaign: notify.toml, the built-in templates, a synthetic "
        "list of about 1,000 people and a local outbox transport.",
    )
    init.add_argument("directory", type=Path)
    init.add_argument(
        "--size", type=_whole(1, 1_000_000), default=1000, help="people in the synthetic list (default 1000)"
    )

    lists = sub.add_parser("lists", help="inspect subscriber lists")
    lsub = lists.add_subparsers(dest="lists_command", metavar="ACTION", required=True)
    check = lsub.add_parser(
        "check",
        help="validate the lists and show every rejected row",
        description="Read the lists as `send` would, without touching the ledger, and "
        "show every rejected row (file:line and reason), merged duplicates and warnings.",
    )
    check.add_argument(
        "--list",
        dest="lists",
        action="append",
        type=Path,
        metavar="PATH",
        help="check this CSV instead of [lists] files (repeatable)",
    )
    check.add_argument(
        "--export", type=Path, metavar="FILE", help="write rejected and duplicate rows to a CSV"
    )
    check.add_argument(
        "--check-deliverability",
        action="store_true",
        help="also look up each domain's mail servers (MX) in DNS",
    )
    check.add_argument("--json", action="store_true", help="machine-readable output")

    send = sub.add_parser(
        "send",
        help="send a notice to a segment",
        description="Send a notice to everyone in a segment who has not received it yet. "
        "Resumable: run it again after any stop and it sends only what is left.",
    )
    send.add_argument("--segment", required=True, help="segment name from [segments], or 'all'")
    send.add_argument("--notice", help="notice to send (default: [campaign] notice)")
    send.add_argument(
        "--list",
        dest="lists",
        action="append",
        type=Path,
        metavar="PATH",
        help="send to this CSV instead of [lists] files (repeatable)",
    )
    send.add_argument("--transport", metavar="URL", help="override [transport] url for this run")
    send.add_argument(
        "--resend",
        action="store_true",
        help="send again to people who already received (or permanently failed) this notice",
    )
    send.add_argument("--limit", type=_whole(1), metavar="N", help="send at most N messages in this run")
    send.add_argument(
        "--dry-run",
        action="store_true",
        help="render everything into a temporary outbox; the ledger is not changed",
    )
    send.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    send.add_argument(
        "--check-deliverability",
        action="store_true",
        help="reject addresses whose domain has no mail server (DNS lookups)",
    )
    send.add_argument(
        "--force",
        action="store_true",
        help="send even if sender-authentication or message checks fail (asks again on a "
        "terminal; the override and the full report are kept in the ledger)",
    )

    check = sub.add_parser(
        "check",
        help="will this campaign authenticate and reach the inbox?",
        description="Check SPF, DKIM, DMARC and alignment, reverse DNS, TLS to the relay, "
        "mailbox-provider rules, a rendered sample message, the list and the transport. "
        "Every item is PASS, WARN or FAIL with its check ID and the fix. Exit 1 on any FAIL.",
    )
    check.add_argument(
        "--segment", default="all", help="segment to take the sample message from (default all)"
    )
    check.add_argument("--notice", help="notice to check (default: [campaign] notice)")
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check_sub = check.add_subparsers(dest="check_command", metavar="WHAT")
    spf = check_sub.add_parser(
        "spf",
        help="evaluate SPF for one sending IP, with the full trace",
        description="Evaluate SPF (RFC 7208 check_host) for IP sending as MAIL_FROM and "
        "print the result with every term and DNS lookup. Works without notify.toml.",
    )
    spf.add_argument("ip", help="the sending IP address")
    spf.add_argument("mail_from", help="the envelope sender (an address or a domain)")
    spf.add_argument("--helo", default="", help="the EHLO name, for the %%{h} macro")
    spf.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")

    preview = sub.add_parser(
        "preview",
        help="see every notice in the browser before it goes out",
        description="A local web app (127.0.0.1, token-protected): overview, recipient "
        "browser, each message exactly as send builds it, lint findings, deadlines, and "
        "test sends to [preview] seeds. Reloads when templates or notify.toml change.",
    )
    preview.add_argument(
        "--port", type=_whole(0, 65535), default=8025, help="port (default 8025; 0: any free port)"
    )
    preview.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1; others warn)")
    preview.add_argument("--open", action="store_true", help="open the browser")

    sched = sub.add_parser(
        "schedule",
        help="schedule a follow-up notice; list, cancel or confirm schedules",
        description="`notify schedule --notice what-we-changed --after 7d [--segment notified] "
        "[--window 09:00-17:00]` sends a follow-up 7 days after the first notice was first "
        "accepted (or --at a date and time with its UTC offset), only inside the window in "
        "each recipient's local time. `notify run-due` (cron) or `notify worker` sends it. A "
        "schedule missed by more than [schedule] grace waits for `notify schedule confirm ID`.",
    )
    sched.add_argument("--notice", help="the follow-up notice (a folder in templates/ with kind = follow-up)")
    sched.add_argument("--after", type=_after, help="time after the first notice: 7d, 36h, ...")
    sched.add_argument("--at", help="an absolute time with UTC offset: 2026-12-08T10:00+01:00")
    sched.add_argument("--segment", default="notified", help="who gets it (default notified)")
    sched.add_argument("--window", default="", help="only between these local times, e.g. 09:00-17:00")
    schsub = sched.add_subparsers(dest="schedule_command", metavar="ACTION")
    s_list_sched = schsub.add_parser("list", help="every schedule with its state and due time")
    s_list_sched.add_argument("--json", action="store_true", help="machine-readable output")
    for verb, what in (("cancel", "cancel a schedule"), ("confirm", "send a schedule that missed its time")):
        one = schsub.add_parser(verb, help=what)
        one.add_argument("id", type=int)

    sub.add_parser(
        "run-due",
        help="send the follow-ups that are due, then exit (for cron)",
        description="Looks at every schedule once and sends what is due; running it again "
        "changes nothing for a schedule that is done. Exit 1 when a schedule needs attention.",
    )
    work = sub.add_parser(
        "worker",
        help="keep sending due follow-ups until stopped (SIGTERM stops it cleanly)",
        description="`notify run-due` in a loop. On SIGTERM or Ctrl-C it lets the messages in "
        "flight finish, records them, and exits 0.",
    )
    work.add_argument(
        "--interval", type=_seconds(0.1, 86400), default=60.0, help="seconds between checks (default 60)"
    )

    audit = sub.add_parser("audit", help="the campaign's tamper-evident audit trail")
    asub = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    a_verify = asub.add_parser(
        "verify",
        help="check the keyed hash chain: any edited, added, reordered or deleted entry is named",
        description="Checks every entry against the campaign's audit key (NOTIFY_AUDIT_KEY, else "
        ".notify/audit.key beside notify.toml): entries edited, deleted, reordered or added without "
        "the key, a log cut back, emptied or rebuilt without the key, a head removed or forged. "
        "Prints the head hash: write it down elsewhere and pass it back with --head.",
    )
    a_verify.add_argument(
        "--head",
        metavar="HASH",
        help="a head hash printed earlier: also prove the log still reaches it (catches a rebuild "
        "by someone who has the key)",
    )
    a_export = asub.add_parser(
        "export",
        help="write an evidence pack for regulators and counsel",
        description="Writes evidence.json (the audit log, per-notice and per-jurisdiction counts "
        "with times, deadlines met or missed, per-recipient outcomes by list id) and summary.txt "
        "(the same in plain words). No message bodies, no names or addresses.",
    )
    a_export.add_argument(
        "--output", type=Path, required=True, metavar="DIR", help="folder to write (created 0700)"
    )

    serve = sub.add_parser(
        "serve",
        help="HTTP endpoint for Amazon SES notifications via SNS",
        description="POST /sns takes SNS notifications (Bounce, Complaint, Delivery, "
        "DeliveryDelay, Reject; both SES formats). Each is verified (signature v1/v2, "
        "certificate only from https sns.<region>.amazonaws.com, recent timestamp, TopicArn "
        "in [serve] sns_topics) and recorded once by its MessageId; subscriptions are "
        "confirmed only for allowed topics. Binds [serve] host/port (127.0.0.1:8026). "
        "SIGTERM or Ctrl-C stops it.",
    )
    serve.add_argument("--port", type=_whole(0, 65535), help="port (default [serve] port, 8026)")
    serve.add_argument("--host", help="bind address (default [serve] host, 127.0.0.1)")

    lint = sub.add_parser(
        "lint",
        help="does each notice say what the recipient's law requires?",
        description="Check the rendered notice of every recipient against the content rules "
        "of their jurisdiction (EU/UK GDPR, US states) and exposed data. Exit 1 on any ERROR.",
    )
    lint.add_argument("--segment", default="all", help="who to lint (default all)")
    lint.add_argument("--notice", help="notice to lint (default: [campaign] notice)")
    lint.add_argument("--json", action="store_true", help="machine-readable output")

    deadlines = sub.add_parser(
        "deadlines",
        help="every legal deadline, earliest first, met or not",
        description="From the incident dates in notify.toml and the recipients per "
        "jurisdiction: each obligation (individuals, regulators, credit bureaus) with its "
        "due time, clock start, whether it is met (from the ledger) and its source.",
    )
    deadlines.add_argument(
        "--notice", help="the notice that counts as telling people (default: [campaign] notice)"
    )
    deadlines.add_argument(
        "--segment",
        help="the people the breach affects (default: the recipients of the notice so far; before "
        "the first send, the 'affected' segment if defined, else everyone)",
    )
    deadlines.add_argument("--json", action="store_true", help="machine-readable output")
    deadlines.add_argument(
        "action", nargs="?", choices=["done"], help="done RULE: mark a regulator filing as made"
    )
    deadlines.add_argument("rule", nargs="?", help="the deadline rule id, e.g. MA-AG")
    deadlines.add_argument("--at", help="when it was filed, e.g. 2026-12-01T10:00+01:00 (default: now)")
    deadlines.add_argument("--ref", default="", help="the regulator's reference for the filing")

    dkim = sub.add_parser("dkim", help="DKIM keys")
    dkim_sub = dkim.add_subparsers(dest="dkim_command", metavar="ACTION", required=True)
    keygen = dkim_sub.add_parser(
        "keygen",
        help="make a signing key and print the DNS record to publish",
        description="Write a new private key (mode 0600) and print the TXT record to "
        "publish and the [dkim] table for notify.toml.",
    )
    keygen.add_argument("--domain", required=True, help="the signing domain (d=), normally the From domain")
    keygen.add_argument("--selector", required=True, help="the selector (s=), e.g. s2026")
    keygen.add_argument("--type", choices=("rsa", "ed25519"), default="rsa", help="key type (default rsa)")
    keygen.add_argument(
        "--bits", type=int, choices=(2048, 3072, 4096), default=2048, help="RSA key size (default 2048)"
    )
    keygen.add_argument("--out", type=Path, help="where to write the key (default dkim-SELECTOR.pem)")

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
    bparse.add_argument("--json", action="store_true", help="machine-readable output")
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

    suppress = sub.add_parser(
        "suppress",
        help="the campaign's suppression list",
        description="Addresses on the suppression list are skipped (state suppressed, "
        "counted) by later sends. Hard failures (user unknown, domain does not exist) "
        "are added automatically; policy and authentication refusals never are.",
    )
    ssub = suppress.add_subparsers(dest="suppress_command", metavar="ACTION", required=True)
    s_add = ssub.add_parser("add", help="suppress addresses")
    s_add.add_argument("addresses", nargs="+")
    s_add.add_argument("--reason", default="manual", help="why (kept with the entry; default manual)")
    s_remove = ssub.add_parser("remove", help="take addresses off the list")
    s_remove.add_argument("addresses", nargs="+")
    s_list = ssub.add_parser("list", help="show the list")
    s_list.add_argument("--format", choices=("text", "csv", "json"), default="text")

    status = sub.add_parser("status", help="counts by state, retry queue, errors by reply code")
    status.add_argument("--json", action="store_true", help="machine-readable output")

    report = sub.add_parser(
        "report",
        help="per-recipient rows (no message bodies)",
        description="Export per-recipient rows from the ledger: state, attempts, last "
        "reply, queue id. Never includes message bodies.",
    )
    report.add_argument(
        "--state",
        action="append",
        default=[],
        metavar="STATE",
        help="only this state (repeatable; comma-separated allowed): pending, sending, sent, "
        "deferred, failed, bounced, invalid, suppressed",
    )
    report.add_argument(
        "--possibly-duplicated",
        action="store_true",
        help="only messages that may have been delivered twice after a hard stop",
    )
    report.add_argument(
        "--unreached",
        action="store_true",
        help="people email could not reach (invalid, bounced, failed, suppressed), with their postal "
        "fields, for a substitute notice",
    )
    report.add_argument(
        "--by",
        choices=("reason", "domain"),
        help="instead of rows, counts of delivered / accepted / complained / bounced / deferred / "
        "unreached per reason or per recipient domain",
    )
    report.add_argument("--notice", help="only this notice")
    report.add_argument("--format", choices=("csv", "json"), default="csv")
    report.add_argument(
        "--output", type=Path, metavar="FILE", help="write to FILE (created 0600) instead of stdout"
    )
    return p


def _settings(args: argparse.Namespace) -> Settings:
    environ = dict(os.environ)
    if getattr(args, "ledger", None):
        environ["NOTIFY_LEDGER"] = args.ledger
    return load(
        config_path(args.config), environ=environ, transport_override=getattr(args, "transport", None)
    )


# Commands whose --notice names a folder of templates to render.
_RENDERING = frozenset({"send", "check", "lint", "schedule", "deadlines"})


def _known_notice(args: argparse.Namespace) -> None:
    """Refuse a --notice that has no folder in templates/, suggesting the closest one."""
    name = getattr(args, "notice", None)
    if not name or args.command not in _RENDERING:
        return
    folder = _settings(args).templates_dir
    if not folder.is_dir():
        return  # loading the notice says what is missing
    names = sorted(p.name for p in folder.iterdir() if p.is_dir())
    if name not in names:
        raise UsageError(
            f"unknown notice {name!r}; the notices in {folder} are: {', '.join(names) or 'none'}",
            hint=did_you_mean(name, names)
            or f"pick one of those, or create {folder}/{name}/ with subject.txt, body.html and body.txt",
        )


def _lists_check(args: argparse.Namespace, out: TextIO) -> int:
    settings = _settings(args)
    files = tuple(args.lists or settings.list_files)
    resolver = None
    if args.check_deliverability:
        resolver = make_resolver(settings.nameservers, timeout=settings.dns_timeout)
    # The audience's reading of the lists: the same merge as the import, nothing written.
    lists = audience.read_lists(files, check_deliverability=args.check_deliverability, dns_resolver=resolver)
    imports, issues = lists.summaries, lists.issues
    rejected = [i for i in issues if i["kind"] in ("invalid", "malformed")]
    if args.json:
        json.dump(
            {
                "lists": [dataclasses.asdict(i) for i in imports],
                "recipients": len(lists.recipients),
                "issues": issues,
            },
            out,
            indent=2,
            ensure_ascii=False,
        )
        out.write("\n")
    else:
        for imp in imports:
            out.write(
                f"{imp.path}: {imp.rows} rows — {imp.valid} usable, {imp.invalid} rejected, "
                f"{imp.duplicates} duplicates merged, {imp.warnings} warnings\n"
            )
        for title, kinds in (
            ("Rejected (will not be sent; recorded as invalid)", ("invalid", "malformed")),
            ("Duplicates (merged into the first row)", ("duplicate",)),
            ("Warnings (will be sent)", ("warning",)),
        ):
            chosen = [i for i in issues if i["kind"] in kinds]
            if chosen:
                out.write(f"\n{title}:\n")
                for i in chosen:
                    out.write(f"  {i['file']}:{i['line']}: {i['reason']}\n")
        if len(imports) > 1:
            out.write(f"\n{len(lists.recipients)} people across the lists (each address once)\n")
        if rejected:
            out.write("\nFix these rows in the list (or export them with --export FILE) and check again.\n")
    if args.export:
        with args.export.open("w", encoding="utf-8", newline="") as fh:
            writer = csvsafe.dict_writer(fh, ["file", "line", "kind", "reason", "email", "raw"])
            writer.writeheader()
            writer.writerows(i for i in issues if i["kind"] != "warning")
        args.export.chmod(0o600)
        if not args.json:
            out.write(f"Wrote {sum(1 for i in issues if i['kind'] != 'warning')} rows to {args.export}\n")
    return 1 if rejected else 0


def _report(args: argparse.Namespace, out: TextIO) -> int:
    settings = _settings(args)
    states = [s.strip() for arg in args.state for s in arg.split(",") if s.strip()]
    if args.unreached:
        states = sorted(set(states) | {"invalid", "bounced", "failed", "suppressed"})
    ledger = open_ledger(settings)
    try:

        def write(fh: TextIO) -> int:
            if args.by:
                notice = args.notice or settings.notice
                return write_outcomes(outcome_table(ledger, notice, args.by), args.by, args.format, fh)
            rows = report_rows(
                ledger, states=states, notice=args.notice, possibly_duplicated=args.possibly_duplicated
            )
            return write_report(rows, args.format, fh)

        if args.output:
            args.output.touch(mode=0o600)
            with args.output.open("w", encoding="utf-8", newline="") as fh:
                n = write(fh)
            sys.stderr.write(f"Wrote {n} rows to {args.output}\n")
        else:
            write(out)
    finally:
        ledger.close()
    return 0


def _check(args: argparse.Namespace, out: TextIO) -> int:
    settings = _settings(args)
    notice_name = args.notice or settings.notice
    notice = load_notice(settings.templates_dir, notice_name, notice_context(settings, notice_name))
    segment = resolve(args.segment, settings.segments, path=str(settings.path), lines=settings.segment_lines)
    transport = from_url(
        settings.transport_url,
        root=settings.root,
        connections=settings.throttle.connections,
        helo=settings.sender.helo,
    )
    lists = audience.read_lists(settings.list_files)
    first = audience.first_notice_of(settings, notice_name, notice.refers_to)
    with audience.open_reader(settings) as reader:
        members = audience.members(lists, segment, reader, notice=notice_name, first_notice=first)
        facts = AudienceFacts(segment.name, members, lists.summaries, _sample_builder(settings, notice))
        report = campaign_report(settings, transport, notice, facts)
    if args.json:
        report.write_json(out)
    else:
        out.write(
            f"notify check — {settings.campaign}, notice {notice_name}, From {settings.sender.address}\n"
        )
        report.write_text(out)
    return 1 if report.failed else 0


def _sample_builder(settings: Settings, notice: Notice) -> Callable[[audience.Member], bytes]:
    """The unsigned message `send` would build for one member (for the message checks), with a
    throw-away token key: the sample is never sent, and a check must not create the campaign's."""

    def build(member: audience.Member) -> bytes:
        factory = pipeline.MessageFactory(
            notice,
            settings.sender,
            Tokens(secrets.token_bytes(32)),
            signer=None,
            unsubscribe_base=settings.public_url,
        )
        return factory.prepare(Claimed(0, member.recipient, 0, None, False)).data

    return build


def _check_spf(args: argparse.Namespace, out: TextIO) -> int:
    path = config_path(args.config)
    nameservers: tuple[str, ...] = ()
    timeout = 5.0
    if path.exists():
        settings = load(path)
        nameservers, timeout = settings.nameservers, settings.dns_timeout
    elif os.environ.get("NOTIFY_NAMESERVERS"):
        nameservers = tuple(n for n in os.environ["NOTIFY_NAMESERVERS"].split(",") if n.strip())
    lookup = Lookup(make_resolver(nameservers, timeout=timeout))
    result = evaluate(lookup, args.ip, args.mail_from, helo=args.helo)
    if getattr(args, "json", False):
        json.dump(result.as_dict(), out, indent=2)
        out.write("\n")
    else:
        out.write(f"SPF {result.result} for {args.ip} sending as {args.mail_from}\n")
        out.write(f"  reason:  {result.reason}\n")
        if result.explanation:
            out.write(f"  explanation: {result.explanation}\n")
        out.write(f"  lookups: {result.lookups} of 10, void lookups: {result.voids} of 2\n\ntrace:\n")
        for line in result.trace:
            out.write(f"  {line}\n")
    return 0 if result.result == "pass" else 1


def _keygen(args: argparse.Namespace, out: TextIO) -> int:
    target = args.out or Path(f"dkim-{args.selector}.pem")
    if target.exists():
        raise UsageError(f"{target} already exists; refusing to overwrite a key", hint="choose another --out")
    key = generate_key(target, kind=args.type, bits=args.bits)
    name = f"{args.selector}._domainkey.{args.domain.lower()}"
    txt = public_txt(key)
    chunks = " ".join(f'"{txt[i : i + 250]}"' for i in range(0, len(txt), 250))
    out.write(f"Wrote the private key to {target} (mode 0600). Keep it secret; never commit it.\n\n")
    out.write(f"Publish this DNS record:\n\n  {name}. IN TXT {chunks}\n\n")
    selector_key = "ed25519_selector" if args.type == "ed25519" else "selector"
    key_key = "ed25519_key" if args.type == "ed25519" else "key"
    out.write(
        f'Then add to notify.toml:\n\n  [dkim]\n  domain = "{args.domain.lower()}"\n'
        f'  {selector_key} = "{args.selector}"\n  {key_key} = "{target}"\n\n'
        "and run `notify check` once the record is visible in DNS.\n"
    )
    return 0


class _StderrHandler(logging.Handler):
    """Writes to whatever sys.stderr is at the time (it may be replaced after set-up)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except (OSError, ValueError):
            self.handleError(record)


def _bounces_parse(args: argparse.Namespace, out: TextIO) -> int:
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


def _bounces_ingest(args: argparse.Namespace, out: TextIO) -> int:
    settings = _settings(args)
    ledger = open_ledger(settings)
    policy = ingest_policy(settings)
    report = IngestReport()
    try:
        tokens = Tokens(settings.secret or ledger.secret())
        for source in args.sources:
            if source.startswith(("imaps://", "imap://")):
                ingest_imap(ledger, tokens, source, report, policy, os.environ)
            else:
                part = ingest(ledger, tokens, [Path(source)], policy)
                report.merge(part)
        ledger.audit(
            "bounces.ingest",
            {
                "sources": [src.split("@")[-1] for src in args.sources],  # no IMAP user names
                "messages": report.messages,
                "seen_before": report.already_seen,
                "kinds": report.kinds,
                "matched": report.matched,
                "unmatched": len(report.unmatched),
                "unverified": len(report.unverified),
                "suppressed": report.suppressed,
                "unsubscribed": report.unsubscribed,
            },
        )
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


def _suppress(args: argparse.Namespace, out: TextIO) -> int:
    settings = _settings(args)
    ledger = open_ledger(settings)
    try:
        if args.suppress_command == "list":
            rows = ledger.suppressions()
            if args.format == "json":
                json.dump(
                    [
                        {
                            "address": k,
                            "reason": r,
                            "at": dt.datetime.fromtimestamp(a, dt.UTC).isoformat(),
                            "source": s,
                        }
                        for k, r, a, s in rows
                    ],
                    out,
                    indent=2,
                )
                out.write("\n")
            elif args.format == "csv":
                writer = csvsafe.writer(out)
                writer.writerow(["address", "reason", "at", "source"])
                writer.writerows(
                    [(k, r, dt.datetime.fromtimestamp(a, dt.UTC).isoformat(), s) for k, r, a, s in rows]
                )
            else:
                for k, r, a, s in rows:
                    out.write(f"{k}  {r} ({s}, {dt.datetime.fromtimestamp(a, dt.UTC):%Y-%m-%d %H:%M} UTC)\n")
                out.write(f"{len(rows)} suppressed\n")
            return 0
        keys = [dedupe_key(a.strip()) for a in args.addresses]
        shared = SharedSuppressions(settings.shared_suppressions) if settings.shared_suppressions else None
        if args.suppress_command == "add":
            n = ledger.suppress(keys, reason=args.reason, source="manual")
            if shared is not None:
                shared.add(keys, args.reason)
            out.write(f"{n} address(es) added to the suppression list ({len(keys) - n} already there)\n")
        else:
            n = ledger.unsuppress(keys)
            if shared is not None:
                shared.remove(keys)
            out.write(f"{n} address(es) removed from the suppression list\n")
        return 0
    finally:
        ledger.close()


def _preview(args: argparse.Namespace, out: TextIO) -> int:
    path = config_path(args.config)
    load(path)  # a broken notify.toml is reported now, not in the browser
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        sys.stderr.write(
            f"notify: WARNING: the preview listens on {args.host}: anyone who can reach it and has the URL "
            "sees breach victims' personal data. Prefer the default 127.0.0.1 (use an SSH tunnel to share).\n"
        )
    # SIGTERM/SIGHUP stop like Ctrl-C, and every path out removes the private copy of the lists.
    with stop_on_signals():
        app = PreviewApp(path)
        try:
            server = make_server(app, args.host, args.port)
            try:
                sys.stderr.write("notify: reading the lists for the preview...\n")
                app.state()  # read the lists now, not on the first page view
                url = f"http://{args.host}:{server.server_address[1]}{app.link('/')}"
                out.write(f"Preview at {url}\n")
                out.write("(keep this URL private: the token in it is the only key; Ctrl-C stops)\n")
                out.flush()
                if args.open:
                    import webbrowser

                    webbrowser.open(url)
                server.serve_forever()
            except KeyboardInterrupt:
                sys.stderr.write("notify: preview stopped\n")
            finally:
                server.server_close()
        finally:
            app.close()
    return 0


def _serve(args: argparse.Namespace, out: TextIO) -> int:
    settings = _settings(args)
    host = args.host or settings.serve_host
    port = settings.serve_port if args.port is None else args.port
    if host not in ("127.0.0.1", "localhost", "::1"):
        sys.stderr.write(
            f"notify: WARNING: listening on {host}; put a TLS reverse proxy in front of it and expose "
            "only /sns (and the unsubscribe paths).\n"
        )
    if not settings.sns_topics:
        sys.stderr.write(
            "notify: WARNING: [serve] sns_topics is empty, so every SNS message will be refused; "
            "add the TopicArn(s) your SES configuration publishes to.\n"
        )
    ledger = open_ledger(settings, shared=True)
    try:
        app = ServeApp(
            ledger,
            Tokens(settings.secret or ledger.secret()),
            SnsVerifier(frozenset(settings.sns_topics)),
            ingest_policy(settings),
        )
        add_unsubscribe_routes(app, settings)
        server = make_serve_server(app, host, port)
    except BaseException:
        ledger.close()
        raise
    out.write(f"Listening on http://{host}:{server.server_address[1]}/sns (Ctrl-C or SIGTERM stops)\n")
    out.flush()

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.server_close()
        ledger.close()
    counts = ", ".join(f"{n} {k}" for k, n in sorted(app.counts.items())) or "nothing"
    out.write(f"Stopped; handled {counts}\n")
    return 0


def _schedule(args: argparse.Namespace, out: TextIO) -> int:
    settings = _settings(args)
    ledger = open_ledger(settings)
    try:
        command = args.schedule_command
        if command is None:
            if not args.notice:
                raise UsageError(
                    "which follow-up? --notice NAME", hint="e.g. --notice what-we-changed --after 7d"
                )
            after = args.after  # seconds: parsed and range-checked by argparse (_after)
            at = _parse_at(args.at) if args.at else None
            schedule_id = schedule.create(
                settings,
                ledger,
                notice=args.notice,
                segment=args.segment,
                after_s=after,
                at=at,
                window=args.window,
                now=time.time(),
            )
            made = next(x for x in schedule.schedules(ledger) if x.id == schedule_id)
            window = f", between {args.window} local time" if args.window else ""
            out.write(
                f"Schedule {schedule_id}: {args.notice} to segment {args.segment}, "
                f"{made.describe_when()}{window}. "
                "Nothing is sent until `notify run-due` or `notify worker` runs.\n"
            )
            return 0
        rows = schedule.schedules(ledger)
        if command == "list":
            first = first_notice_at(settings, settings.notice)
            if args.json:
                json.dump(
                    [{**dataclasses.asdict(x), "due_at": schedule.due_time(x, first)} for x in rows],
                    out,
                    indent=2,
                )
                out.write("\n")
                return 0
            if not rows:
                out.write("No schedules. Add one: notify schedule --notice what-we-changed --after 7d\n")
            for x in rows:
                due = schedule.due_time(x, first)
                when = dt.datetime.fromtimestamp(due, dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if due else "—"
                window = f" window {x.window}" if x.window else ""
                out.write(
                    f"{x.id:>3}  {x.state:<13} {x.notice} to {x.segment}: "
                    f"{x.describe_when()} (due {when}){window}"
                    + (f"\n     {x.note}" if x.note else "")
                    + "\n"
                )
            return 0
        found = next((x for x in rows if x.id == args.id), None)
        if found is None:
            raise UsageError(f"no schedule {args.id}", hint="see `notify schedule list`")
        if command == "cancel":
            if found.state in ("done", "cancelled"):
                raise UsageError(f"schedule {args.id} is already {found.state}")
            schedule.set_state(ledger, args.id, "cancelled", "cancelled by hand")
            ledger.audit("schedule.cancel", {"id": args.id})
            out.write(f"Schedule {args.id} cancelled.\n")
            return 0
        if found.state in ("done", "cancelled"):
            raise UsageError(f"schedule {args.id} is {found.state}; nothing to confirm")
        schedule.set_state(ledger, args.id, "due", "confirmed by hand", confirmed_at=time.time())
        ledger.audit("schedule.confirm", {"id": args.id})
        out.write(f"Schedule {args.id} confirmed: the next `notify run-due` sends it.\n")
        return 0
    finally:
        ledger.close()


def _parse_at(text: str) -> float:
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"--at {text!r} is not a date and time", hint="e.g. 2026-12-08T10:00+01:00"
        ) from None
    if when.tzinfo is None:
        raise UsageError(f"--at {text!r} has no UTC offset", hint="add it, e.g. 2026-12-08T10:00+01:00")
    return when.timestamp()


def _audit(args: argparse.Namespace, out: TextIO) -> int:
    settings = _settings(args)
    if not ledger_exists(settings):
        raise UsageError(f"no ledger at {settings.ledger_path} yet: nothing has been recorded")
    ledger = open_ledger(settings)
    try:
        if args.audit_command == "verify":
            recorded = (args.head or "").strip().lower() or None
            if recorded is not None and (len(recorded) < 16 or recorded.strip("0123456789abcdef")):
                raise UsageError(
                    f"--head {args.head!r} is not a head hash",
                    hint="pass the hash `notify audit verify` printed (64 hex digits, or its first 16)",
                )
            entries, verdict = check_audit(ledger, recorded=recorded)
            for w in verdict.warnings:
                out.write(f"WARNING: {w}\n")
            for p in verdict.problems:
                out.write(f"TAMPERED: {p}\n")
            if not verdict.intact:
                out.write(
                    f"The audit log of {ledger.label} has been altered "
                    f"({len(verdict.problems)} problem(s)).\n"
                )
                return 1
            out.write(
                f"Audit log intact: {len(entries)} entries ({verdict.keyed} keyed), head {verdict.head}\n"
            )
            if verdict.anchor is not None:
                out.write(f"It still reaches the head you recorded (entry {verdict.anchor}).\n")
            out.write(
                "Keep this head hash outside the ledger (incident log, ticket): with --head it proves "
                "every entry up to now is unchanged, even against someone holding the key.\n"
            )
            return 0
        written = export_evidence(settings, ledger, args.output)
        out.write("Wrote " + ", ".join(str(p) for p in written) + "\n")
        return 0
    finally:
        ledger.close()


def _configure_logging() -> None:
    """Our own progress lines on stderr; other libraries stay at their defaults."""
    log = logging.getLogger("notifier")
    if not log.handlers:
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("notify: %(message)s"))
        log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def run(argv: Sequence[str] | None = None, *, stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    """Run one command; returns its exit code. Errors are printed, not raised."""
    out = out or sys.stdout
    stdin = stdin or sys.stdin
    args = _parser().parse_args(argv)
    _configure_logging()
    try:
        _known_notice(args)
        if args.command == "init":
            made = init_campaign(args.directory, size=args.size)
            out.write(f"Created campaign in {args.directory}:\n" + "".join(f"  {m}\n" for m in made))
            out.write(f"Next: cd {args.directory} && notify lists check && notify send --segment affected\n")
            return 0
        if args.command == "lists":
            return _lists_check(args, out)
        if args.command == "send":
            options = SendOptions(
                list_files=tuple(args.lists or ()),
                resend=args.resend,
                limit=args.limit,
                dry_run=args.dry_run,
                yes=args.yes,
                check_deliverability=args.check_deliverability,
                force=args.force,
            )
            campaign = Campaign.open(_settings(args), segment=args.segment, notice=args.notice)
            return run_send(campaign, options, TerminalUI(stdin, out)).code
        if args.command == "status":
            settings = _settings(args)
            ledger = open_ledger(settings)
            try:
                data = status_data(ledger)
            finally:
                ledger.close()
            if args.json:
                json.dump(data, out, indent=2, ensure_ascii=False)
                out.write("\n")
            else:
                write_status(data, out)
            return 0
        if args.command == "report":
            return _report(args, out)
        if args.command == "check":
            return _check_spf(args, out) if args.check_command == "spf" else _check(args, out)
        if args.command == "dkim":
            return _keygen(args, out)
        if args.command == "bounces":
            return (
                _bounces_ingest(args, out) if args.bounces_command == "ingest" else _bounces_parse(args, out)
            )
        if args.command == "suppress":
            return _suppress(args, out)
        if args.command == "preview":
            return _preview(args, out)
        if args.command == "serve":
            return _serve(args, out)
        if args.command == "schedule":
            return _schedule(args, out)
        if args.command == "run-due":
            return schedule.run_due(_settings(args), out, now=time.time)
        if args.command == "worker":
            return schedule.worker(_settings(args), out, interval=args.interval, now=time.time)
        if args.command == "audit":
            return _audit(args, out)
        if args.command == "lint":
            settings = _settings(args)
            name = args.notice or settings.notice
            notice = load_notice(settings.templates_dir, name, notice_context(settings, name))
            segment = resolve(
                args.segment, settings.segments, path=str(settings.path), lines=settings.segment_lines
            )
            linted = lint_campaign(settings, notice, segment)
            if args.json:
                json.dump(linted.as_dict(), out, indent=2)
                out.write("\n")
            else:
                write_lint(linted, out)
            return 1 if linted.errors else 0
        if args.command == "deadlines":
            settings = _settings(args)
            now = dt.datetime.now(dt.UTC)
            if args.action == "done":
                if not args.rule:
                    raise UsageError(
                        "which filing? name its rule",
                        hint='notify deadlines done MA-AG --at 2026-12-01T10:00+01:00 --ref "AG-1234"',
                    )
                tz = ZoneInfo(settings.timezone)
                at = parse_filed_at(args.at, tz) if args.at else now
                rule = mark_done(settings, args.rule.upper(), at, args.ref)
                out.write(
                    f"Marked {rule.id} ({rule.what}) filed at {at.astimezone(tz):%a %d %b %Y %H:%M %Z}"
                    f"{f', ref {args.ref}' if args.ref else ''}.\n"
                )
                return 0
            lines = settings.segment_lines
            counted: Segment | None = None
            if args.segment:
                counted = resolve(args.segment, settings.segments, path=str(settings.path), lines=lines)
            report = deadline_report(settings, args.notice or settings.notice, counted)
            write_deadlines(report, now, out, as_json=args.json)
            return 1 if any(o.status(now).upper().startswith("OVERDUE") for o in report.obligations) else 0
    except Aborted as exc:
        # The person said no at a prompt: a choice, not an error (exit 0).
        out.write("\nCancelled, nothing sent.\n")
        if exc.hint:
            sys.stderr.write(f"notify: what to do: {exc.hint}\n")
        return exc.exit_code
    except NotifierError as exc:
        sys.stderr.write(f"notify: error: {exc.message}\n")
        if exc.hint:
            sys.stderr.write(f"notify: what to do: {exc.hint}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("notify: interrupted\n")
        return 130
    except OSError as exc:
        if isinstance(exc, BrokenPipeError) and _reader_gone(out):
            raise  # `notify report | head`: main() ends quietly
        # Disk full, permissions, a vanished file: what was recorded so far stays recorded.
        where = f" ({exc.filename})" if exc.filename else ""
        sys.stderr.write(f"notify: error: {exc.strerror or exc}{where}\n")
        sys.stderr.write("notify: what to do: fix the cause and run the same command again; it resumes\n")
        return 1
    raise AssertionError(f"unhandled command {args.command}")


def _reader_gone(stream: TextIO) -> bool:
    """True when ``stream`` is a pipe whose reader has left (`notify report | head`), as opposed
    to a broken connection elsewhere, which is a real error."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):  # a StringIO, a closed stream
        return False
    if not hasattr(select, "poll"):
        return True
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(events & select.POLLERR for _, events in poller.poll(0))


def _internal_error(exc: BaseException) -> int:
    """A bug, not a user mistake: one short line, and the traceback in a private file.

    Tracebacks may quote list values, so they go to a 0600 file (mkstemp), never to the
    terminal or a log. NOTIFY_DEBUG=1 re-raises instead, for tests and bug hunting.
    """
    sys.stderr.write(f"notify: internal error ({type(exc).__name__}): this is a bug in notify.\n")
    try:
        fd, name = tempfile.mkstemp(prefix="notify-internal-error-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(f"notify {__version__}\n")
            traceback.print_exception(exc, file=fh)
    except OSError:
        sys.stderr.write("notify: what to do: run it again with NOTIFY_DEBUG=1 to see the details\n")
    else:
        sys.stderr.write(
            f"notify: the details are in {name} (private, 0600): please attach it to a bug report. "
            "What was recorded so far stays recorded.\n"
        )
    return 1


def main() -> None:
    try:
        code = run()
        sys.stdout.flush()  # a reader that left shows here, inside the guard, not at exit
    except BrokenPipeError:
        # `notify report | head`: the reader took what it wanted. Not an error; and point
        # stdout at /dev/null so the interpreter's own final flush does not complain.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        # Whatever was cut short (a half-read ledger cursor) is cleaned up as this frame goes;
        # nothing it could say then helps a reader who has left.
        sys.unraisablehook = lambda _unraisable: None
        code = 0
    except Exception as exc:
        if os.environ.get("NOTIFY_DEBUG"):
            raise
        code = _internal_error(exc)
    sys.exit(code)
