"""What a run needs from whoever watches it: a few words, a yes or no, a progress display and
a stop request. The terminal's version lives in notifier.cli.progress; :class:`SilentUI` serves
`run-due`, `worker`, the preview and tests (never asks, records what was said)."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TextIO

__all__ = ["NullProgress", "Progress", "RunUI", "SilentUI", "stop_on_signals"]


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
    """Nobody to ask: confirm() has no answer (the caller passes yes=True), what the run says is
    kept in ``lines`` (and written to ``out`` when given)."""

    interrupted: threading.Event = field(default_factory=threading.Event)
    lines: list[str] = field(default_factory=list)
    out: TextIO | None = None  # run-due and worker: also written here, as it is said

    def say(self, text: str) -> None:
        self.lines.append(text)
        if self.out is not None:
            self.out.write(text)

    def confirm(self, question: str) -> bool | None:
        return None

    def confirm_force(self, question: str) -> bool:
        return True  # --force without a terminal: the flag is the answer

    def progress(self, total: int) -> Progress:
        return NullProgress()


def stop_on_signals(loop: asyncio.AbstractEventLoop, stop: asyncio.Event, ui: RunUI) -> Callable[[], None]:
    """SIGINT/SIGTERM: the first stops after the messages in flight, the second at once.
    Returns the function that takes the handlers off again."""
    presses = 0

    def on_signal() -> None:
        nonlocal presses
        presses += 1
        if presses > 1:
            ui.say("\nStopping now; messages in flight will be marked 'possibly duplicated'.\n")
            os._exit(130)
        ui.say("\nStopping after the messages in flight (Ctrl-C again to stop at once)...\n")
        stop.set()
        ui.interrupted.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)

    def remove() -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)

    return remove
