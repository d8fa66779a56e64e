"""Durations ("30s", "48h") and rates ("50/s", "3000/min") as notify.toml and flags write them."""

from __future__ import annotations

import re

__all__ = ["parse_duration", "parse_rate"]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?\s*$")
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, None: 1}
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/\s*(s|sec|m|min|h|hour))?\s*$")
_RATE_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, None: 1}


def parse_duration(value: object) -> float:
    """Seconds from ``30``, ``"30s"``, ``"15m"``, ``"48h"``, ``"7d"``. Raises ValueError."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    m = _DURATION.match(str(value))
    if not m:
        raise ValueError(f"{value!r} is not a duration such as 30s, 15m, 48h or 7d")
    return float(m.group(1)) * _DURATION_UNITS[m.group(2)]


def parse_rate(value: object) -> float:
    """Messages per second from ``50``, ``"50/s"``, ``"3000/min"``, ``"10000/h"``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        rate = float(value)
    else:
        m = _RATE.match(str(value))
        if not m:
            raise ValueError(f"{value!r} is not a rate such as 50/s, 3000/min or 10000/h")
        rate = float(m.group(1)) / _RATE_UNITS[m.group(2)]
    if rate <= 0:
        raise ValueError("a rate must be more than zero")
    return rate
