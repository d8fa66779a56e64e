"""Both cores for the whole per-message path: sending processes beside the run's own.

    this process:  ledger.claim ─► route ─► (pipe) ─────────────► RelayWatch ─► Recorder ─► ledger.record
    each worker:                    render ─► MIME ─► DKIM ─► limiter ─► SMTP ─► (pipe) ─┘

A signed message costs ~0.6 ms of CPU to build and send, 0.36 ms of it the RSA signature: one
process tops out at one core. Here N worker processes (forked once per run, so they share the
compiled notice, the key and the settings with no pickling) each render, sign and send; the
run's process keeps everything that must be decided in one place: the ledger (claims, one
transaction per batch recording the answers), the relay-refusal watch, the run's tally and the
progress display. What crosses the pipes is small: claimed rows out, (row, outcome,
Message-ID) back, in batches.

Every guarantee of the one-process loop holds:

- **Exactly once, resumable**: only this process writes the ledger; a row is ``sending`` from its
  claim until its answer is recorded, and the in-flight bound (claimed, not yet recorded) is the
  same figure (:func:`~notifier.pipeline.deliver.in_flight_bound`) over all workers. A worker
  whose parent dies (kill -9) sees its pipe close and exits at once, sending nothing more.
- **Throttle**: the connection budget is divided (worker i gets its share of ``connections``),
  each worker takes 1/N of the campaign rate, and every recipient domain with a limit of its
  own is always sent by the same worker, which applies that limit whole. A 421 or lost relay
  pauses every worker (the Recorder's hold is sent to each).
- **Stop**: Ctrl-C / SIGTERM reach this process only (workers ignore them); it tells each worker
  to stop, they finish what is on the wire, return what they had not sent, and exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import multiprocessing
import multiprocessing.connection
import os
import signal
import zlib
from collections.abc import Iterable
from typing import Any, Protocol

from notifier.errors import NotifierError, TransportError
from notifier.ledger import Claimed
from notifier.models import Envelope, Outcome, Recipient, Verdict
from notifier.pipeline.build import MessageFactory, Prepared
from notifier.pipeline.deliver import _Delivery
from notifier.pipeline.throttle import RateLimiter
from notifier.settings import Throttle
from notifier.transports import Transport

__all__ = ["Divisible", "PoolDelivery", "shares"]

Connection = multiprocessing.connection.Connection
FLUSH_AFTER = 0.02  # seconds a worker gathers answers before sending them back in one batch


class Divisible(Protocol):
    """A transport that can give each sending process one of its own with part of the budget."""

    def divide(self, connections: int) -> Transport: ...


def shares(total: int, parts: int) -> list[int]:
    """``total`` connections split over ``parts`` processes as evenly as possible (each >= 1)."""
    parts = max(1, min(parts, total))
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def _limited(throttle: Throttle) -> bool:
    """True when recipient domains have limits of their own (then each goes to one worker)."""
    return throttle.per_domain is not None or bool(throttle.domains)


class PoolDelivery(_Delivery):
    """The deliver loop with the building and sending done by worker processes."""

    async def start(self) -> None:
        transport: Any = self.transport
        budget = shares(self.workers, self.processes)
        # This process's own connection (opened to prove the relay is reachable) is not needed:
        # closed before forking, so no worker inherits a socket it must not use.
        await self.transport.close()
        self.conns: list[Connection] = []
        self.procs: list[multiprocessing.process.BaseProcess] = []
        self.load: list[int] = [0] * len(budget)  # messages with each worker, not answered
        self.open_workers = len(budget)
        self.all_closed = asyncio.Event()
        self.sent_to: dict[int, tuple[Claimed, int]] = {}  # row -> (claimed, worker)
        self.by_domain = _limited(self.throttle)
        part = 1.0 / len(budget)
        context = multiprocessing.get_context("fork")
        loop = asyncio.get_running_loop()
        for i, connections in enumerate(budget):
            ours, theirs = context.Pipe()
            # The child must not keep this process's ends of the pipes open (its own and the
            # earlier workers'): with them open it would never see its run die.
            ours_fds = [c.fileno() for c in self.conns] + [ours.fileno()]
            proc = context.Process(
                target=_worker_main,
                args=(theirs, ours_fds, self.factory, transport.divide(connections), self.throttle, part),
                name=f"notify-send-{i + 1}",
                daemon=True,
            )
            proc.start()
            theirs.close()
            self.conns.append(ours)
            self.procs.append(proc)
            loop.add_reader(ours.fileno(), self._on_message, i)
        self.limiter = _Fanout(self.conns, self.limiter)  # type: ignore[assignment]
        self.recorder.limiter = self.limiter

    # ---- out: claimed rows to the workers ------------------------------------------------

    async def claim(self, want: int) -> list[Claimed] | None:
        # Claim (and record) in batches, not one row per answer: wait for room for half a batch.
        room = self.cap - self.outstanding + len(self.recorder.results)
        if self.in_flight and room < min(want, max(1, self.batch // 2)):
            await self.wait_for_answer()
            return None
        return await super().claim(want)

    async def enqueue(self, rows: list[Claimed]) -> None:
        if self.stop.is_set() or self.fatal:
            self.ledger.release(c.row for c in rows)
            self.outstanding -= len(rows)
            return
        batches: list[list[tuple[Claimed, Any]]] = [[] for _ in self.conns]
        n = len(self.conns)
        # Per-recipient facts that come from the ledger (an offer's code) are looked up here:
        # only this process may use the ledger.
        extra = getattr(self.factory, "context", None)
        for claimed in rows:
            domain = claimed.recipient.email.rpartition("@")[2].lower()
            if self.by_domain:
                i = zlib.crc32(domain.encode()) % n
            else:
                i = min(range(n), key=self.load.__getitem__)
            batches[i].append(_pack(claimed, None if extra is None else extra(claimed.recipient)))
            self.load[i] += 1
            self.sent_to[claimed.row] = (claimed, i)
        for i, batch in enumerate(batches):
            if batch:
                self.in_flight += len(batch)
                _send(self.conns[i], ("send", batch))

    # ---- back: answers from the workers ---------------------------------------------------

    def _on_message(self, i: int) -> None:
        try:
            kind, payload = self.conns[i].recv()
        except (EOFError, OSError):
            kind, payload = "gone", None
        if kind == "results":
            for row, *answer, message_id in payload:
                outcome = Outcome(Verdict(answer[0]), *answer[1:])
                self._answer(row, i)
                claimed = self.sent_to.pop(row)[0]
                r = claimed.recipient
                item = Prepared(claimed, Envelope("", r.email, r.smtputf8), b"", message_id)
                self.finish(item, outcome)
        elif kind == "unsent":
            for row in payload:
                self._answer(row, i)
                self.sent_to.pop(row, None)
                self.unsent.append(row)
        elif kind == "fatal":
            self.fatal.append(_rebuild(payload))
            self.stop.set()
        elif kind in ("closed", "gone"):
            asyncio.get_running_loop().remove_reader(self.conns[i].fileno())
            if kind == "gone" and self.load[i]:
                # A worker died with messages: they may be on the wire, so they stay 'sending'
                # and the next run sends them again, flagged possibly duplicated.
                self.fatal.append(
                    NotifierError(
                        f"a sending process stopped unexpectedly with {self.load[i]} message(s)",
                        hint="run the same command again: they are sent again, marked possibly duplicated",
                    )
                )
                self.stop.set()
            self.open_workers -= 1
            if self.open_workers == 0:
                self.all_closed.set()
        self.done.set()

    def _answer(self, row: int, i: int) -> None:
        self.in_flight -= 1
        self.load[i] -= 1

    # ---- the end -------------------------------------------------------------------------

    async def wind_down(self) -> None:
        """Tell every worker to stop (or that the work is done), wait for their last answers,
        then record every answer and release every unsent claim."""
        self.note_user_stop()
        word = "stop" if self.stop.is_set() or self.fatal else "end"
        for conn in self.conns:
            with contextlib.suppress(OSError):
                _send(conn, (word, None))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.all_closed.wait(), self.transport_timeout())
        for proc in self.procs:
            proc.join(5)
            if proc.is_alive():
                proc.kill()
        for conn in self.conns:
            conn.close()
        self._wrap_up()

    def transport_timeout(self) -> float:
        timeout = getattr(getattr(self.transport, "settings", None), "timeout", 30.0)
        return float(timeout) * 2 + 5


class _Fanout:
    """The Recorder's pause (a 421, a lost relay) and the senders' share, sent to every worker."""

    def __init__(self, conns: list[Connection], local: RateLimiter) -> None:
        self.conns = conns
        self.local = local
        self.share = 1.0

    def hold(self, seconds: float) -> None:
        self.local.hold(seconds)
        for conn in self.conns:
            with contextlib.suppress(OSError):
                _send(conn, ("hold", seconds))

    def set_share(self, share: float) -> None:
        if share != self.share:
            self.share = share
            for conn in self.conns:
                with contextlib.suppress(OSError):
                    _send(conn, ("share", share))

    async def acquire(self, domain: str) -> None:
        return None  # the workers throttle at the moment of sending


# What crosses the pipes is plain tuples: pickling the frozen dataclasses (Claimed, Recipient,
# Outcome) walked their fields() each time and cost the run's process ~30 us per message.


def _pack(claimed: Claimed, extra: Any) -> tuple[Any, ...]:
    r = claimed.recipient
    return (claimed.row, claimed.attempts, claimed.first_attempt_at, claimed.possibly_duplicated,
            r.email, r.key, r.source, r.line, r.fields, r.smtputf8, extra)  # fmt: skip


def _unpack(packed: tuple[Any, ...]) -> tuple[Claimed, Any]:
    row, attempts, first, duplicated, *recipient, extra = packed
    return Claimed(row, Recipient(*recipient), attempts, first, duplicated), extra


def _send(conn: Connection, message: tuple[str, Any]) -> None:
    conn.send(message)


def _describe(exc: BaseException) -> tuple[str, str, str]:
    """An error as (kind, message, hint), for the pipe (our errors do not all pickle)."""
    kind = "transport" if isinstance(exc, TransportError) else "other"
    return kind, getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}", getattr(exc, "hint", "")


def _rebuild(payload: tuple[str, str, str]) -> NotifierError:
    kind, message, hint = payload
    return (TransportError if kind == "transport" else NotifierError)(message, hint=hint)


# ---- the worker process ------------------------------------------------------------------


def _worker_main(
    conn: Connection,
    ours: list[int],
    factory: MessageFactory,
    transport: Transport,
    throttle: Throttle,
    part: float,
) -> None:
    """Entry point of a forked worker; never returns (no inherited finaliser may run here:
    the parent's ledger connection must not be closed or checkpointed by a child)."""
    code = 1
    try:
        for fd in ours:
            os.close(fd)
        _die_with_parent()
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent decides
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.set_wakeup_fd(-1)
        parent = multiprocessing.parent_process()
        if parent is not None and os.getppid() != parent.pid:
            return  # the run died before the line above could take effect
        asyncio.run(_Worker(conn, factory, transport, RateLimiter(throttle, part=part)).run())
        code = 0
    finally:
        os._exit(code)


def _die_with_parent() -> None:
    """Linux: SIGKILL this process when the run's process dies (kill -9 included), so not one
    more message leaves; the closed pipe does the same a moment later everywhere else."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class _Worker:
    def __init__(
        self, conn: Connection, factory: MessageFactory, transport: Transport, limiter: RateLimiter
    ) -> None:
        self.conn, self.factory, self.transport, self.limiter = conn, factory, transport, limiter
        self.queue: asyncio.Queue[Claimed | None] = asyncio.Queue()
        self.results: list[tuple[Any, ...]] = []  # (row, *Outcome's fields, Message-ID)
        self.unsent: list[int] = []
        self.stopping = False
        self.finished = asyncio.Event()
        self.flush_at: asyncio.TimerHandle | None = None
        self.on_wire: set[asyncio.Task[None]] = set()
        # Per-recipient facts the run's process looked up in the ledger, by recipient key.
        self.extra: dict[str, Any] = {}
        if getattr(factory, "context", None) is not None:
            factory.context = lambda recipient: self.extra.pop(recipient.key)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_reader(self.conn.fileno(), self.on_message)
        try:
            await self.transport.open()
        except Exception as exc:  # the relay refused this connection: nothing sent by us
            self.tell("fatal", _describe(exc))
            self.stopping = True
        tasks = [asyncio.create_task(self.sender()) for _ in range(max(1, self.transport.concurrency))]
        await self.finished.wait()
        if self.stopping:
            # Senders waiting for an item or a slot give theirs back; those on the wire finish.
            for task in tasks:
                if task not in self.on_wire:
                    task.cancel()
        for _ in tasks:
            self.queue.put_nowait(None)
        await asyncio.gather(*tasks, return_exceptions=True)
        while not self.queue.empty():
            item = self.queue.get_nowait()
            if item is not None:
                self.unsent.append(item.row)
        self.flush()
        if self.unsent:
            self.tell("unsent", self.unsent)
        with contextlib.suppress(Exception):
            await self.transport.close()
        loop.remove_reader(self.conn.fileno())
        self.tell("closed", None)

    def on_message(self) -> None:
        try:
            kind, payload = self.conn.recv()
        except (EOFError, OSError):
            os._exit(1)  # the run's process is gone (kill -9): send nothing more
        if kind == "send":
            for packed in payload:
                claimed, extra = _unpack(packed)
                if extra is not None:
                    self.extra[claimed.recipient.key] = extra
                self.queue.put_nowait(claimed)
        elif kind == "hold":
            self.limiter.hold(payload)
        elif kind == "share":
            self.limiter.set_share(payload)
        elif kind in ("stop", "end"):
            self.stopping = self.stopping or kind == "stop"
            self.finished.set()

    async def sender(self) -> None:
        task = asyncio.current_task()
        assert task is not None
        while (claimed := await self.queue.get()) is not None:
            if self.stopping:
                self.unsent.append(claimed.row)
                continue
            try:
                item = self.factory.prepare(claimed)
                await self.limiter.acquire(item.envelope.rcpt_to.rpartition("@")[2].lower())
            except asyncio.CancelledError:
                self.unsent.append(claimed.row)
                raise
            except Exception as exc:  # a bug or a render failure the check did not catch
                self.unsent.append(claimed.row)
                self.fail(exc)
                continue
            if self.stopping:
                self.unsent.append(claimed.row)
                continue
            self.on_wire.add(task)
            try:
                outcome = await self.transport.send(item.envelope, item.data)
            except Exception as exc:  # e.g. the relay refused our login on a reconnect
                self.unsent.append(claimed.row)
                self.fail(exc)
                continue
            finally:
                self.on_wire.discard(task)
            o = outcome
            self.results.append(
                (claimed.row, o.verdict.value, o.code, o.text, o.queue_id, o.at, o.command,
                 o.possibly_delivered, item.message_id)
            )  # fmt: skip
            if len(self.results) >= 32:
                self.flush()
            elif self.flush_at is None:
                self.flush_at = asyncio.get_running_loop().call_later(FLUSH_AFTER, self.flush)

    def fail(self, exc: BaseException) -> None:
        if not self.stopping:
            self.tell("fatal", _describe(exc))
        self.stopping = True

    def flush(self) -> None:
        if self.flush_at is not None:
            self.flush_at.cancel()
            self.flush_at = None
        if self.results:
            results, self.results = self.results, []
            self.tell("results", results)

    def tell(self, kind: str, payload: Iterable[Any] | tuple[str, str, str] | None) -> None:
        try:
            self.conn.send((kind, payload))
        except OSError:
            os._exit(1)  # the run's process is gone
