"""``[offers.NAME]``: credit-monitoring / identity-protection offers, checked beyond their types.

Each offer names the vendor's product, how long it runs, how people enrol (URL, phone, the
engagement number the vendor's call centre asks for) and until when: ``enrol_by`` (a date) or
``enrol_days`` (days after the notice date). Reference: notice-channels §4.2.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from notifier.errors import ConfigError
from notifier.settings.bounds import BOUNDS

__all__ = ["OFFER_WHO", "Offer", "read_offers"]

OFFER_WHO = ("required", "everyone")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


@dataclass(frozen=True, slots=True)
class Offer:
    """One offer of the campaign. ``who``: "required" (the people the rules say must get one,
    notifier/compliance/rules/offers.toml) or "everyone" (every recipient of a legal notice)."""

    name: str
    vendor: str
    product: str
    months: int
    url: str
    phone: str = ""
    engagement: str = ""
    enrol_by: dt.date | None = None
    enrol_days: int | None = None
    who: str = "required"

    def enrol_by_for(self, notice_date: dt.date) -> dt.date:
        """The last day a code works: the fixed date, or ``enrol_days`` after the notice."""
        if self.enrol_by is not None:
            return self.enrol_by
        return notice_date + dt.timedelta(days=self.enrol_days or 0)


def read_offers(cfg: Mapping[str, Any], path: str, lines: Mapping[str, int]) -> dict[str, Offer]:
    """Every ``[offers.NAME]`` table as an Offer, in file order. Raises ConfigError naming the
    offer, key and line for a missing or impossible value."""
    out: dict[str, Offer] = {}
    for name, table in cfg.get("offers", {}).items():
        out[name] = _offer(name, table, path, lines)
    return out


def _offer(name: str, table: Mapping[str, Any], path: str, lines: Mapping[str, int]) -> Offer:
    def fail(message: str, key: str = "", hint: str = "") -> ConfigError:
        full = f"offers.{name}.{key}" if key else f"offers.{name}"
        return ConfigError(
            f"[offers.{name}] {message}",
            path=path,
            line=lines.get(full) or lines.get(f"offers.{name}"),
            key=full,
            hint=hint,
        )

    if not _NAME.match(name):
        raise fail(
            "is not a usable offer name",
            hint="use lower-case letters, digits, - and _, e.g. [offers.experian-12m]",
        )
    missing = [k for k in ("vendor", "product", "months", "url") if k not in table or table[k] == ""]
    if missing:
        raise fail(
            f"needs {', '.join(missing)}",
            hint='e.g. vendor = "Experian", product = "IdentityWorks", months = 24, '
            'url = "https://www.experianidworks.com/credit"',
        )
    for key in ("months", "enrol_days"):
        bounds = BOUNDS[f"offers.*.{key}"]
        if key in table and not bounds.holds(table[key]):
            raise fail(f"{key} should be {bounds.text}, not {table[key]!r}", key)
    if ("enrol_by" in table) == ("enrol_days" in table):
        raise fail(
            "needs exactly one of enrol_by (a date) and enrol_days (days after the notice date)",
            hint="the notice must say until when the code works, e.g. enrol_days = 90",
        )
    url = str(table["url"])
    if not url.startswith("https://") or any(c.isspace() or c in '<>"' for c in url):
        raise fail(f"url {url!r} must be a plain https:// address", "url")
    who = table.get("who", "required")
    if who not in OFFER_WHO:
        raise fail(f"who should be one of {', '.join(OFFER_WHO)}, not {who!r}", "who")
    enrol_by = table.get("enrol_by")
    return Offer(
        name=name,
        vendor=str(table["vendor"]),
        product=str(table["product"]),
        months=int(table["months"]),
        url=url,
        phone=str(table.get("phone", "")),
        engagement=str(table.get("engagement", "")),
        enrol_by=enrol_by if isinstance(enrol_by, dt.date) else None,
        enrol_days=int(table["enrol_days"]) if "enrol_days" in table else None,
        who=str(who),
    )
