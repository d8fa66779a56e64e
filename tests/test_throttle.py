"""Rates: evenly spaced, never above the limit; retries back off exponentially with jitter."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from notifier.pipeline.throttle import RateLimiter, TokenBucket, backoff
from notifier.settings import Throttle


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def simulate(limiter: RateLimiter, clock: FakeClock, domains: list[str]) -> list[float]:
    """Send one message per domain in order, sleeping as told; return send times."""
    times = []
    for d in domains:
        wait = limiter.delay_for(d)
        clock.now += wait
        times.append(clock.now)
    return times


@given(st.floats(min_value=1, max_value=5000), st.integers(min_value=2, max_value=400))
def test_no_window_of_one_second_exceeds_the_rate(rate: float, n: int) -> None:
    """However many messages queue up, no one-second window holds more than rate + 1."""
    clock = FakeClock()
    times = simulate(RateLimiter(Throttle(rate=rate), clock=clock), clock, ["example.com"] * n)
    j = 0
    for i, t in enumerate(times):
        while times[j] <= t - 1.0:
            j += 1
        assert i - j + 1 <= rate + 1
    if n > 1:
        achieved = (n - 1) / (times[-1] - times[0])
        assert abs(achieved - rate) / rate < 1e-6  # exact over the long run: no drift


def test_messages_are_spaced_evenly_not_in_bursts() -> None:
    clock = FakeClock()
    times = simulate(RateLimiter(Throttle(rate=10), clock=clock), clock, ["a.example"] * 5)
    gaps = [round(b - a, 6) for a, b in itertools.pairwise(times)]
    assert gaps == [0.1, 0.1, 0.1, 0.1]


def test_per_domain_limit_holds_back_only_that_domain() -> None:
    clock = FakeClock()
    limiter = RateLimiter(Throttle(rate=1000, domains={"slow.example": 2}), clock=clock)
    assert limiter.delay_for("slow.example") == 0
    assert limiter.delay_for("slow.example") == 0.5
    assert limiter.delay_for("fast.example") < 0.01


def test_hold_pauses_everything() -> None:
    clock = FakeClock()
    limiter = RateLimiter(Throttle(rate=1000), clock=clock)
    limiter.hold(3.0)
    assert 2.99 < limiter.delay_for("x.example") <= 3.0


def test_bucket_does_not_save_up_a_burst_while_idle() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10, clock=clock)
    clock.now += 3600  # an hour idle
    assert bucket.reserve() == 0
    assert bucket.reserve() > 0.09  # the second message still waits its turn


@given(st.integers(min_value=1, max_value=30), st.floats(min_value=0, max_value=1))
def test_backoff_doubles_within_jitter_and_respects_the_cap(attempt: int, r: float) -> None:
    delay = backoff(attempt, base=60, cap=3600, rng=lambda: r)
    raw = min(3600, 60 * 2 ** (attempt - 1))
    assert 0.75 * raw <= delay <= 1.25 * raw


def test_sliding_window_never_lets_more_than_the_limit_into_any_window() -> None:
    """The per-second guard used for SES: however callers bunch up, at most `limit` per window."""
    from notifier.transports.window import SlidingWindow

    clock = FakeClock()

    def sleep(seconds: float) -> None:
        clock.now += seconds

    window = SlidingWindow(5, seconds=1.0, clock=clock, sleep=sleep)
    times = []
    for _ in range(23):
        window.wait()
        times.append(clock.now)
    for i, t in enumerate(times):
        assert sum(1 for u in times[: i + 1] if u > t - 1.0) <= 5
    assert times[5] - times[0] >= 1.0  # the sixth waited for the first to leave the window
