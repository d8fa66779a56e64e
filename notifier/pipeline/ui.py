"""What a run needs from whoever watches it: a few words, a yes or no, a progress display and
a stop request. The terminal's version lives in notifier.cli.progress; :class:`SilentUI` serves
`run-due`, `worker` and tests (never asks; writes or keeps what was said)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol, TextIO

__all__ = [
    "NullProgress",
    "Progress",
    "RunUI",
    "STOP_SIGNALS",
    "SilentUI",
    "interrupt_on_signals",
    "stop_on_signals",
]


class Progress(Protocol):
    def update(self, sent: int, deferred: int, failed: int) -> None: ...
    def close(self) -> None: ...


class RunUI(Protocol):
    interrupted: threading.Event  # set when a signal stopped the run (a worker stops too)

    def say(self, text: str) -> None: ...
    def confirm(self, question: str) -> bool | None: ...  # None: nobody can answer
    def confirm_force(self, question: str) -> bool: ...
    def progress(self, total: int) -> Progress: ...


class NullProgress:
    def update(self, sent: int, deferred: int, failed: int) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass
class SilentUI:
    """Nobody to ask: confirm() has no answer (the caller passes yes=True). What the run says is
    written to ``out`` when given (run-due, a worker that runs for weeks: nothing piles up in
    memory), else kept in ``lines``."""

    interrupted: threading.Event = field(default_factory=threading.Event)
    lines: list[str] = field(default_factory=list)
    out: TextIO | None = None

    def say(self, text: str) -> None:
        if self.out is not None:
            self.out.write(text)
        else:
            self.lines.append(text)

    def confirm(self, question: str) -> bool | None:
        return None

    def confirm_force(self, question: str) -> bool:
        return True  # --force without a terminal: the flag is the answer

    def progress(self, total: int) -> Progress:
        return NullProgress()


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def stop_on_signals(loop: asyncio.AbstractEventLoop, stop: asyncio.Event, ui: RunUI) -> Callable[[], None]:
    """During a run: SIGINT/SIGTERM, the first stops after the messages in flight, the second at
    once. Returns the function that takes the handlers off again and puts back the ones that
    were there before (a worker's, waiting between runs), not the defaults."""
    presses = 0
    previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}

    def on_signal() -> None:
        nonlocal presses
        presses += 1
        if presses > 1:
            ui.say("\nStopping now; messages in flight will be marked 'possibly duplicated'.\n")
            os._exit(130)
        ui.say("\nStopping after the messages in flight (Ctrl-C again to stop at once)...\n")
        stop.set()
        ui.interrupted.set()

    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, on_signal)

    def remove() -> None:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)
            handler = previous[sig]
            if handler is not None:  # None: set outside Python; asyncio's default stays
                signal.signal(sig, handler)

    return remove


@contextlib.contextmanager
def interrupt_on_signals(ui: RunUI) -> Iterator[None]:
    """Between runs (a worker waiting for the next round): SIGINT/SIGTERM set ``ui.interrupted``,
    which ends the wait and the loop; a run started meanwhile installs its own handlers
    (:func:`stop_on_signals`) and puts these back when it ends. Outside the main thread (a
    test's worker) signals cannot be caught, and ``ui.interrupted`` is the only way to stop."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    for sig in STOP_SIGNALS:
        signal.signal(sig, lambda signum, frame: ui.interrupted.set())
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
