"""Send windows in each recipient's local time ("09:00-17:00"), from their country or region.

A recipient's zone is, in order: the list's ``timezone`` column (an IANA name), ``[schedule]
timezones`` for their region (``"US-CA"``) or country (``"DE"``), then the built-in table below
(the zone most of a country's people live in, per US state, Canadian province, Australian state
and Brazilian or Mexican region), then the campaign's ``[campaign] timezone``.
Pure: a clock and a recipient in, yes or no out.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from notifier.errors import UsageError

__all__ = ["Window", "parse_window", "zone_for"]

_REGIONS = {
    **dict.fromkeys(
        [
            "US-CT",
            "US-DE",
            "US-DC",
            "US-FL",
            "US-GA",
            "US-IN",
            "US-KY",
            "US-ME",
            "US-MD",
            "US-MA",
            "US-MI",
            "US-NH",
            "US-NJ",
            "US-NY",
            "US-NC",
            "US-OH",
            "US-PA",
            "US-RI",
            "US-SC",
            "US-VT",
            "US-VA",
            "US-WV",
        ],
        "America/New_York",
    ),
    **dict.fromkeys(
        [
            "US-AL",
            "US-AR",
            "US-IL",
            "US-IA",
            "US-KS",
            "US-LA",
            "US-MN",
            "US-MS",
            "US-MO",
            "US-NE",
            "US-ND",
            "US-OK",
            "US-SD",
            "US-TN",
            "US-TX",
            "US-WI",
        ],
        "America/Chicago",
    ),
    **dict.fromkeys(["US-CO", "US-ID", "US-MT", "US-NM", "US-UT", "US-WY"], "America/Denver"),
    "US-AZ": "America/Phoenix",
    **dict.fromkeys(["US-CA", "US-NV", "US-OR", "US-WA"], "America/Los_Angeles"),
    "US-AK": "America/Anchorage",
    "US-HI": "Pacific/Honolulu",
    "US-PR": "America/Puerto_Rico",
    **dict.fromkeys(["CA-ON", "CA-QC"], "America/Toronto"),
    **dict.fromkeys(["CA-NS", "CA-NB", "CA-PE"], "America/Halifax"),
    "CA-NL": "America/St_Johns",
    "CA-MB": "America/Winnipeg",
    "CA-SK": "America/Regina",
    "CA-AB": "America/Edmonton",
    "CA-BC": "America/Vancouver",
    **dict.fromkeys(["AU-NSW", "AU-VIC", "AU-ACT", "AU-TAS"], "Australia/Sydney"),
    "AU-QLD": "Australia/Brisbane",
    "AU-SA": "Australia/Adelaide",
    "AU-NT": "Australia/Darwin",
    "AU-WA": "Australia/Perth",
}
_COUNTRIES = {
    **dict.fromkeys(
        [
            "AT",
            "BE",
            "CZ",
            "DE",
            "DK",
            "ES",
            "FR",
            "HR",
            "HU",
            "IT",
            "LU",
            "MT",
            "NL",
            "NO",
            "PL",
            "SE",
            "SI",
            "SK",
            "CH",
            "LI",
            "MC",
            "SM",
            "VA",
            "AD",
            "AL",
            "BA",
            "ME",
            "MK",
            "RS",
        ],
        "Europe/Berlin",
    ),
    **dict.fromkeys(["BG", "CY", "EE", "FI", "GR", "LT", "LV", "RO", "UA", "MD"], "Europe/Helsinki"),
    "GB": "Europe/London",
    "IS": "Atlantic/Reykjavik",
    "PT": "Europe/Lisbon",
    "IE": "Europe/Dublin",
    "TR": "Europe/Istanbul",
    "RU": "Europe/Moscow",
    "US": "America/New_York",
    "CA": "America/Toronto",
    "MX": "America/Mexico_City",
    "BR": "America/Sao_Paulo",
    "AR": "America/Argentina/Buenos_Aires",
    "CL": "America/Santiago",
    "CO": "America/Bogota",
    "PE": "America/Lima",
    "AU": "Australia/Sydney",
    "NZ": "Pacific/Auckland",
    "JP": "Asia/Tokyo",
    "KR": "Asia/Seoul",
    "CN": "Asia/Shanghai",
    "HK": "Asia/Hong_Kong",
    "TW": "Asia/Taipei",
    "SG": "Asia/Singapore",
    "MY": "Asia/Kuala_Lumpur",
    "PH": "Asia/Manila",
    "ID": "Asia/Jakarta",
    "TH": "Asia/Bangkok",
    "VN": "Asia/Ho_Chi_Minh",
    "IN": "Asia/Kolkata",
    "PK": "Asia/Karachi",
    "AE": "Asia/Dubai",
    "SA": "Asia/Riyadh",
    "IL": "Asia/Jerusalem",
    "EG": "Africa/Cairo",
    "ZA": "Africa/Johannesburg",
    "NG": "Africa/Lagos",
    "KE": "Africa/Nairobi",
}
_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone_for(recipient: Mapping[str, Any], overrides: Mapping[str, str], default: str) -> ZoneInfo:
    # The list's own `timezone` column (an IANA name) wins when it names a real zone (issue 17).
    own = str(recipient.get("timezone") or "").strip()
    if own:
        try:
            return _zone(own)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    region = str(recipient.get("region") or "").upper()
    country = str(recipient.get("country") or "").upper()
    for key in (region, country):
        if key and key in overrides:
            return _zone(overrides[key])
    name = _REGIONS.get(region) or _COUNTRIES.get(country) or default
    return _zone(name)


class Window:
    """Local opening hours; ``end`` before ``start`` spans midnight ("22:00-06:00")."""

    def __init__(self, start: dt.time, end: dt.time, overrides: Mapping[str, str], default: str) -> None:
        self.start, self.end = start, end
        self.overrides, self.default = dict(overrides), default

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def open_for(self, recipient: Mapping[str, Any], now: float) -> bool:
        local = dt.datetime.fromtimestamp(now, zone_for(recipient, self.overrides, self.default)).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def predicate(self, now: float) -> Callable[[Mapping[str, Any]], bool]:
        return lambda recipient: self.open_for(recipient, now)


def parse_window(text: str, overrides: Mapping[str, str], default: str) -> Window:
    m = _WINDOW.match(text or "")
    if not m:
        raise UsageError(f"send window {text!r} is not HH:MM-HH:MM", hint="e.g. --window 09:00-17:00")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
        raise UsageError(f"send window {text!r} has an impossible time")
    for name in (*overrides.values(), default):
        try:
            _zone(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise UsageError(
                f"unknown time zone {name!r}", hint="use IANA names such as Europe/Paris"
            ) from None
    end = dt.time(0, 0) if h2 == 24 else dt.time(h2, m2)
    return Window(dt.time(h1, m1), end, overrides, default)
