"""`notify send`: put the pipeline stages together for one run, with prompts and signals."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

from notifier.checks.dns.resolver import make_resolver
from notifier.checks.preflight import build_signer, gate_report
from notifier.checks.report import Report
from notifier.errors import Aborted, ChecksFailed, RelayRefused, UsageError
from notifier.ledger import SqliteLedger, ledger_exists, open_ledger
from notifier.ledger.audit import file_sha256, tree_hashes
from notifier.lists.segments import resolve
from notifier.lists.suppressions import SharedSuppressions
from notifier.models import State
from notifier.pipeline import deliver as pipeline
from notifier.pipeline.progress import make_progress
from notifier.pipeline.throttle import RateLimiter
from notifier.render.notice import load_notice, notice_meta
from notifier.settings import Settings, Throttle
from notifier.tokens import Tokens
from notifier.transports import OutboxTransport, SesTransport, Transport, from_url

__all__ = ["SendOptions", "first_notice_at", "notice_context", "run_send"]

log = logging.getLogger("notifier.send")


@dataclass(frozen=True, slots=True)
class SendOptions:
    segment: str
    notice: str | None = None
    list_files: tuple[Path, ...] = ()
    resend: bool = False
    limit: int | None = None
    dry_run: bool = False
    yes: bool = False
    check_deliverability: bool = False
    force: bool = False
    target_filter: Callable[[Mapping[str, Any]], bool] | None = None  # e.g. a send window
    interrupted: threading.Event | None = None  # set when SIGINT/SIGTERM stopped the run


def notice_context(settings: Settings, notice: str, *, today: dt.date | None = None) -> dict[str, Any]:
    """Campaign facts as templates see them, plus ``notice`` (name, date, reference)."""
    incident = settings.facts.get("incident", {})
    date = today or dt.date.today()
    kind, refers_to = notice_meta(settings.templates_dir / notice)
    context = {
        **settings.facts,
        "notice": {"name": notice, "date": date, "reference": incident.get("reference", ""), "kind": kind},
        "campaign": {"name": settings.campaign},
    }
    if kind == "legal":
        context["notice"]["date"] = incident.get("notice_date") or date
    else:
        # GEN-10: a follow-up names the original notice, its date and reference.
        first = first_notice_at(settings, refers_to)
        original = incident.get("notice_date") or (
            dt.datetime.fromtimestamp(first, dt.UTC).date() if first is not None else date
        )
        context["original"] = {
            "name": refers_to,
            "date": original,
            "reference": incident.get("reference", ""),
        }
    return context


def first_notice_at(settings: Settings, notice: str) -> float | None:
    """When the first message of ``notice`` was accepted, read from the ledger if there is one."""
    if not ledger_exists(settings):
        return None
    ledger = open_ledger(settings)
    try:
        row = ledger.query("SELECT min(sent_at) FROM messages WHERE notice=?", (notice,))
    finally:
        ledger.close()
    return None if not row or row[0][0] is None else float(row[0][0])


def _confirm(question: str, stdin: TextIO, out: TextIO) -> bool:
    out.write(question + " [y/N] ")
    out.flush()
    answer = stdin.readline().strip().lower()
    return answer in ("y", "yes")


def _dry_run_copy(settings: Settings, ledger: SqliteLedger, out: TextIO) -> tuple[Settings, Path]:
    """A private copy of the ledger and a fresh outbox in a 0700 temporary folder."""
    tmp = Path(tempfile.mkdtemp(prefix="notify-dry-run-"))
    copy_path = tmp / "ledger.sqlite"
    ledger.copy_to(copy_path)
    out.write(
        f"Dry run: nothing is sent and the campaign ledger is not changed; messages go to {tmp / 'outbox'}\n"
    )
    return replace(settings, ledger_path=copy_path, transport_url=f"outbox:{tmp / 'outbox'}"), tmp


def run_send(settings: Settings, options: SendOptions, *, stdin: TextIO, out: TextIO) -> int:
    """Run one send. Returns the exit code: 0 all done, 1 something needs attention."""
    notice_name = options.notice or settings.notice
    segment = resolve(
        options.segment, settings.segments, path=str(settings.path), lines=settings.segment_lines
    )
    notice = load_notice(settings.templates_dir, notice_name, notice_context(settings, notice_name))
    files = options.list_files or settings.list_files
    if not files:
        raise UsageError("no list to send to", hint="set [lists] files in notify.toml or pass --list PATH")
    # Checked before the ledger is touched, so a bad URL changes nothing.
    transport_probe = from_url(
        settings.transport_url,
        root=settings.root,
        connections=settings.throttle.connections,
        helo=settings.sender.helo,
        tags={"campaign": settings.campaign, "notice": notice_name},
    )

    ledger = open_ledger(settings)
    tmp: Path | None = None
    try:
        ledger.lock()
        if settings.shared_suppressions is not None:
            # Addresses another campaign found dead or that complained: skip them here too.
            by_reason: dict[str, list[str]] = {}
            for address, why in SharedSuppressions(settings.shared_suppressions).entries().items():
                by_reason.setdefault(why, []).append(address)
            for why, keys in by_reason.items():
                ledger.suppress(keys, reason=why, source="shared")
        recovered = ledger.recover_in_flight()
        if recovered:
            out.write(
                f"A previous run stopped without recording {recovered} message(s) it had handed over; "
                "they will be sent again and are marked 'possibly duplicated' (see `notify status`).\n"
            )
        resolver = (
            make_resolver(settings.nameservers, timeout=settings.dns_timeout)
            if options.check_deliverability
            else None
        )
        imports = pipeline.import_lists(
            ledger, files, check_deliverability=options.check_deliverability, dns_resolver=resolver
        )
        if options.dry_run:
            dry_settings, tmp = _dry_run_copy(settings, ledger, out)
            ledger.close()
            ledger = SqliteLedger(dry_settings.ledger_path)
            settings = dry_settings
            transport_probe = OutboxTransport(Path(settings.transport_url.partition(":")[2]))
        for imp in imports:
            if imp.invalid or imp.duplicates:
                out.write(
                    f"{imp.path}: {imp.valid} usable, {imp.invalid} rejected, {imp.duplicates} duplicate(s) "
                    "merged — see `notify lists check`\n"
                )
        summary = pipeline.plan(
            ledger,
            notice_name,
            imports,
            segment,
            resend=options.resend,
            first_notice=notice.refers_to or settings.notice,
            follow_up=notice.kind == "follow-up",
        )
        due = summary.count(State.PENDING, State.DEFERRED)
        if options.target_filter is not None:
            # A send window: only the people whose local time is inside it, this time.
            due = ledger.keep_targets(options.target_filter)
            out.write(f"Send window: {due} of them are inside it now; the others wait for a later run.\n")
        if options.limit is not None:
            due = min(due, options.limit)
        pipeline.check_renders(notice, ledger.targets_to_send(0.0))
        out.write(
            f"Notice:     {notice_name}\n"
            f"Segment:    {segment.name} ({summary.targets} recipients: "
            f"{summary.count(State.SENT)} already sent, {summary.count(State.INVALID)} invalid, "
            f"{summary.count(State.SUPPRESSED)} suppressed, {summary.count(State.FAILED)} failed before)\n"
            f"To send:    {due}{' (--limit)' if options.limit is not None else ''}\n"
            f"From:       {settings.sender.from_header}\n"
            f"Transport:  {transport_probe.description}\n"
        )
        if options.resend:
            out.write("--resend: people who were already sent this notice get it AGAIN.\n")
        if due == 0:
            out.write("Nothing to send: everyone in this segment has been handled.\n")
            return 0 if not summary.count(State.FAILED, State.INVALID) else 1
        signer = build_signer(settings)
        key = settings.secret or ledger.secret()
        factory = pipeline.MessageFactory(
            notice, settings.sender, Tokens(key), signer=signer, unsubscribe_base=settings.public_url
        )
        gate = _gate(settings, options, ledger, factory, transport_probe, stdin, out)
        if not options.yes and not options.dry_run:
            if not stdin.isatty():
                raise UsageError(
                    "refusing to send without confirmation",
                    hint="run it in a terminal to answer the prompt, or pass --yes",
                )
            if not _confirm(f"Send {due} message(s) now?", stdin, out):
                raise Aborted("nothing was sent", hint="run the same command again when ready")
        return _run(settings, options, ledger, factory, transport_probe, segment.name, due, out, gate)
    finally:
        ledger.close()
        if tmp is not None:
            out.write(f"Dry-run files: {tmp}\n")


def _gate(
    settings: Settings,
    options: SendOptions,
    ledger: SqliteLedger,
    factory: pipeline.MessageFactory,
    transport: Transport,
    stdin: TextIO,
    out: TextIO,
) -> tuple[str, Report] | None:
    """Sender authentication and message checks before anything is sent.

    Nothing leaves the machine with an outbox or a dry run, so those skip the DNS checks.
    Raises ChecksFailed on a FAIL unless --force; with --force on a terminal, asks again.
    Returns (kind, report) for the ledger's record, or None when skipped.
    """
    if options.dry_run or isinstance(transport, OutboxTransport):
        return None
    first = next(ledger.targets_to_send(0.0), None)
    sample = (
        pipeline.MessageFactory(
            factory.notice, factory.sender, factory.tokens, unsubscribe_base=factory.unsubscribe_base
        )
        .prepare(first)
        .data
        if first
        else None
    )
    report = gate_report(settings, transport, factory.signer, sample)
    failed = report.failed
    if not failed:
        warns = len(report.warnings)
        out.write(
            f"Checks:     sender authentication and messages pass "
            f"({warns} warning(s); `notify check` shows all)\n"
        )
        return "gate", report
    lines = "".join(
        f"  FAIL {f.id}: {f.found}\n" + (f"       fix: {f.fix}\n" if f.fix else "") for f in failed
    )
    if not options.force:
        raise ChecksFailed(
            f"nothing was sent: {len(failed)} pre-send check(s) failed — {', '.join(f.id for f in failed)}\n"
            + lines.rstrip(),
            hint="fix them and run the same command again (`notify check` shows everything); "
            "--force sends anyway and records the override in the ledger",
        )
    out.write(f"WARNING: sending despite {len(failed)} failed check(s) (--force):\n{lines}")
    if stdin.isatty():
        out.write("Receivers may reject or junk these notices. Type FORCE to send anyway: ")
        out.flush()
        if stdin.readline().strip() != "FORCE":
            raise Aborted("nothing was sent", hint="fix the failed checks, or answer FORCE")
    return "override", report


def _account_limits(
    transport: Transport, throttle: Throttle, limit: int | None, out: TextIO
) -> tuple[Throttle, int | None]:
    """For SES: never faster than the account's maximum send rate, and never past its 24-hour
    quota (stopping cleanly instead). Other transports: unchanged."""
    account = getattr(transport, "account", None)
    if not isinstance(transport, SesTransport) or account is None:
        return throttle, limit
    rate = min(throttle.rate, account.max_send_rate)
    left = account.remaining_24h
    sandbox = " — SANDBOX: only verified addresses receive" if account.production is False else ""
    out.write(
        f"SES account: {account.max_send_rate:g} msg/s maximum, {left} of {account.max_24h:g} left in the "
        f"last 24 h{sandbox}; sending at {rate:g} msg/s\n"
    )
    if rate < throttle.rate:
        out.write(f"(the configured rate {throttle.rate:g}/s is above the account's maximum)\n")
    return replace(throttle, rate=rate), left if limit is None else min(limit, left)


def _quota_resume_time(ledger: SqliteLedger) -> str:
    """When the oldest send of the last 24 hours leaves the window (an estimate: SES counts
    sends from other campaigns of the account too)."""
    now = time.time()
    oldest = ledger.query("SELECT min(sent_at) FROM messages WHERE sent_at > ?", (now - 86400,))[0][0]
    at = (oldest or now) + 86400
    return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _run(
    settings: Settings,
    options: SendOptions,
    ledger: SqliteLedger,
    factory: pipeline.MessageFactory,
    transport: Transport,
    segment: str,
    due: int,
    out: TextIO,
    gate: tuple[str, Report] | None,
) -> int:
    notice = factory.notice
    throttle = settings.throttle
    if options.dry_run:
        throttle = replace(throttle, linger=0.0)
    if options.dry_run or not transport.throttled:
        throttle = replace(throttle, rate=1e9, per_domain=None, domains={})
    run_id = ledger.start_run(
        notice.name,
        segment,
        transport.description,
        {
            "resend": options.resend,
            "limit": options.limit,
            "dry_run": options.dry_run,
            "force": options.force,
        },
    )
    lists = ledger.query(
        "SELECT path, sha256 FROM lists WHERE complete=1 AND id IN (SELECT max(id) FROM lists GROUP BY path)"
    )
    ledger.audit(
        "send.start",
        {
            "run": run_id,
            "notice": notice.name,
            "segment": segment,
            "targets": due,
            "transport": transport.description.split("://")[0].split(":")[0],
            "templates": tree_hashes(settings.templates_dir / notice.name),
            "lists": {path: digest for path, digest in lists},
            "config_sha256": file_sha256(settings.path),
            "dry_run": options.dry_run,
            "resend": options.resend,
        },
    )
    if gate is not None:
        kind, checked = gate
        ledger.record_check(
            kind=kind,
            notice=notice.name,
            run_id=run_id,
            failed=[f.id for f in checked.failed],
            report=checked.as_dict(),
        )

    quota_limit: list[int | None] = [None]

    async def main() -> pipeline.RunReport:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        presses = 0

        def on_signal() -> None:
            nonlocal presses
            presses += 1
            if presses > 1:
                out.write("\nStopping now; messages in flight will be marked 'possibly duplicated'.\n")
                os._exit(130)
            out.write("\nStopping after the messages in flight (Ctrl-C again to stop at once)...\n")
            stop.set()
            if options.interrupted is not None:
                options.interrupted.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, on_signal)
        await transport.open()
        run_throttle, limit = _account_limits(transport, throttle, options.limit, out)
        quota_limit[0] = limit if limit != options.limit else None
        try:
            return await pipeline.deliver(
                ledger=ledger,
                factory=factory,
                transport=transport,
                throttle=run_throttle,
                run_id=run_id,
                stop=stop,
                progress=make_progress(due if limit is None else min(due, limit)),
                limit=limit,
                limiter=RateLimiter(run_throttle),
            )
        finally:
            await transport.close()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    try:
        report = asyncio.run(main())
    except RelayRefused as exc:
        # A clean stop (everything recorded, nobody failed for it), not a crash.
        ledger.end_run(run_id, "stopped", {**exc.summary, "stopped_by": "relay refused everyone"})
        raise
    except BaseException:
        ledger.end_run(run_id, "failed", {})
        raise
    status = "stopped" if report.stopped else "finished"
    ledger.end_run(run_id, status, report.as_dict())
    rate = report.attempts / report.elapsed if report.elapsed else 0.0
    waiting = ledger.query(
        "SELECT count(*) FROM messages WHERE state='deferred' AND id IN (SELECT id FROM run_targets)"
    )[0][0]
    out.write(
        f"Run {run_id} {status}: {report.sent} sent, {report.failed} failed, {waiting} waiting for a retry "
        f"in {report.elapsed:.1f} s ({rate:.0f} attempts/s).\n"
    )
    if report.deferred:
        out.write(f"{report.deferred} temporary failure(s) along the way were retried.\n")
    if report.reply_codes:
        codes = ", ".join(f"{c}: {n}" for c, n in sorted(report.reply_codes.items()))
        out.write(f"Replies other than success: {codes} — `notify status` shows the texts.\n")
    quota = quota_limit[0]
    if quota is not None and report.attempts >= quota:
        resume = _quota_resume_time(ledger)
        out.write(
            f"Stopped before the SES 24-hour quota runs out ({quota} sends were left). Sending can resume "
            f"from about {resume}; run the same command again then — nobody is sent twice.\n"
        )
        return 1
    if report.stopped:
        out.write("Stopped cleanly. Run the same command again to resume; nobody is sent twice.\n")
    elif waiting and report.next_retry_at is not None:
        when = dt.datetime.fromtimestamp(report.next_retry_at, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        out.write(f"Some messages wait for a retry (next at {when}); run the same command again then.\n")
    return 0 if report.failed == 0 and waiting == 0 and not report.stopped else 1
