"""The sane range of every numeric key, and the keys whose strings must stay on one line."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

__all__ = ["BOUNDS", "Bounds", "CONTROL", "HEADER_BOUND"]


@dataclass(frozen=True, slots=True)
class Bounds:
    """The sane range of one numeric key (after units are applied: seconds, messages/s)."""

    low: float
    high: float
    text: str  # how the range reads in an error and in the README
    above: bool = False  # True: the value must be more than ``low``, not equal to it

    def holds(self, value: float) -> bool:
        if isinstance(value, float) and not math.isfinite(value):
            return False  # nan slips past every comparison; inf is no limit at all
        return (value > self.low if self.above else value >= self.low) and value <= self.high


_DAY = 86400.0
# Every numeric key has a range: nan, inf, negative and absurd values are mistakes that would
# silently unthrottle a run, retry in a tight loop or never time out. "*" covers a free table.
BOUNDS: dict[str, Bounds] = {
    "throttle.rate": Bounds(1 / 3600, 100_000, "a rate from 1/h to 100000/s"),
    "throttle.per_domain": Bounds(1 / 3600, 100_000, "a rate from 1/h to 100000/s"),
    "throttle.domains.*": Bounds(1 / 3600, 100_000, "a rate from 1/h to 100000/s"),
    "throttle.connections": Bounds(1, 100, "a whole number from 1 to 100"),
    "throttle.retry_base": Bounds(0.01, _DAY, 'a duration from "10ms" to "24h"'),
    "throttle.retry_max": Bounds(0.01, 7 * _DAY, 'a duration from "10ms" to "7d"'),
    "throttle.retry_window": Bounds(0, 30 * _DAY, 'a duration from 0 to "30d"'),
    "throttle.linger": Bounds(0, 7 * _DAY, 'a duration from 0 to "7d"'),
    "ledger.lease": Bounds(1, 3600, 'a duration from "1s" to "1h"'),
    "dns.timeout": Bounds(0, 60, "a number of seconds above 0 and at most 60", above=True),
    "channels.cost_per_letter": Bounds(0, 1000, "an amount from 0 to 1000 (print and postage per letter)"),
    "bounces.soft_threshold": Bounds(1, 100, "a whole number from 1 to 100"),
    "bounces.soft_span": Bounds(0, 365 * _DAY, 'a duration from 0 to "365d"'),
    "serve.port": Bounds(1, 65535, "a port number from 1 to 65535"),
    "schedule.grace": Bounds(0, 365 * _DAY, 'a duration from 0 to "365d"'),
    "letters.batch_size": Bounds(1, 5000, "a whole number of letters from 1 to 5000"),
    "letters.workers": Bounds(1, 32, "a whole number of processes from 1 to 32"),
    # Checked by settings/offers.py (the schema's bounds lookup does not reach into [offers.NAME]).
    "offers.*.months": Bounds(1, 120, "a whole number of months from 1 to 120"),
    "offers.*.enrol_days": Bounds(1, 730, "a whole number of days from 1 to 730"),
}

# Values that end up in a mail header, an SMTP command or a URL we put in a header: a line
# break there would start a header or command of the file's choosing.
HEADER_BOUND = frozenset(
    {
        "sender.from",
        "sender.reply_to",
        "sender.bounce_domain",
        "sender.helo",
        "dkim.domain",
        "dkim.selector",
        "dkim.ed25519_selector",
        "transport.url",
        "ledger.url",
        "serve.public_url",
        "serve.host",
        "digest.transport",
        "digest.from",
        "digest.codename",
    }
)
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
