"""What `notify send` shows at a terminal: prompts, and progress (a tqdm bar on a terminal,
periodic log lines elsewhere).

Neither ever shows an address: counts only (no personal data in logs).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import TextIO

from tqdm import tqdm

__all__ = ["BarProgress", "LogProgress", "TerminalUI", "make_progress"]

log = logging.getLogger("notifier.send")


class BarProgress:
    def __init__(self, total: int, stream: TextIO) -> None:
        self._bar = tqdm(total=total, unit="msg", file=stream, dynamic_ncols=True, smoothing=0.1)
        self._done = 0
        self._counts = (0, 0, 0)

    def update(self, sent: int, deferred: int, failed: int) -> None:
        done = sent + failed  # final outcomes; a deferral comes back for another try
        self._bar.update(done - self._done)
        self._done = done
        self._counts = (sent, deferred, failed)
        if done % 25 == 0:
            self._postfix(refresh=False)

    def _postfix(self, *, refresh: bool) -> None:
        sent, deferred, failed = self._counts
        self._bar.set_postfix(sent=sent, deferred=deferred, failed=failed, refresh=refresh)

    def close(self) -> None:
        self._postfix(refresh=True)
        self._bar.close()


class LogProgress:
    def __init__(self, total: int, every: float = 5.0) -> None:
        self._total = total
        self._every = every
        self._start = self._last = time.monotonic()
        self._counts = (0, 0, 0)

    def update(self, sent: int, deferred: int, failed: int) -> None:
        self._counts = (sent, deferred, failed)
        now = time.monotonic()
        if now - self._last >= self._every:
            self._last = now
            self._emit(now)

    def _emit(self, now: float) -> None:
        sent, deferred, failed = self._counts
        done = sent + failed  # final outcomes; a deferral comes back for another try
        rate = done / max(1e-9, now - self._start)
        eta = (self._total - done) / rate if rate and self._total > done else 0
        log.info(
            "progress: %d/%d done, sent %d, failed %d, retried %d, %.0f msg/s, ETA %.0f s",
            done,
            self._total,
            sent,
            failed,
            deferred,
            rate,
            eta,
        )

    def close(self) -> None:
        self._emit(time.monotonic())


def make_progress(total: int, *, stream: TextIO | None = None) -> BarProgress | LogProgress:
    out = stream or sys.stderr
    return BarProgress(total, out) if out.isatty() else LogProgress(total)


class TerminalUI:
    """`notify send` at a terminal (or piped): words to ``out``, questions on ``stdin``, a tqdm bar
    when stderr is a terminal, log lines otherwise."""

    def __init__(self, stdin: TextIO, out: TextIO, interrupted: threading.Event | None = None) -> None:
        self.stdin = stdin
        self.out = out
        self.interrupted = interrupted or threading.Event()

    def say(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()

    def confirm(self, question: str) -> bool | None:
        if not self.stdin.isatty():
            return None
        self.out.write(question + " [y/N] ")
        self.out.flush()
        return self.stdin.readline().strip().lower() in ("y", "yes")

    def confirm_force(self, question: str) -> bool:
        if not self.stdin.isatty():
            return True  # --force off a terminal: the flag is the answer
        self.out.write(question)
        self.out.flush()
        return self.stdin.readline().strip() == "FORCE"

    def progress(self, total: int) -> BarProgress | LogProgress:
        return make_progress(total)
