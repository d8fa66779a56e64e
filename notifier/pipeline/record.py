"""What each answer from the transport means, and the run's tally of them.

:func:`next_state` turns one outcome into a ledger state (sent, deferred with backoff, failed);
:class:`Recorder` collects the results the deliver loop hands to ``ledger.record`` and keeps the
:class:`RunReport` and the progress display up to date.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from notifier.bounces.replies import Classification
from notifier.ledger import Claimed, Result
from notifier.models import Outcome, State, Verdict
from notifier.pipeline.build import Prepared
from notifier.pipeline.throttle import backoff
from notifier.settings import Throttle

__all__ = ["Backoff", "NoProgress", "Progress", "Recorder", "RunReport", "next_state"]


class Backoff(Protocol):
    """What the recorder tells the throttle: send nothing for a while (the relay is in trouble)."""

    def hold(self, seconds: float) -> None: ...


class Progress(Protocol):
    def update(self, sent: int, deferred: int, failed: int) -> None: ...
    def close(self) -> None: ...


class NoProgress:
    def update(self, sent: int, deferred: int, failed: int) -> None:
        return None

    def close(self) -> None:
        return None


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


class Recorder:
    """The results of a run not yet written to the ledger, and its counts."""

    def __init__(self, report: RunReport, throttle: Throttle, limiter: Backoff, progress: Progress) -> None:
        self.report = report
        self.throttle = throttle
        self.limiter = limiter
        self.progress = progress
        self.results: list[Result] = []
        self.connection_trouble = 0  # temporary relay-wide trouble in a row, since the last acceptance

    def take(self) -> list[Result]:
        """The results gathered since the last call, to be recorded now."""
        flush, self.results = self.results, []
        return flush

    def settle(self, item: Prepared, outcome: Outcome, reply: Classification | None) -> None:
        """Record an answer as what it is: sent, deferred (retried later) or failed."""
        now = outcome.at or time.time()
        state, next_at, text = next_state(outcome, item.claimed, self.throttle, now=now)
        self.results.append(
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
        self._count(outcome)
        report = self.report
        if state is State.SENT:
            report.sent += 1
            self.connection_trouble = 0
        elif state is State.DEFERRED:
            report.deferred += 1
        else:
            report.failed += 1
        if outcome.verdict is Verdict.TEMPORARY and outcome.code in (None, 421, 454):
            # The relay itself is in trouble (down, closing, throttling us): pause everyone,
            # longer each time (max 30 s).
            self.connection_trouble += 1
            self.limiter.hold(min(30.0, 0.25 * 2 ** (self.connection_trouble - 1)))
        self.progress.update(report.sent, report.deferred, report.failed)

    def give_back(self, item: Prepared, outcome: Outcome, reply: Classification) -> None:
        """Recorded as an attempt, but deferred and due at once: never failed for our problem."""
        now = outcome.at or time.time()
        self.results.append(
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
        self._count(outcome)
        self.report.returned += 1

    def _count(self, outcome: Outcome) -> None:
        self.report.attempts += 1
        code = str(outcome.code) if outcome.code is not None else "no reply"
        if not outcome.accepted:
            self.report.reply_codes[code] = self.report.reply_codes.get(code, 0) + 1
