"""Which language each recipient is written to, and how dates and numbers read in it.

The choice, in order (reference notice-channels §5, "Implementation facts"):

1. the list's ``locale`` column (BCP 47: ``es-US``, ``fr-CA``), the full tag first, then its
   language alone (``es-US`` -> ``es``), if the notice has a pack for it;
2. the jurisdiction's default language (``[languages.defaults]`` in compliance/rules/content.toml:
   French for Québec, Charter of the French Language as amended by Bill 96 — VERIFY), region
   before country;
3. the campaign's ``[campaign] language``;
4. the notice's own language (``language`` in notice.toml, else English).

Dates, times and numbers are formatted with Babel (CLDR) for the chosen language and the
recipient's country (``es`` + ``US`` -> ``es_US``), in the recipient's time zone: the list's
``timezone`` column, else their region's or country's zone (followups.windows, the table the
send windows use), else ``[campaign] timezone``. A Californian reads "November 20, 2026, 5:10 AM
PST", never "14:10 UTC+01:00". Pure: no I/O beyond reading the rules data once.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time, get_timezone_name
from babel.numbers import format_decimal

from notifier.followups.windows import zone_for

__all__ = [
    "LanguageChoice",
    "LanguagePolicy",
    "babel_locale",
    "format_number",
    "format_when",
    "language_rules",
    "normalise_tag",
]

_TAG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")


def normalise_tag(tag: str) -> str:
    """``ES_us`` -> ``es-US``; a script subtag keeps title case (``zh-Hant``). '' if not BCP 47-ish."""
    tag = tag.strip()
    if not _TAG.match(tag):
        return ""
    parts = re.split(r"[-_]", tag)
    out = [parts[0].lower()]
    for part in parts[1:]:
        if len(part) == 4 and part.isalpha():
            out.append(part.title())
        elif len(part) in (2, 3):
            out.append(part.upper())
        else:
            out.append(part.lower())
    return "-".join(out)


@lru_cache(maxsize=1)
def language_rules() -> dict[str, Any]:
    """``[languages]`` of compliance/rules/content.toml: defaults per jurisdiction and, per
    language, its name, headings, phrases and the help line."""
    text = (resources.files("notifier.compliance") / "rules" / "content.toml").read_text(encoding="utf-8")
    data: dict[str, Any] = tomllib.loads(text).get("languages", {})
    return data


@dataclass(frozen=True, slots=True)
class LanguageChoice:
    """One recipient's language: the pack, the formatting locale, the zone and why."""

    language: str  # the pack's code ("es", "fr-CA"), or the notice's own language
    locale: str  # Babel locale for dates and numbers ("es_US")
    timezone: str  # IANA zone their times are shown in
    reason: str  # "locale es-US", "jurisdiction CA-QC", "campaign default", ...
    wanted: str = ""  # a language asked for (locale or jurisdiction) that has no pack, if any

    def as_dict(self) -> dict[str, str]:
        return {
            "language": self.language,
            "locale": self.locale,
            "timezone": self.timezone,
            "reason": self.reason,
            "wanted": self.wanted,
        }


class LanguagePolicy:
    """Chooses among the languages a notice has (its own plus its packs)."""

    def __init__(
        self,
        available: Sequence[str],
        own: str,
        *,
        campaign_default: str = "",
        campaign_zone: str = "UTC",
        zones: Mapping[str, str] | None = None,
        defaults: Mapping[str, str] | None = None,
    ) -> None:
        self.own = normalise_tag(own) or "en"
        self.available = {normalise_tag(a).lower(): normalise_tag(a) for a in (*available, self.own)}
        self.campaign_default = normalise_tag(campaign_default)
        self.campaign_zone = campaign_zone
        self.zones = dict(zones or {})
        rules = language_rules().get("defaults", {}) if defaults is None else defaults
        self.defaults = {str(k).upper(): normalise_tag(str(v)) for k, v in rules.items()}

    def _pack(self, tag: str) -> str:
        """The pack serving ``tag``: the full tag, else its language alone; '' if none."""
        if not tag:
            return ""
        full = self.available.get(tag.lower())
        if full:
            return full
        return self.available.get(tag.split("-")[0].lower(), "")

    def choose(self, recipient: Mapping[str, Any]) -> LanguageChoice:
        wanted = ""
        locale_tag = normalise_tag(str(recipient.get("locale") or ""))
        region = str(recipient.get("region") or "").upper()
        country = str(recipient.get("country") or "").upper()
        language, reason = self._pack(locale_tag), f"locale {locale_tag}"
        if locale_tag and not language:
            wanted = locale_tag
        if not language:
            for place in (region, country):
                tag = self.defaults.get(place, "") if place else ""
                if tag:
                    language, reason = self._pack(tag), f"jurisdiction {place}"
                    if not language:
                        wanted = wanted or tag
                    break
        if not language and self.campaign_default:
            language, reason = self._pack(self.campaign_default), "campaign default"
            if not language:
                wanted = wanted or self.campaign_default
        if not language:
            language, reason = self.own, "the notice's own language"
        if wanted:
            reason += f" (no {wanted} pack)"
        return LanguageChoice(
            language=language,
            locale=babel_locale(language, locale_tag, country),
            timezone=self.zone(recipient),
            reason=reason,
            wanted=wanted,
        )

    def zone(self, recipient: Mapping[str, Any]) -> str:
        """The ``timezone`` column when it names a real zone, else region/country, else the
        campaign's: the one answer the send windows use too (followups.windows.zone_for)."""
        return str(zone_for(recipient, self.zones, self.campaign_zone).key)


@lru_cache(maxsize=512)
def babel_locale(language: str, locale_tag: str, country: str) -> str:
    """The most specific CLDR locale Babel knows: the recipient's own tag when it is in this
    language, else the language in their country, else the language alone."""
    base = language.split("-")[0]
    candidates = []
    if locale_tag and locale_tag.split("-")[0] == base:
        candidates.append(locale_tag)
    candidates.append(language)
    if country:
        candidates.append(f"{base}-{country}")
    candidates.append(base)
    for tag in candidates:
        try:
            return str(Locale.parse(tag, sep="-"))
        except (UnknownLocaleError, ValueError):
            continue
    return "en"


@lru_cache(maxsize=2048)
def _zone_label(timestamp: float, zone: str, locale: str) -> str:
    # Keyed by instant AND zone: two aware datetimes of the same instant compare equal, so a
    # datetime key would hand New York's name to a Californian.
    # CLDR has a short name ("PST", "MEZ") only where people use one; otherwise it prints an
    # offset, and an offset is what confuses readers: use the long name then.
    when = dt.datetime.fromtimestamp(timestamp, ZoneInfo(zone))
    short = get_timezone_name(when, "short", locale=locale)
    if not re.search(r"\d", short):
        return short
    return get_timezone_name(when, "long", locale=locale)


def format_when(value: Any, locale: str = "en", timezone: str = "UTC") -> str:
    """A date as the language writes it in full ("20 de noviembre de 2026"); a datetime also
    with the local time and the zone's name, in ``timezone``. Anything else unchanged."""
    if isinstance(value, dt.datetime):
        when = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        local = when.astimezone(ZoneInfo(timezone))
        day = format_date(local.date(), "long", locale=locale)
        label = _zone_label(local.timestamp(), timezone, locale)
        return f"{day}, {format_time(local, 'short', locale=locale)} {label}"
    if isinstance(value, dt.date):
        return str(format_date(value, "long", locale=locale))
    return str(value)


def format_number(value: Any, locale: str = "en") -> str:
    """1234567.5 -> "1,234,567.5" (en), "1.234.567,5" (de, es), "1 234 567,5" (fr)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return str(format_decimal(value, locale=locale))
