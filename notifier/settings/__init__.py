"""notify.toml + environment -> one frozen :class:`Settings`, built once and passed in.

Every key is declared in ``SCHEMA``; an unknown key or a value of the wrong type is a
:class:`~notifier.errors.ConfigError` naming the key and its line. Secrets never come
from the file: SMTP passwords and the token key are read from the environment.

The parts: ``schema`` (key types), ``bounds`` (numeric ranges, one-line strings),
``units`` (durations, rates), ``lines`` (a key's line), ``urls`` (URL checks),
``model`` (the dataclasses), ``sections`` (tables checked beyond their types) and
``loader`` (:func:`load`).
"""

from __future__ import annotations

from notifier.settings.bounds import BOUNDS, HEADER_BOUND, Bounds
from notifier.settings.lines import key_lines
from notifier.settings.loader import DEFAULT_CONFIG, config_path, load
from notifier.settings.model import Dkim, Sender, Settings, Throttle
from notifier.settings.offers import Offer
from notifier.settings.schema import SCHEMA, validate
from notifier.settings.units import parse_duration, parse_rate
from notifier.settings.urls import check_url

__all__ = [
    "BOUNDS",
    "Bounds",
    "DEFAULT_CONFIG",
    "Dkim",
    "HEADER_BOUND",
    "Offer",
    "SCHEMA",
    "Sender",
    "Settings",
    "Throttle",
    "check_url",
    "config_path",
    "key_lines",
    "load",
    "parse_duration",
    "parse_rate",
    "validate",
]
