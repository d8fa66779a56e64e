"""The send loop: claim ─► build ─► throttle ─► transport ─► record, until nothing is due.

    ledger.claim ─► MessageFactory.prepare ─► queue ─► workers: limiter ─► transport.send
                 ─► RelayWatch.judge ─► Recorder ─► ledger.record (with the next claim)

One producer claims and builds; ``transport.concurrency`` workers send. With ``processes`` > 1
and a transport that can be divided (SMTP), the building and sending move to that many
processes and this one only claims, records and judges (:mod:`notifier.pipeline.workers`).
The stages before it (import, plan, check every render) are in :mod:`notifier.pipeline.stages`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time

from notifier.bounces.replies import classify_reply
from notifier.errors import ConfigError
from notifier.ledger import Claimed, Ledger
from notifier.models import Outcome
from notifier.pipeline.build import MessageFactory, Prepared
from notifier.pipeline.record import NoProgress, Progress, Recorder, RunReport
from notifier.pipeline.relay import RelayWatch, relay_refused
from notifier.pipeline.throttle import RateLimiter
from notifier.settings import Throttle
from notifier.transports import Transport

__all__ = ["batch_size", "default_processes", "deliver", "in_flight_bound", "sending_processes"]


def default_processes(environ: dict[str, str] | None = None) -> int:
    """How many processes send: ``NOTIFY_SEND_PROCESSES`` when set (1 keeps everything in one
    process), else one per core this process may run on."""
    env = os.environ if environ is None else environ
    value = env.get("NOTIFY_SEND_PROCESSES", "").strip()
    if value:
        try:
            return max(1, int(value))
        except ValueError:
            raise ConfigError(
                f"NOTIFY_SEND_PROCESSES={value!r} is not a whole number",
                hint="set it to the number of sending processes, e.g. 2, or unset it",
            ) from None
    return max(1, len(os.sched_getaffinity(0)))


def sending_processes(default: int, local_senders: int, environ: dict[str, str] | None = None) -> int:
    """The processes this run forks: ``default`` (:func:`default_processes`), divided among the
    senders already running on this machine when ``NOTIFY_SEND_PROCESSES`` does not say.

    Several PostgreSQL senders on one machine each forking one process per core oversubscribe
    it: two senders on 2 cores ran 6 busy processes and sent slower together than one alone
    (bench/pg_senders.py, issue 15)."""
    env = os.environ if environ is None else environ
    if env.get("NOTIFY_SEND_PROCESSES", "").strip():
        return default
    return max(1, default // max(1, local_senders))


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
    processes: int | None = None,
) -> RunReport:
    """Send every due target of the planned run, recording each attempt.

    Stops early, cleanly, when ``stop`` is set: messages already handed to the
    transport finish, claimed ones not yet handed over go back to the queue.
    ``processes``: how many processes build and send (None: :func:`default_processes`); more
    than one only for a transport that can be divided (SMTP) and with as many connections.
    Raises RelayRefused when the relay refuses everyone for a problem of ours (see RelayWatch).
    """
    kind: type[_Delivery] = _Delivery
    if processes is None:
        local = getattr(ledger, "local_senders", None)  # a shared ledger's senders on this machine
        processes = sending_processes(default_processes(), local() if callable(local) else 1)
    processes = min(processes, max(1, transport.concurrency))
    if processes > 1 and callable(getattr(transport, "divide", None)):
        from notifier.pipeline.workers import PoolDelivery  # here: it builds on _Delivery

        kind = PoolDelivery
    loop = kind(
        processes=processes,
        ledger=ledger,
        factory=factory,
        transport=transport,
        throttle=throttle,
        run_id=run_id,
        stop=stop,
        progress=progress or NoProgress(),
        limit=limit,
        limiter=limiter or RateLimiter(throttle),
        watch=watch or RelayWatch(),
    )
    return await loop.run()


class _Delivery:
    """One call of :func:`deliver`: the producer, the workers and what they share."""

    def __init__(
        self,
        *,
        ledger: Ledger,
        factory: MessageFactory,
        transport: Transport,
        throttle: Throttle,
        run_id: int,
        stop: asyncio.Event,
        progress: Progress,
        limit: int | None,
        limiter: RateLimiter,
        watch: RelayWatch,
        processes: int = 1,
    ) -> None:
        self.processes = processes
        self.ledger, self.factory, self.transport = ledger, factory, transport
        self.throttle, self.run_id, self.stop, self.limit = throttle, run_id, stop, limit
        self.progress, self.limiter, self.watch = progress, limiter, watch
        self.workers = max(1, transport.concurrency)
        self.batch = batch_size(self.workers)
        self.cap = in_flight_bound(self.workers)
        self.queue: asyncio.Queue[Prepared | None] = asyncio.Queue(maxsize=self.batch)
        self.report = RunReport(run_id)
        self.recorder = Recorder(self.report, throttle, limiter, progress)
        self.in_flight = 0  # queued or with the transport
        self.outstanding = 0  # claimed and neither recorded nor released: 'sending' in the ledger
        self.done = asyncio.Event()  # pulses when a worker finishes a message
        self.user_stop = False  # stop set from outside (Ctrl-C), not by the watch
        self.fatal: list[BaseException] = []
        self.unsent: list[int] = []  # claimed, never handed to the transport: released at the end
        self.started = time.monotonic()
        self.tasks: list[asyncio.Task[None]] = []
        self._stop_watch: asyncio.Task[None] | None = None

    def _wrap_up(self) -> None:
        """Once the sending is over: the relay watch's verdict, the last outcomes recorded, what
        was never sent released for the next run, the progress line closed."""
        self.watch.wrap_up(self.recorder, cut_short=self.user_stop or bool(self.fatal))
        if self.watch.tripped is not None:
            self.stop.set()
        self.ledger.record(self.run_id, self.recorder.take())
        self.ledger.release(self.unsent)
        self.progress.close()
        if self._stop_watch is not None:
            self._stop_watch.cancel()

    async def run(self) -> RunReport:
        await self.start()
        try:
            await self.produce()
        finally:
            await self.wind_down()
        if self.fatal:
            raise self.fatal[0]
        report = self.report
        report.stopped = self.stop.is_set()
        report.elapsed = time.monotonic() - self.started
        if report.next_retry_at is None:
            report.next_retry_at = self.ledger.next_retry_at()
        if self.watch.tripped is not None:
            raise relay_refused(self.watch, report)
        return report

    async def start(self) -> None:
        self.tasks = [asyncio.create_task(self.worker()) for _ in range(self.workers)]

    # ---- producer: claim and build ------------------------------------------------------

    async def produce(self) -> None:
        claimed_total = 0
        while not self.stop.is_set():
            want = self.batch if self.limit is None else min(self.batch, self.limit - claimed_total)
            if want <= 0:
                break
            rows = await self.claim(want)
            if rows is None:
                continue
            if not rows:
                if await self.idle():
                    continue
                break
            claimed_total += len(rows)
            await self.enqueue(rows)

    async def claim(self, want: int) -> list[Claimed] | None:
        """Record what is settled and claim up to ``want`` more; None when there was no room."""
        flush = self.recorder.take()
        self.outstanding -= len(flush)
        room = self.cap - self.outstanding
        if room <= 0:
            # Refusals held back by the watch fill the window: wait for more answers.
            self.ledger.record(self.run_id, flush)
            await self.wait_for_answer()
            return None
        rows = self.ledger.claim(self.run_id, min(want, room), time.time(), flush)
        self.outstanding += len(rows)
        self.limiter.set_share(self.ledger.rate_share())  # several senders share the campaign rate
        return rows

    async def idle(self) -> bool:
        """Nothing claimable: wait for answers or a retry falling due; False when the run is over."""
        if self.in_flight:
            await self.wait_for_answer()
            return True
        nxt = self.ledger.next_retry_at()
        self.report.next_retry_at = nxt
        if nxt is None or nxt - time.time() > self.throttle.linger:
            return False
        await _wait_any(self.stop, None, timeout=max(0.0, nxt - time.time()))
        return True

    async def enqueue(self, rows: list[Claimed]) -> None:
        # One at a time, so workers never wait for a whole batch to render.
        for i, claimed in enumerate(rows):
            if self.stop.is_set():
                self.ledger.release(c.row for c in rows[i:])
                self.outstanding -= len(rows) - i
                return
            item = self.factory.prepare(claimed)
            self.in_flight += 1
            await self.queue.put(item)

    async def wait_for_answer(self) -> None:
        """Until an answer comes, the run stops, or a second passes. Called once per few answers:
        one future and one timer, not the two tasks :func:`_wait_any` makes (the stop reaches
        ``done`` through the task :meth:`_stop_wakes` starts once per run)."""
        self.done.clear()
        if self.stop.is_set():
            return
        if self._stop_watch is None:
            self._stop_watch = asyncio.create_task(self._stop_wakes())
        timer = asyncio.get_running_loop().call_later(1.0, self.done.set)
        try:
            await self.done.wait()
        finally:
            timer.cancel()

    async def _stop_wakes(self) -> None:
        await self.stop.wait()
        self.done.set()

    # ---- workers: throttle, transport, judge ---------------------------------------------

    async def worker(self) -> None:
        while (item := await self.queue.get()) is not None:
            try:
                await self.hand_over(item)
            except Exception as exc:  # e.g. the relay refused our login on a reconnect
                self.fatal.append(exc)
                self.unsent.append(item.claimed.row)
                self.stop.set()
            finally:
                self.in_flight -= 1
                self.done.set()

    async def hand_over(self, item: Prepared) -> None:
        if self.fatal or self.stop.is_set():
            # The transport is gone, or the run stops: not handed over, so hand it back.
            self.unsent.append(item.claimed.row)
            return
        await self.limiter.acquire(item.envelope.rcpt_to.rpartition("@")[2].lower())
        if self.stop.is_set():  # stopped while waiting for its slot
            self.unsent.append(item.claimed.row)
            return
        outcome = await self.transport.send(item.envelope, item.data)
        self.finish(item, outcome)

    def finish(self, item: Prepared, outcome: Outcome) -> None:
        self.note_user_stop()
        reply = (
            None
            if outcome.accepted
            else classify_reply(outcome.code, outcome.text, outcome.command or "RCPT")
        )
        if self.watch.judge(item, outcome, reply, self.recorder):
            self.stop.set()

    def note_user_stop(self) -> None:
        if self.stop.is_set() and self.watch.tripped is None:
            self.user_stop = True

    # ---- the end -------------------------------------------------------------------------

    async def wind_down(self) -> None:
        """Let the workers finish, then record every answer and release every unsent claim."""
        tasks = self.tasks
        self.note_user_stop()
        # On a stop, whatever is still queued was claimed but never handed over: give it
        # back. Otherwise the workers drain the queue before they reach the sentinels.
        while self.stop.is_set() and not self.queue.empty():
            item = self.queue.get_nowait()
            if item is not None:
                self.unsent.append(item.claimed.row)
                self.in_flight -= 1
        for _ in tasks:
            await self.queue.put(None)
        await asyncio.gather(*tasks, return_exceptions=True)
        self._wrap_up()


async def _wait_any(a: asyncio.Event, b: asyncio.Event | None, *, timeout: float) -> None:
    waiters = [asyncio.create_task(a.wait())] + ([asyncio.create_task(b.wait())] if b else [])
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await w
