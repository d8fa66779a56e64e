"""The send pipeline, in order, in one place.

    lists ─► ledger.import_list ─► ledger.plan (segment) ─► check every render ─► confirm
          ─► loop: ledger.claim ─► render ─► mime ─► throttle ─► transport ─► ledger.record

:func:`prepare_run` does everything up to the prompt and sends nothing;
:func:`deliver` runs the loop. Each stage takes its inputs as arguments; none reads
global state.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from notifier.bounces.reasons import REASONS
from notifier.bounces.replies import Classification, advice, classify_reply, quote_reply
from notifier.errors import RelayRefused, RenderError, UsageError
from notifier.ledger import Claimed, ImportSummary, Ledger, PlanSummary, Result
from notifier.lists.recipients import read_list
from notifier.lists.segments import Segment
from notifier.models import Envelope, Outcome, State, Verdict
from notifier.pipeline.throttle import RateLimiter, backoff
from notifier.render.mime import MessageTemplate
from notifier.render.notice import Notice
from notifier.render.signing import Signer
from notifier.settings import Sender, Throttle
from notifier.tokens import Tokens
from notifier.transports import Transport

__all__ = [
    "MessageFactory",
    "Prepared",
    "Progress",
    "RelayWatch",
    "RunReport",
    "STOP_AFTER",
    "batch_size",
    "check_renders",
    "deliver",
    "import_lists",
    "in_flight_bound",
    "next_state",
    "plan",
]


class Progress(Protocol):
    def update(self, sent: int, deferred: int, failed: int) -> None: ...
    def close(self) -> None: ...


class NoProgress:
    def update(self, sent: int, deferred: int, failed: int) -> None:
        return None

    def close(self) -> None:
        return None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def import_lists(
    ledger: Ledger,
    files: Sequence[Path],
    *,
    check_deliverability: bool = False,
    dns_resolver: Any = None,
) -> list[ImportSummary]:
    """Import each list (skipped when that exact file was imported before)."""
    out = []
    for path in files:
        digest = file_sha256(path) if path.is_file() else ""
        if check_deliverability:
            digest += "+mx"  # a list checked against DNS is a different import
        rows = read_list(path, check_deliverability=check_deliverability, dns_resolver=dns_resolver)
        out.append(ledger.import_list(str(path), digest, rows))
    return out


def plan(
    ledger: Ledger,
    notice: str,
    imports: Sequence[ImportSummary],
    segment: Segment,
    *,
    resend: bool,
    first_notice: str = "",
    follow_up: bool = False,
) -> PlanSummary:
    return ledger.plan(
        notice,
        [i.list_id for i in imports],
        lambda view, where: segment.matches(view, where=where),
        resend=resend,
        first_notice=first_notice,
        follow_up=follow_up,
    )


def check_renders(notice: Notice, targets: Iterable[Claimed], *, examples: int = 5) -> int:
    """Render every target once. Raises RenderError (grouped) if any fails; else the count."""
    failures: dict[tuple[str, str], list[str]] = {}
    counts: dict[tuple[str, str], int] = {}
    n = 0
    for claimed in targets:
        n += 1
        failure = notice.check(claimed.recipient.template_view())
        if failure is None:
            continue
        key = (failure.where, failure.what)
        counts[key] = counts.get(key, 0) + 1
        rows = failures.setdefault(key, [])
        if len(rows) < examples:
            rows.append(f"{claimed.recipient.source}:{claimed.recipient.line}")
    if failures:
        lines = [
            f"{where}: {what} — {counts[(where, what)]} recipient(s), e.g. list rows {', '.join(rows)}"
            for (where, what), rows in failures.items()
        ]
        total = sum(counts.values())
        raise RenderError(
            f"notice {notice.name!r} does not render for {total} of {n} recipients; nothing was sent",
            lines,
            hint="fill in the missing values in the list, or guard optional ones in the template "
            "with `{% if recipient.COLUMN is defined %}`; then run the same command again",
        )
    return n


@dataclass(frozen=True, slots=True)
class Prepared:
    claimed: Claimed
    envelope: Envelope
    data: bytes
    message_id: str


class MessageFactory:
    """Claimed row -> finished message bytes (render + MIME), nothing else."""

    def __init__(
        self,
        notice: Notice,
        sender: Sender,
        tokens: Tokens,
        *,
        signer: Signer | None = None,
        unsubscribe_base: str = "",
    ) -> None:
        self.notice = notice
        self.sender = sender
        self.tokens = tokens
        self.signer = signer
        # Follow-ups carry RFC 8058 one-click unsubscribe; legally required notices never do.
        if notice.kind == "follow-up" and not unsubscribe_base:
            raise UsageError(
                f"{notice.name!r} is a follow-up, and follow-ups need a working unsubscribe link",
                hint="set [serve] public_url to the https address where `notify serve` is reachable",
            )
        self.unsubscribe_base = unsubscribe_base.rstrip("/") if notice.kind == "follow-up" else ""
        self.template = MessageTemplate(
            from_header=sender.from_header,
            from_display=sender.display_name,
            from_address=sender.address,
            reply_to=sender.reply_to,
        )

    def prepare(self, claimed: Claimed, *, now: float | None = None) -> Prepared:
        """Render, build and (with [dkim]) sign one message.

        Signing stays on the event loop: OpenSSL releases the GIL, but handing each
        signature to a thread cost more than it saved here (1,128 vs 1,193 msg/s signed)."""
        r = claimed.recipient
        view = r.template_view()
        headers: tuple[tuple[str, str], ...] = ()
        if self.unsubscribe_base:
            token = self.tokens.unsubscribe_token(claimed.row)
            view["unsubscribe_url"] = f"{self.unsubscribe_base}/u/{token}"
            headers = (
                (
                    "List-Unsubscribe",
                    f"<{view['unsubscribe_url']}>, <mailto:unsubscribe+{token}@{self.sender.bounce_domain}>",
                ),
                ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            )
        rendered = self.notice.render(view)
        message_id = self.tokens.message_id(self.notice.name, r.key, self.sender.domain)
        display = " ".join(str(r.fields.get(k, "")) for k in ("first_name", "last_name")).strip()
        data = self.template.build(
            rendered,
            to_address=r.email,
            to_display=display,
            message_id=message_id,
            utf8=r.smtputf8,
            now=now,
            headers=headers,
        )
        if self.signer is not None:
            data = self.signer.sign(data, now=now)
        envelope = Envelope(
            mail_from=self.tokens.return_path(claimed.row, self.sender.bounce_domain),
            rcpt_to=r.email,
            smtputf8=r.smtputf8,
        )
        return Prepared(claimed, envelope, data, message_id)


def next_state(
    outcome: Outcome,
    claimed: Claimed,
    throttle: Throttle,
    *,
    now: float,
    rng: Callable[[], float] | None = None,
) -> tuple[State, float | None, str]:
    """What an attempt's outcome means: (state, next attempt time, text to record).

    5xx is final (never retried); 4xx and connection trouble retry with exponential
    backoff until ``retry_window`` after the first attempt, then fail as expired.
    """
    if outcome.verdict is Verdict.ACCEPTED:
        return State.SENT, None, outcome.text
    if outcome.verdict is Verdict.PERMANENT:
        return State.FAILED, None, outcome.text
    first = claimed.first_attempt_at if claimed.first_attempt_at is not None else now
    if now - first >= throttle.retry_window:
        hours = throttle.retry_window / 3600
        return State.FAILED, None, f"gave up after retrying for {hours:g} h; last reply: {outcome.text}"
    kwargs = {"rng": rng} if rng is not None else {}
    delay = backoff(claimed.attempts + 1, base=throttle.retry_base, cap=throttle.retry_max, **kwargs)
    return State.DEFERRED, now + delay, outcome.text


@dataclass
class RunReport:
    run_id: int
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    attempts: int = 0
    stopped: bool = False
    elapsed: float = 0.0
    next_retry_at: float | None = None
    reply_codes: dict[str, int] = field(default_factory=dict)
    returned: int = 0  # refused by a relay that refused everyone: back to the queue, not failed

    def as_dict(self) -> dict[str, Any]:
        return {
            "run": self.run_id,
            "sent": self.sent,
            "deferred": self.deferred,
            "failed": self.failed,
            "attempts": self.attempts,
            "stopped": self.stopped,
            "elapsed_s": round(self.elapsed, 3),
            "next_retry_at": self.next_retry_at,
            "reply_codes": self.reply_codes,
            "returned": self.returned,
        }


STOP_AFTER = 20  # identical refusals about us in a row, nothing accepted between: stop the run


def batch_size(connections: int) -> int:
    """How many targets the deliver loop claims from the ledger at once."""
    return max(16, 4 * max(1, connections))


def in_flight_bound(connections: int) -> int:
    """The most messages a run ever has claimed (``sending`` in the ledger) but not recorded.

    The producer claims a batch of B = max(16, 4·connections) only once it has queued the whole
    previous one; at that moment up to B may still wait in the queue and ``connections`` be with
    the transport, hence 2·B + connections. The loop also enforces it (refusals held back by
    :class:`RelayWatch` count against it). After a kill -9 at most this many are sent again and
    flagged 'possibly duplicated'.
    """
    return 2 * batch_size(connections) + max(1, connections)


@dataclass
class RelayWatch:
    """Tells a relay that refuses everyone for a problem of ours from one that refuses some people.

    A permanent refusal whose reason is ours (``OUR_PROBLEM``: blocked, policy, authentication,
    ...) is held back, not recorded, while it may be the start of a relay-wide refusal.
    ``threshold`` of them in a row with the same code, status and reason, with no acceptance and
    no other permanent reply between, trip the watch: the run stops and they go back to the queue.
    A run that ends having had no other answer than such refusals trips it too (a short list).
    Anything else that is final (an acceptance, another refusal) releases the held ones to be
    recorded as the failures they are. Temporary replies neither break nor extend a streak.
    """

    threshold: int = STOP_AFTER
    held: list[tuple[Prepared, Outcome, Classification]] = field(default_factory=list)
    tripped: tuple[Outcome, Classification] | None = None
    other_final: bool = False  # this run had an acceptance or another permanent reply

    @staticmethod
    def suspect(outcome: Outcome, reply: Classification | None) -> bool:
        return outcome.verdict is Verdict.PERMANENT and reply is not None and reply.ours

    def same(self, outcome: Outcome, reply: Classification) -> bool:
        _, first, first_reply = self.held[0]
        return (first.code, first_reply.status, first_reply.reason) == (
            outcome.code,
            reply.status,
            reply.reason,
        )


def relay_refused(watch: RelayWatch, report: RunReport) -> RelayRefused:
    """The error that stops a run the relay refused as a whole, with its reply and what to do."""
    assert watch.tripped is not None
    outcome, reply = watch.tripped
    n = report.returned
    return RelayRefused(
        f"stopped: the relay refused the last {n} recipient(s) in a row with the same reply, "
        f"{quote_reply(outcome.code, outcome.text)!r} (reason {reply.reason}: "
        f"{REASONS.get(reply.reason, '')}).\n"
        "That is about our sending reputation or configuration, not about these people: nobody was "
        f"marked failed for it; the {n} refused message(s) wait to be sent again "
        f"({report.sent} sent and {report.failed} failed before the stop).",
        hint=f"{advice(reply.reason)}; then run the same command again (`notify status` shows the reply)",
        summary=report.as_dict(),
    )


async def deliver(
    *,
    ledger: Ledger,
    factory: MessageFactory,
    transport: Transport,
    throttle: Throttle,
    run_id: int,
    stop: asyncio.Event,
    progress: Progress | None = None,
    limit: int | None = None,
    limiter: RateLimiter | None = None,
    watch: RelayWatch | None = None,
) -> RunReport:
    """Send every due target of the planned run, recording each attempt.

    Stops early, cleanly, when ``stop`` is set: messages already handed to the
    transport finish, claimed ones not yet handed over go back to the queue.
    Raises RelayRefused when the relay refuses everyone for a problem of ours (see RelayWatch).
    """
    progress = progress or NoProgress()
    limiter = limiter or RateLimiter(throttle)
    watch = watch or RelayWatch()
    workers = max(1, transport.concurrency)
    batch = batch_size(workers)
    cap = in_flight_bound(workers)
    queue: asyncio.Queue[Prepared | None] = asyncio.Queue(maxsize=batch)
    results: list[Result] = []
    report = RunReport(run_id)
    in_flight = 0  # queued or with the transport
    outstanding = 0  # claimed and neither recorded nor released: 'sending' in the ledger
    done = asyncio.Event()  # pulses when a worker finishes a message
    started = time.monotonic()
    connection_trouble = 0
    user_stop = False  # stop set from outside (Ctrl-C), not by the watch

    def settle(item: Prepared, outcome: Outcome, reply: Classification | None) -> None:
        nonlocal connection_trouble
        now = outcome.at or time.time()
        state, next_at, text = next_state(outcome, item.claimed, throttle, now=now)
        results.append(
            Result(
                item.claimed.row,
                state,
                outcome.verdict.value,
                outcome.code,
                text,
                outcome.queue_id,
                now,
                next_at,
                item.message_id,
                None if reply is None else reply.reason,
                suppress=state is State.FAILED and reply is not None and reply.hard,
                possibly_duplicated=outcome.possibly_delivered,
            )
        )
        count(outcome)
        if state is State.SENT:
            report.sent += 1
            connection_trouble = 0
        elif state is State.DEFERRED:
            report.deferred += 1
        else:
            report.failed += 1
        if outcome.verdict is Verdict.TEMPORARY and outcome.code in (None, 421, 454):
            # The relay itself is in trouble (down, closing, throttling us): pause everyone,
            # longer each time (max 30 s).
            connection_trouble += 1
            limiter.hold(min(30.0, 0.25 * 2 ** (connection_trouble - 1)))
        progress.update(report.sent, report.deferred, report.failed)

    def count(outcome: Outcome) -> None:
        report.attempts += 1
        code = str(outcome.code) if outcome.code is not None else "no reply"
        if not outcome.accepted:
            report.reply_codes[code] = report.reply_codes.get(code, 0) + 1

    def give_back(item: Prepared, outcome: Outcome, reply: Classification) -> None:
        """Recorded as an attempt, but deferred and due at once: never failed for our problem."""
        now = outcome.at or time.time()
        results.append(
            Result(
                item.claimed.row,
                State.DEFERRED,
                outcome.verdict.value,
                outcome.code,
                outcome.text,
                outcome.queue_id,
                now,
                now,
                item.message_id,
                reply.reason,
            )
        )
        count(outcome)
        report.returned += 1

    def release_held() -> None:
        held, watch.held = watch.held, []
        for h in held:
            settle(*h)

    def trip(outcome: Outcome, reply: Classification) -> None:
        watch.tripped = (outcome, reply)
        held, watch.held = watch.held, []
        for h in held:
            give_back(*h)
        stop.set()

    def finish(item: Prepared, outcome: Outcome) -> None:
        nonlocal user_stop
        if stop.is_set() and watch.tripped is None:
            user_stop = True
        reply = (
            None
            if outcome.accepted
            else classify_reply(outcome.code, outcome.text, outcome.command or "RCPT")
        )
        if not watch.suspect(outcome, reply):
            if outcome.verdict is not Verdict.TEMPORARY:
                watch.other_final = True
                release_held()
            settle(item, outcome, reply)
            return
        assert reply is not None
        if watch.tripped is not None:
            give_back(item, outcome, reply)  # in flight when the run stopped: the same story
            return
        if watch.held and not watch.same(outcome, reply):
            watch.other_final = True  # a different refusal: neither streak is relay-wide
            release_held()
        watch.held.append((item, outcome, reply))
        if len(watch.held) >= watch.threshold:
            trip(outcome, reply)

    fatal: list[BaseException] = []
    unsent: list[int] = []

    async def worker() -> None:
        nonlocal in_flight
        while True:
            item = await queue.get()
            if item is None:
                return
            try:
                if fatal or stop.is_set():
                    # The transport is gone, or the run stops: not handed over, so hand it back.
                    unsent.append(item.claimed.row)
                    continue
                await limiter.acquire(item.envelope.rcpt_to.rpartition("@")[2].lower())
                if stop.is_set():  # stopped while waiting for its slot
                    unsent.append(item.claimed.row)
                    continue
                outcome = await transport.send(item.envelope, item.data)
                finish(item, outcome)
            except Exception as exc:  # e.g. the relay refused our login on a reconnect
                fatal.append(exc)
                unsent.append(item.claimed.row)
                stop.set()
            finally:
                in_flight -= 1
                done.set()

    async def producer() -> None:
        nonlocal in_flight, outstanding
        claimed_total = 0
        while not stop.is_set():
            want = batch if limit is None else min(batch, limit - claimed_total)
            if want <= 0:
                break
            flush = results[:]
            results.clear()
            outstanding -= len(flush)
            room = cap - outstanding
            if room <= 0:
                # Refusals held back by the watch fill the window: wait for more answers.
                ledger.record(run_id, flush)
                done.clear()
                await _wait_any(done, stop, timeout=1.0)
                continue
            rows = ledger.claim(run_id, min(want, room), time.time(), flush)
            outstanding += len(rows)
            limiter.set_share(ledger.rate_share())  # several senders share the campaign rate
            if not rows:
                if in_flight:
                    done.clear()
                    await _wait_any(done, stop, timeout=1.0)
                    continue
                nxt = ledger.next_retry_at()
                report.next_retry_at = nxt
                if nxt is None or nxt - time.time() > throttle.linger:
                    break
                await _wait_any(stop, None, timeout=max(0.0, nxt - time.time()))
                continue
            claimed_total += len(rows)
            # One at a time, so workers never wait for a whole batch to render.
            for i, claimed in enumerate(rows):
                if stop.is_set():
                    ledger.release(c.row for c in rows[i:])
                    outstanding -= len(rows) - i
                    break
                item = factory.prepare(claimed)
                in_flight += 1
                await queue.put(item)

    tasks = [asyncio.create_task(worker()) for _ in range(workers)]
    try:
        await producer()
    finally:
        if stop.is_set() and watch.tripped is None:
            user_stop = True
        # On a stop, whatever is still queued was claimed but never handed over: give it
        # back. Otherwise the workers drain the queue before they reach the sentinels.
        while stop.is_set() and not queue.empty():
            item = queue.get_nowait()
            if item is not None:
                unsent.append(item.claimed.row)
                in_flight -= 1
        for _ in tasks:
            await queue.put(None)
        await asyncio.gather(*tasks, return_exceptions=True)
        if watch.held:
            if watch.other_final:
                release_held()
            elif user_stop or fatal:
                # Undecided when the run was cut short: back to the queue, not failed.
                held, watch.held = watch.held, []
                for h in held:
                    give_back(*h)
            else:
                # Every final answer of this run was the same refusal about us.
                _, outcome, reply = watch.held[-1]
                trip(outcome, reply)
        ledger.record(run_id, results)
        ledger.release(unsent)
        progress.close()
    if fatal:
        raise fatal[0]
    report.stopped = stop.is_set()
    report.elapsed = time.monotonic() - started
    if report.next_retry_at is None:
        report.next_retry_at = ledger.next_retry_at()
    if watch.tripped is not None:
        raise relay_refused(watch, report)
    return report


async def _wait_any(a: asyncio.Event, b: asyncio.Event | None, *, timeout: float) -> None:
    waiters = [asyncio.create_task(a.wait())] + ([asyncio.create_task(b.wait())] if b else [])
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await w
