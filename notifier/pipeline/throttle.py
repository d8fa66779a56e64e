"""Rate limits: one smooth token bucket for the campaign, one per recipient domain,
and exponential retry backoff with jitter.

The buckets hold a single token (no bursts): messages leave evenly spaced at the
configured rate. Reservations may run the bucket negative, so the caller sleeps
exactly until its slot and the long-run rate stays exact despite coarse timers.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Mapping

from notifier.settings import Throttle as ThrottleSettings

__all__ = ["RateLimiter", "TokenBucket", "backoff"]

Clock = Callable[[], float]


class TokenBucket:
    def __init__(self, rate: float, *, burst: float = 1.0, clock: Clock = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = burst
        self._last = clock()

    def reserve(self) -> float:
        """Take one token; return the seconds to wait before using it (0 if none)."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate


class RateLimiter:
    """The campaign rate plus per-domain rates, and a pause after a relay says 421.

    ``part``: this sending process's part of the campaign rate, when several processes of one
    run send side by side (each gets 1/N; per-domain rates stay whole, because every domain with
    a limit is sent by one process only, see :mod:`notifier.pipeline.workers`).
    """

    def __init__(
        self,
        settings: ThrottleSettings,
        *,
        part: float = 1.0,
        clock: Clock = time.monotonic,
        sleep: Callable[[float], object] = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._base_rate = settings.rate * part
        self._global = TokenBucket(self._base_rate, clock=clock)
        self._share = 1.0
        self._per_domain_default = settings.per_domain
        self._domain_rates: Mapping[str, float] = settings.domains
        self._domains: dict[str, TokenBucket] = {}
        self._not_before = 0.0

    def _domain_bucket(self, domain: str) -> TokenBucket | None:
        bucket = self._domains.get(domain)
        if bucket is None:
            rate = self._domain_rates.get(domain, self._per_domain_default)
            if rate is None:
                return None
            bucket = self._domains[domain] = TokenBucket(rate * self._share, clock=self._clock)
        return bucket

    def delay_for(self, domain: str) -> float:
        wait = self._global.reserve()
        bucket = self._domain_bucket(domain)
        if bucket is not None:
            wait = max(wait, bucket.reserve())
        return max(wait, self._not_before - self._clock())

    async def acquire(self, domain: str) -> None:
        wait = self.delay_for(domain)
        if wait > 0:
            await self._sleep(wait)  # type: ignore[misc]

    def set_share(self, share: float) -> None:
        """Take only ``share`` of every configured rate (several senders split the campaign's)."""
        share = min(1.0, max(1e-6, share))
        if share == self._share:
            return
        self._share = share
        self._global.rate = self._base_rate * share
        for domain, bucket in self._domains.items():
            base = self._domain_rates.get(domain, self._per_domain_default)
            if base is not None:
                bucket.rate = base * share

    def hold(self, seconds: float) -> None:
        """Send nothing for ``seconds`` (the relay asked us to back off)."""
        self._not_before = max(self._not_before, self._clock() + seconds)


def backoff(
    attempt: int,
    *,
    base: float,
    cap: float,
    rng: Callable[[], float] = random.random,
) -> float:
    """Seconds before retry ``attempt`` (1-based): base·2^(n-1), capped, with ±25% jitter."""
    raw = min(cap, base * (2.0 ** max(0, attempt - 1)))
    return float(raw * (0.75 + 0.5 * rng()))
