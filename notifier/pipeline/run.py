"""One send, written out in order: import -> recover -> plan -> window -> check renders -> gate
-> confirm -> start -> deliver -> end. Everything said or asked goes through a RunUI (the
terminal's in notifier.cli.progress; a silent one for run-due, worker and tests); the caller
gets a RunResult back, never text to parse."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from notifier.bounces.reasons import OUR_PROBLEM
from notifier.channels.gate import ChannelGate, channel_plan
from notifier.channels.policy import policy_for
from notifier.checks.dns.resolver import make_resolver
from notifier.checks.preflight import gate_report
from notifier.checks.report import Report
from notifier.compliance.approvals import refuse_unapproved
from notifier.errors import Aborted, ChecksFailed, RelayRefused, UsageError
from notifier.ledger import Ledger, PlanSummary, SqliteLedger, open_ledger
from notifier.ledger.audit import file_sha256, tree_hashes
from notifier.lists.recipients import stored_key
from notifier.lists.suppressions import SharedSuppressions
from notifier.models import State
from notifier.offers.context import IssuedCodes, OfferContext
from notifier.offers.pool import issue_codes, pool_needs, refuse_shortfall
from notifier.pipeline.build import MessageFactory
from notifier.pipeline.campaign import Campaign
from notifier.pipeline.deliver import deliver
from notifier.pipeline.record import RunReport
from notifier.pipeline.stages import check_targets, import_lists, plan
from notifier.pipeline.throttle import RateLimiter
from notifier.pipeline.ui import RunUI, stop_on_signals
from notifier.render.signing import Signer
from notifier.settings import Throttle
from notifier.transports import OutboxTransport, SesTransport, Transport

__all__ = ["RunResult", "SendOptions", "run"]

log = logging.getLogger("notifier.send")


@dataclass(frozen=True, slots=True)
class SendOptions:
    list_files: tuple[Path, ...] = ()
    resend: bool = False  # everyone in the segment again, accepted or not (on purpose)
    retry_failed: bool = False  # only those no server accepted, never dead addresses
    limit: int | None = None
    dry_run: bool = False
    yes: bool = False
    check_deliverability: bool = False
    force: bool = False
    target_filter: Callable[[Mapping[str, Any]], bool] | None = None  # e.g. a send window


@dataclass(frozen=True, slots=True)
class RunResult:
    """What one run did. ``remaining``: people of the segment still waiting for this notice
    (outside a send window, deferred, or past --limit) — 0 when the segment is done."""

    code: int  # 0 all done, 1 something needs attention
    run_id: int | None
    due: int
    sent: int = 0
    failed: int = 0
    waiting: int = 0
    remaining: int = 0
    stopped: bool = False


def run(campaign: Campaign, options: SendOptions, ui: RunUI) -> RunResult:
    """Run one send of ``campaign`` in order. Raises NotifierError for what stops it before
    anything is sent (Aborted when the answer was no)."""
    settings, notice, segment = campaign.settings, campaign.notice, campaign.segment
    files = options.list_files or settings.list_files
    if options.resend and options.retry_failed:
        raise UsageError(
            "--resend and --retry-failed do not go together",
            hint="--retry-failed sends again to those no server accepted; --resend to everyone",
        )
    if not files:
        raise UsageError("no list to send to", hint="set [lists] files in notify.toml or pass --list PATH")
    ledger: Ledger = open_ledger(settings)
    tmp: Path | None = None
    try:
        # 0. sign-off: with [campaign] require_approval, an unapproved version goes only to an outbox
        if not options.dry_run:
            refuse_unapproved(ledger, settings, notice.name, settings.transport_url)
        # 1. lock, shared suppressions, recover what a killed run left in flight
        ledger.lock()
        _shared_suppressions(campaign, ledger)
        recovered = ledger.recover_in_flight()
        if recovered:
            ui.say(
                f"A previous run stopped without recording {recovered} message(s) it had handed over; "
                "they will be sent again and are marked 'possibly duplicated' (see `notify status`).\n"
            )
        # 2. import the lists (a dry run then continues on a private copy)
        resolver = (
            make_resolver(settings.nameservers, timeout=settings.dns_timeout)
            if options.check_deliverability
            else None
        )
        imports = import_lists(
            ledger, files, check_deliverability=options.check_deliverability, dns_resolver=resolver
        )
        if options.dry_run:
            tmp = Path(tempfile.mkdtemp(prefix="notify-dry-run-"))
            ledger.copy_to(tmp / "ledger.sqlite")
            ui.say(
                "Dry run: nothing is sent and the campaign ledger is not changed; "
                f"messages go to {tmp / 'outbox'}\n"
            )
            ledger.close()
            campaign = campaign.dry_run(tmp / "ledger.sqlite", tmp / "outbox")
            settings = campaign.settings
            ledger = SqliteLedger(tmp / "ledger.sqlite")
        for imp in imports:
            if imp.invalid or imp.duplicates:
                ui.say(
                    f"{imp.path}: {imp.valid} usable, {imp.invalid} rejected, {imp.duplicates} duplicate(s) "
                    "merged — see `notify lists check`\n"
                )
        # 3. plan who gets this notice (by email only those whose lawful channel is email);
        # 4. narrow to a send window and --limit
        channels = ChannelGate(policy_for(settings), key=stored_key, force=options.force)
        summary = plan(
            ledger,
            notice.name,
            imports,
            segment,
            resend=options.resend,
            retry_failed=options.retry_failed,
            first_notice=notice.refers_to or settings.notice,
            follow_up=notice.kind == "follow-up",
            channels=channels,
        )
        ui.say(channel_plan(channels))
        planned = summary.count(State.PENDING, State.DEFERRED)
        due = planned
        if options.target_filter is not None:
            due = ledger.keep_targets(options.target_filter)
            ui.say(f"Send window: {due} of them are inside it now; the others wait for a later run.\n")
        if options.limit is not None:
            due = min(due, options.limit)
        # 5. every notice renders before anything goes out
        sample_offers = OfferContext(settings)
        check_targets(notice, ledger, extra=sample_offers if sample_offers else None)
        # 5b. credit-monitoring codes: a pool too small for this run stops it here (issue 17)
        needs = pool_needs(ledger, settings, ledger.targets_to_send(0.0))
        refuse_shortfall(needs)
        ui.say(
            f"Notice:     {notice.name}\n"
            f"Segment:    {segment.name} ({summary.targets} recipients: "
            f"{summary.count(State.SENT)} already sent, {summary.count(State.INVALID)} invalid, "
            f"{summary.count(State.SUPPRESSED)} suppressed, {summary.count(State.FAILED)} failed before)\n"
            f"To send:    {due}{' (--limit)' if options.limit is not None else ''}\n"
            f"From:       {settings.sender.from_header}\n"
            f"Transport:  {campaign.transport.description}\n"
        )
        for n in needs:
            ui.say(f"Offer:      {n.offer} ({n.pool} pool): {n.need} code(s) to issue, {n.free} free\n")
        if options.resend:
            ui.say("--resend: people who were already sent this notice get it AGAIN.\n")
        else:
            ui.say(_retry_plan(summary))
        if due == 0:
            ui.say("Nothing to send: everyone in this segment has been handled.\n")
            code = 0 if not summary.count(State.FAILED, State.INVALID) else 1
            return RunResult(code, None, 0, remaining=planned)
        # 6. gate: sender authentication and message checks
        key = settings.secret or ledger.secret()
        codes = IssuedCodes()  # filled with the run's offer codes before the first message
        factory = campaign.factory(key, signer=campaign.signer(), codes=codes)
        gate = _gate(campaign, options, ledger, key, factory.signer, ui)
        # 7. confirm
        if not options.yes and not options.dry_run:
            answer = ui.confirm(f"Send {due} message(s) now?")
            if answer is None:
                raise UsageError(
                    "refusing to send without confirmation",
                    hint="run it in a terminal to answer the prompt, or pass --yes",
                )
            if not answer:
                raise Aborted("nothing was sent", hint="run the same command again when ready")
        # 8. issue everyone of the run their code (before the first message), start, deliver, end
        codes.update(issue_codes(ledger, settings, lambda: ledger.targets_to_send(0.0)))
        if channels.forced:
            ledger.audit("send.force_channel", {"notice": notice.name, **channels.summary()})
        result = _deliver(campaign, options, ledger, factory, due, ui, gate)
        return replace(result, remaining=max(0, planned - result.sent - result.failed))
    finally:
        ledger.close()
        if tmp is not None:
            ui.say(f"Dry-run files: {tmp}\n")


_HOW = {
    "gave_up": "gave up after retrying",
    "refused": "refused",
    "bounced": "soft-bounced after acceptance",
}


def _retry_plan(summary: PlanSummary) -> str:
    """What --retry-failed does (or would do) with the targets no server accepted: how many and
    why, per reason ("ours": our set-up or reputation, to fix before retrying)."""
    again: dict[str, dict[str, int]] = {}
    kept: dict[str, int] = {}
    for (how, reason), (n, k) in summary.failed_before.items():
        if n:
            again.setdefault(how, {})[reason] = n
        if k:
            kept[reason] = kept.get(reason, 0) + k
    total = summary.retryable

    def reasons(counts: dict[str, int]) -> str:
        ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        return ", ".join(f"{r} {n}{' (ours)' if r in OUR_PROBLEM else ''}" for r, n in ordered)

    why = "; ".join(
        f"{_HOW[how]} {sum(again[how].values())}: {reasons(again[how])}" for how in _HOW if how in again
    )
    if not summary.retried:
        if not total:
            return ""
        return (
            f"Retryable:  {total} of them no server accepted — {why}.\n"
            "            Fix the cause, then `notify send --retry-failed` sends to them again "
            "(never to dead addresses or anyone accepted).\n"
        )
    text = (
        f"Retrying:   {total} that no server accepted — {why}.\n"
        if total
        else "Retrying:   nobody — no one in this segment failed for a reason a retry can fix.\n"
    )
    if kept:
        text += f"Not again:  {sum(kept.values())} dead address(es) or suppressed — {reasons(kept)}.\n"
    return text


def _shared_suppressions(campaign: Campaign, ledger: Ledger) -> None:
    """Addresses another campaign found dead or that complained: skip them here too."""
    path = campaign.settings.shared_suppressions
    if path is None:
        return
    by_reason: dict[str, list[str]] = {}
    for address, why in SharedSuppressions(path).entries().items():
        by_reason.setdefault(why, []).append(address)
    for why, keys in by_reason.items():
        ledger.suppress(keys, reason=why, source="shared")


def _gate(
    campaign: Campaign,
    options: SendOptions,
    ledger: Ledger,
    key: bytes,
    signer: Signer | None,
    ui: RunUI,
) -> tuple[str, Report] | None:
    """Sender authentication and message checks before anything is sent.

    Nothing leaves the machine with an outbox or a dry run, so those skip the DNS checks.
    Raises ChecksFailed on a FAIL unless --force; with --force on a terminal, asks again.
    Returns (kind, report) for the ledger's record, or None when skipped.
    """
    transport = campaign.transport
    if options.dry_run or isinstance(transport, OutboxTransport):
        return None
    first = next(ledger.targets_to_send(0.0), None)
    sample = campaign.factory(key).prepare(first).data if first else None
    report = gate_report(campaign.settings, transport, signer, sample)
    failed = report.failed
    if not failed:
        warns = len(report.warnings)
        ui.say(
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
    ui.say(f"WARNING: sending despite {len(failed)} failed check(s) (--force):\n{lines}")
    if not ui.confirm_force("Receivers may reject or junk these notices. Type FORCE to send anyway: "):
        raise Aborted("nothing was sent", hint="fix the failed checks, or answer FORCE")
    return "override", report


def _account_limits(
    transport: Transport, throttle: Throttle, limit: int | None, ui: RunUI
) -> tuple[Throttle, int | None]:
    """For SES: never faster than the account's maximum send rate, and never past its 24-hour
    quota (stopping cleanly instead). Other transports: unchanged."""
    account = getattr(transport, "account", None)
    if not isinstance(transport, SesTransport) or account is None:
        return throttle, limit
    rate = min(throttle.rate, account.max_send_rate)
    left = account.remaining_24h
    sandbox = " — SANDBOX: only verified addresses receive" if account.production is False else ""
    ui.say(
        f"SES account: {account.max_send_rate:g} msg/s maximum, {left} of {account.max_24h:g} left in the "
        f"last 24 h{sandbox}; sending at {rate:g} msg/s\n"
    )
    if rate < throttle.rate:
        ui.say(f"(the configured rate {throttle.rate:g}/s is above the account's maximum)\n")
    return replace(throttle, rate=rate), left if limit is None else min(limit, left)


def _quota_resume_time(ledger: Ledger) -> str:
    """When the oldest send of the last 24 hours leaves the window (an estimate: SES counts
    sends from other campaigns of the account too)."""
    now = time.time()
    oldest = ledger.oldest_sent_since(now - 86400)
    at = (oldest or now) + 86400
    return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _deliver(
    campaign: Campaign,
    options: SendOptions,
    ledger: Ledger,
    factory: MessageFactory,
    due: int,
    ui: RunUI,
    gate: tuple[str, Report] | None,
) -> RunResult:
    settings, notice, transport, segment = (
        campaign.settings,
        campaign.notice,
        campaign.transport,
        campaign.segment.name,
    )
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
            "retry_failed": options.retry_failed,
            "limit": options.limit,
            "dry_run": options.dry_run,
            "force": options.force,
        },
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
            "lists": ledger.complete_lists(),
            "config_sha256": file_sha256(settings.path),
            "dry_run": options.dry_run,
            "resend": options.resend,
            "retry_failed": options.retry_failed,
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

    async def main() -> RunReport:
        stop = asyncio.Event()
        remove_handlers = stop_on_signals(asyncio.get_running_loop(), stop, ui)
        await transport.open()
        run_throttle, limit = _account_limits(transport, throttle, options.limit, ui)
        quota_limit[0] = limit if limit != options.limit else None
        try:
            return await deliver(
                ledger=ledger,
                factory=factory,
                transport=transport,
                throttle=run_throttle,
                run_id=run_id,
                stop=stop,
                progress=ui.progress(due if limit is None else min(due, limit)),
                limit=limit,
                limiter=RateLimiter(run_throttle),
            )
        finally:
            await transport.close()
            remove_handlers()

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
    ledger.sync_notice_log()  # NY: every electronic notice logged (also what a killed run left)
    rate = report.attempts / report.elapsed if report.elapsed else 0.0
    waiting = ledger.waiting_in_run()
    ui.say(
        f"Run {run_id} {status}: {report.sent} sent, {report.failed} failed, {waiting} waiting for a retry "
        f"in {report.elapsed:.1f} s ({rate:.0f} attempts/s).\n"
    )
    if report.deferred:
        ui.say(f"{report.deferred} temporary failure(s) along the way were retried.\n")
    if report.reply_codes:
        codes = ", ".join(f"{c}: {n}" for c, n in sorted(report.reply_codes.items()))
        ui.say(f"Replies other than success: {codes} — `notify status` shows the texts.\n")
    quota = quota_limit[0]
    if quota is not None and report.attempts >= quota:
        resume = _quota_resume_time(ledger)
        ui.say(
            f"Stopped before the SES 24-hour quota runs out ({quota} sends were left). Sending can resume "
            f"from about {resume}; run the same command again then — nobody is sent twice.\n"
        )
        return _result(1, run_id, due, report, waiting)
    if report.stopped:
        ui.say("Stopped cleanly. Run the same command again to resume; nobody is sent twice.\n")
    elif waiting and report.next_retry_at is not None:
        when = dt.datetime.fromtimestamp(report.next_retry_at, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        ui.say(f"Some messages wait for a retry (next at {when}); run the same command again then.\n")
    code = 0 if report.failed == 0 and waiting == 0 and not report.stopped else 1
    return _result(code, run_id, due, report, waiting)


def _result(code: int, run_id: int, due: int, report: RunReport, waiting: int) -> RunResult:
    return RunResult(
        code, run_id, due, sent=report.sent, failed=report.failed, waiting=waiting, stopped=report.stopped
    )
