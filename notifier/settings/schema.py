"""The notify.toml key schema: every key's type, checked and normalised with its line named."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

from notifier.errors import ConfigError
from notifier.settings.bounds import BOUNDS, CONTROL, HEADER_BOUND, Bounds
from notifier.settings.lines import key_lines
from notifier.settings.units import parse_duration, parse_rate

__all__ = ["SCHEMA", "validate"]

# A type name per key. "*" stands for any key of a free table.
SCHEMA: dict[str, dict[str, Any]] = {
    "campaign": {
        "name": "str",
        "notice": "str",
        "templates": "str",
        "timezone": "str",
        "language": "str",  # the default language of notices (render/locale.py)
        # Sign-off (notifier/compliance/approvals.py): send only versions someone approved.
        "require_approval": "bool",
        "approvers": "list[str]",
    },
    "org": {"name": "str", "legal_name": "str", "website": "str"},
    "incident": {
        "reference": "str",
        "occurred": "date",
        "occurred_until": "date",
        "discovered": "datetime",
        "aware": "datetime",
        "determined": "datetime",
        "contained": "datetime",
        "notice_date": "date",
        "law_enforcement_delay": "bool",
        "what_happened": "str",
        "data_categories": "list[str]",
        "likely_consequences": "list[str]",
        "what_we_are_doing": "list[str]",
        "what_you_can_do": "list[str]",
        # Offers and regulators (issue 17): California requires an offer only when the
        # organisation was the source of the breach (CA-08); HIPAA adds HHS to the regulators.
        "we_were_source": "bool",
        "hipaa": "bool",
        "records": "str",  # "about 120,000": regulators ask for an approximate number
    },
    "categories": {"*": "str"},
    # Facts for the follow-up notices (what-we-changed, investigation-complete, final-update).
    "changes": {
        "credentials_reset": "str",
        "two_factor": "str",
        "integrations_reviewed": "str",
        "audit": "str",
        "staff_training": "str",
        "software_updates": "str",
        "other": "list[str]",
    },
    "investigation": {"completed": "date", "findings": "list[str]", "root_cause": "str", "by": "str"},
    "final_update": {"summary": "list[str]", "support_until": "date", "closing": "str"},
    "contact": {"email": "str", "phone": "str", "url": "str", "postal": "str", "hours": "str"},
    "dpo": {"name": "str", "email": "str", "phone": "str", "postal": "str"},
    "sender": {"from": "str", "reply_to": "str", "bounce_domain": "str", "ips": "list[str]", "helo": "str"},
    "dkim": {
        "domain": "str",
        "selector": "str",
        "key": "str",
        "ed25519_selector": "str",
        "ed25519_key": "str",
    },
    "transport": {"url": "str"},
    "throttle": {
        "rate": "rate",
        "connections": "int",
        "per_domain": "rate",
        "domains": {"*": "rate"},
        "retry_base": "duration",
        "retry_max": "duration",
        "retry_window": "duration",
        "linger": "duration",
    },
    "lists": {"files": "list[str]"},
    "segments": {"*": "str"},
    "ledger": {"path": "str", "url": "str", "lease": "duration"},
    "dns": {"nameservers": "list[str]", "timeout": "float"},
    "preview": {"seeds": "list[str]"},
    "bounces": {"soft_threshold": "int", "soft_span": "duration", "shared_suppressions": "str"},
    "serve": {"host": "str", "port": "int", "sns_topics": "list[str]", "public_url": "str"},
    "schedule": {"grace": "duration", "timezones": {"*": "str"}},
    # Notice channels (issue 16): the rules deciding email / letter per person, facts about us
    # they need, and the cost of one letter (for the substitute-notice cost trigger).
    "channels": {"apply": "bool", "rules": "str", "org_facts": "list[str]", "cost_per_letter": "float"},
    # Printed letters (issue 16; notifier/settings/letters.py checks the boxes and lines).
    "letters": {
        "paper": "str",
        "address_box": "str",
        "return_box": "str",
        "return_address": "list[str]",
        "batch_size": "int",
        "workers": "int",
        "home_country": "str",
    },
    # Credit-monitoring offers (notifier/settings/offers.py checks them beyond their types).
    "offers": {
        "*": {
            "vendor": "str",
            "product": "str",
            "months": "int",
            "enrol_by": "date",
            "enrol_days": "int",
            "url": "str",
            "phone": "str",
            "engagement": "str",
            "who": "str",
        }
    },
    # Facts regulator filings ask for that the notice does not (notify regulators draft).
    "regulators": {"lead_authority": "str", "reporter": "str", "reporter_title": "str"},
}
# [digest]: the incident-team digest (notifier/digest; settings/digest.py).
SCHEMA["digest"] = {
    "to": "list[str]",
    "transport": "str",
    "from": "str",
    "codename": "str",
    "lists": {"*": "list[str]"},  # named lists for `notify digest --to NAME`
}
# [translations.<language>.<table>]: the campaign facts in another language, key by key, for the
# notices' language packs (render/notice.py); the same keys and types as the tables themselves.
SCHEMA["translations"] = {
    "*": {
        table: SCHEMA[table]
        for table in (
            "org",
            "incident",
            "categories",
            "contact",
            "dpo",
            "changes",
            "investigation",
            "final_update",
        )
    }
}


def _check(
    value: Any,
    kind: Any,
    key: str,
    where: dict[str, Any],
    *,
    table: str = "",
    bounds: Bounds | None = None,
) -> Any:
    # ``table`` is given for keys of free tables, whose names may hold dots ("gmail.com").
    if table:
        name = key[len(table) + 1 :]
    else:
        table, name = key.rpartition(".")[0] or key, key.rpartition(".")[2]

    def fail(expected: str) -> ConfigError:
        return ConfigError(
            f"[{table}] {name} should be {expected}, not {value!r}",
            key=key,
            **_strip_lines(where),
        )

    if isinstance(kind, dict):
        if not isinstance(value, dict):
            raise fail("a table")
        return _check_table(value, kind, key, where)
    if kind in ("str", "list[str]"):
        _reject_control(value, key, table, name, where)
    if kind == "str":
        if not isinstance(value, str):
            raise fail("a string in quotes")
        return value
    if kind in ("int", "float", "rate", "duration"):
        return _check_number(value, kind, bounds, fail)
    if kind in ("date", "datetime"):
        return _check_when(value, kind, fail)
    if kind == "bool":
        if not isinstance(value, bool):
            raise fail("true or false")
        return value
    if kind == "list[str]":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise fail('a list of strings, e.g. ["a", "b"]')
        return list(value)
    raise AssertionError(f"unknown schema type {kind!r}")


def _reject_control(value: Any, key: str, table: str, name: str, where: dict[str, Any]) -> None:
    """A NUL anywhere, or a line break in a header-bound value, is a ConfigError."""
    texts = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    for text in texts:
        if isinstance(text, str) and key in HEADER_BOUND and CONTROL.search(text):
            raise ConfigError(
                f"[{table}] {name} contains a line break or another control character",
                key=key,
                hint="it goes into a mail header or SMTP command, so it must be one plain line",
                **_strip_lines(where),
            )
        if isinstance(text, str) and "\0" in text:
            raise ConfigError(f"[{table}] {name} contains a NUL character", key=key, **_strip_lines(where))


def _check_number(value: Any, kind: str, bounds: Bounds | None, fail: Callable[[str], ConfigError]) -> Any:
    """An int, float, rate or duration key's value, in its range."""
    if kind == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            raise fail(bounds.text if bounds else "a whole number")
        return _within(value, value, bounds, fail)
    if kind == "float":
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise fail(bounds.text if bounds else "a number")
        return _within(float(value), value, bounds, fail)
    if kind == "rate":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return _within(float(value), value, bounds, fail)  # nan, inf, 0 and -5 get the range
        try:
            return _within(parse_rate(value), value, bounds, fail)
        except ValueError as exc:
            raise fail('a rate such as 50 (per second), "50/s" or "3000/min"') from exc
    if kind == "duration":
        try:
            return _within(parse_duration(value), value, bounds, fail)
        except ValueError as exc:
            raise fail('a duration such as "30s", "15m", "48h" or "7d"') from exc
    raise AssertionError(f"unknown numeric type {kind!r}")


def _check_when(value: Any, kind: str, fail: Callable[[str], ConfigError]) -> Any:
    """A date or datetime key's value; a bare date becomes midnight UTC for a datetime."""
    if kind == "date":
        if isinstance(value, dt.datetime):
            return value.date()
        if not isinstance(value, dt.date):
            raise fail("a date such as 2026-11-20 (no quotes)")
        return value
    if kind == "datetime":
        if isinstance(value, dt.datetime):
            if value.tzinfo is None:
                raise fail("a date and time with its UTC offset, e.g. 2026-11-20T09:30:00+01:00")
            return value
        if isinstance(value, dt.date):
            return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
        raise fail("a date and time such as 2026-11-20T09:30:00+01:00 (no quotes)")
    raise AssertionError(f"unknown date type {kind!r}")


def _within(number: float, value: Any, bounds: Bounds | None, fail: Any) -> Any:
    """``number`` when it lies in ``bounds``; else the ConfigError ``fail`` builds. Every
    numeric key has bounds (a test holds us to it); without, only finiteness is checked."""
    ok = bounds.holds(number) if bounds else not (isinstance(number, float) and not math.isfinite(number))
    if not ok:
        raise fail(bounds.text if bounds else "a finite number")
    return number


def _check_table(
    table: dict[str, Any], schema: dict[str, Any], prefix: str, where: dict[str, Any]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    lines: dict[str, int] = where["lines"]
    for key, value in table.items():
        full = f"{prefix}.{key}" if prefix else key
        line_where = {"path": where["path"], "line": lines.get(full) or lines.get(prefix)}
        kind = schema.get(key, schema.get("*"))
        if kind is None:
            known = ", ".join(k for k in schema if k != "*")
            scope = f"[{prefix}]" if prefix else "notify.toml"
            raise ConfigError(
                f"unknown key {key!r} in {scope}",
                key=full,
                hint=f"known keys there: {known}" if known else "",
                **line_where,
            )
        wild = key not in schema  # a key of a free table such as [throttle.domains]
        bounds = BOUNDS.get(f"{prefix}.*" if wild else full)
        out[key] = _check(
            value, kind, full, {**line_where, "lines": lines}, table=prefix if wild else "", bounds=bounds
        )
    return out


def _strip_lines(where: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in where.items() if k != "lines"}


def validate(data: dict[str, Any], text: str, path: str) -> dict[str, Any]:
    """Check ``data`` (parsed notify.toml) against SCHEMA; return it with values normalised."""
    lines = key_lines(text)
    where: dict[str, Any] = {"path": path, "lines": lines}
    return _check_table(data, SCHEMA, "", where)
