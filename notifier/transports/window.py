"""A per-second guard at the moment of dispatch, for providers that count per second.

Lives with the transports (SES uses it) so that a transport never reaches into the pipeline.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable

__all__ = ["SlidingWindow"]

Clock = Callable[[], float]


class SlidingWindow:
    """At most ``limit`` events in any ``seconds`` (thread-safe, blocking).

    The token bucket spaces messages evenly, but threads and sockets add jitter, so a late
    message can land right before an on-time one. Where a provider counts per second
    (SES's maximum send rate), this guard at the moment of dispatch keeps every window
    under the limit.
    """

    def __init__(
        self,
        limit: int,
        seconds: float = 1.0,
        *,
        clock: Clock = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limit = max(1, limit)
        self.seconds = seconds
        self._clock = clock
        self._sleep = sleep
        self._times: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()

    def wait(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                while self._times and self._times[0] <= now - self.seconds:
                    self._times.popleft()
                if len(self._times) < self.limit:
                    self._times.append(now)
                    return
                delay = self._times[0] + self.seconds - now
            self._sleep(max(delay, 0.0005))
