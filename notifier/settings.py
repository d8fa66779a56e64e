"""notify.toml + environment -> one frozen :class:`Settings`, built once and passed in.

Every key is declared in ``SCHEMA``; an unknown key or a value of the wrong type is a
:class:`~notifier.errors.ConfigError` naming the key and its line. Secrets never come
from the file: SMTP passwords and the token key are read from the environment.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from notifier.errors import ConfigError

__all__ = [
    "BOUNDS",
    "Bounds",
    "Dkim",
    "HEADER_BOUND",
    "SCHEMA",
    "Sender",
    "Settings",
    "Throttle",
    "check_url",
    "load",
    "parse_duration",
    "parse_rate",
]

DEFAULT_CONFIG = "notify.toml"

# A type name per key. "*" stands for any key of a free table.
SCHEMA: dict[str, dict[str, Any]] = {
    "campaign": {"name": "str", "notice": "str", "templates": "str", "timezone": "str"},
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
}


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
    "bounces.soft_threshold": Bounds(1, 100, "a whole number from 1 to 100"),
    "bounces.soft_span": Bounds(0, 365 * _DAY, 'a duration from 0 to "365d"'),
    "serve.port": Bounds(1, 65535, "a port number from 1 to 65535"),
    "schedule.grace": Bounds(0, 365 * _DAY, 'a duration from 0 to "365d"'),
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
    }
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

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


@dataclass(frozen=True, slots=True)
class Throttle:
    rate: float = 50.0  # messages per second, whole campaign
    connections: int = 4
    per_domain: float | None = None  # default per recipient domain, messages per second
    domains: Mapping[str, float] = field(default_factory=dict)
    retry_base: float = 60.0  # first retry after about this long, doubling each time
    retry_max: float = 3600.0  # never wait longer than this between attempts
    retry_window: float = 48 * 3600.0  # give up on a temporary failure after this long
    linger: float = 900.0  # keep a run going for retries due within this long


@dataclass(frozen=True, slots=True)
class Sender:
    address: str  # the From address
    display_name: str
    reply_to: str
    bounce_domain: str
    ips: tuple[str, ...] = ()  # outbound IPs the world sees (for SPF and PTR checks)
    helo: str = ""  # the EHLO name our relay uses

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2].lower()

    @property
    def from_header(self) -> str:
        return f"{self.display_name} <{self.address}>" if self.display_name else self.address


@dataclass(frozen=True, slots=True)
class Dkim:
    domain: str
    selector: str
    key: Path
    ed25519_selector: str = ""
    ed25519_key: Path | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    path: Path
    root: Path
    campaign: str
    notice: str
    timezone: str
    templates_dir: Path
    facts: Mapping[str, Any]
    sender: Sender
    transport_url: str
    throttle: Throttle
    list_files: tuple[Path, ...]
    segments: Mapping[str, str]
    segment_lines: Mapping[str, int]
    ledger_path: Path
    ledger_url: str = ""  # postgresql://user@host/db: a ledger shared by several senders
    lease: float = 30.0  # how long a sender's claim lasts without a heartbeat (PostgreSQL)
    nameservers: tuple[str, ...] = ()
    dns_timeout: float = 5.0
    secret: bytes | None = None
    dkim: Dkim | None = None
    preview_seeds: tuple[str, ...] = ()
    soft_threshold: int = 3  # soft bounces in a row that suppress an address...
    soft_span: float = 86400.0  # ...when spread over at least this long (seconds)
    shared_suppressions: Path | None = None  # a suppression list shared across campaigns
    serve_host: str = "127.0.0.1"
    serve_port: int = 8026
    sns_topics: tuple[str, ...] = ()  # TopicArns whose SNS notifications `notify serve` accepts
    public_url: str = ""  # where `notify serve` is reachable from the internet (unsubscribe links)
    grace: float = 86400.0  # a schedule missed by more than this waits for `notify schedule confirm`
    timezones: Mapping[str, str] = field(default_factory=dict)  # country/region -> IANA zone overrides


def config_path(cli_value: str | None, environ: Mapping[str, str] | None = None) -> Path:
    """``--config`` wins, then ``NOTIFY_CONFIG``, then ./notify.toml."""
    env = os.environ if environ is None else environ
    return Path(cli_value or env.get("NOTIFY_CONFIG") or DEFAULT_CONFIG)


def key_lines(text: str) -> dict[str, int]:
    """Map dotted key paths ("throttle.rate", "segments.eu") to their line numbers.

    tomllib does not report positions, so this light scan of table headers and
    ``key =`` lines lets errors name the line a user has to edit.
    """
    lines: dict[str, int] = {}
    table = ""
    header = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
    assign = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_.\-"' ]+?)\s*=""")
    in_multiline = False
    for number, raw in enumerate(text.splitlines(), start=1):
        if in_multiline:
            if raw.count('"""') % 2 == 1 or raw.count("'''") % 2 == 1:
                in_multiline = False
            continue
        m = header.match(raw)
        if m:
            table = ".".join(p.strip().strip("\"'") for p in m.group(1).split("."))
            lines.setdefault(table, number)
            continue
        m = assign.match(raw)
        if m:
            key = ".".join(p.strip().strip("\"'") for p in m.group(1).split("."))
            lines.setdefault(f"{table}.{key}" if table else key, number)
            rest = raw[m.end() :]
            if rest.count('"""') % 2 == 1 or rest.count("'''") % 2 == 1:
                in_multiline = True
    return lines


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
        texts = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        for text in texts:
            if isinstance(text, str) and key in HEADER_BOUND and _CONTROL.search(text):
                raise ConfigError(
                    f"[{table}] {name} contains a line break or another control character",
                    key=key,
                    hint="it goes into a mail header or SMTP command, so it must be one plain line",
                    **_strip_lines(where),
                )
            if isinstance(text, str) and "\0" in text:
                raise ConfigError(
                    f"[{table}] {name} contains a NUL character", key=key, **_strip_lines(where)
                )
    if kind == "str":
        if not isinstance(value, str):
            raise fail("a string in quotes")
        return value
    if kind == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            raise fail(bounds.text if bounds else "a whole number")
        return _within(value, value, bounds, fail)
    if kind == "float":
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise fail(bounds.text if bounds else "a number")
        return _within(float(value), value, bounds, fail)
    if kind == "bool":
        if not isinstance(value, bool):
            raise fail("true or false")
        return value
    if kind == "list[str]":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise fail('a list of strings, e.g. ["a", "b"]')
        return list(value)
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
    raise AssertionError(f"unknown schema type {kind!r}")


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


def _ledger(
    root: Path, ledger: dict[str, Any], env: Mapping[str, str], path: str, lines: dict[str, int]
) -> tuple[Path, str]:
    """(the SQLite file, the PostgreSQL URL or "") from [ledger] and $NOTIFY_LEDGER / --ledger."""
    file = root / str(ledger.get("path", "ledger.sqlite"))
    url = str(env.get("NOTIFY_LEDGER") or ledger.get("url", ""))
    if url.startswith("sqlite:"):
        return (root / url[len("sqlite:") :] if url[len("sqlite:") :] else file), ""
    if url and not url.startswith(("postgresql://", "postgres://")):
        raise ConfigError(
            f"[ledger] url {url.split('@')[-1]!r} is neither sqlite:PATH nor postgresql://USER@HOST/DB",
            path=path,
            line=lines.get("ledger.url"),
            key="ledger.url",
        )
    if url:
        check_url(url, what="[ledger] url", path=path, line=lines.get("ledger.url"), key="ledger.url")
    if re.match(r"postgres(ql)?://[^/@:]+:[^/@]*@", url):
        raise ConfigError(
            "[ledger] url must not contain a password (notify.toml is not a secret)",
            path=path,
            line=lines.get("ledger.url"),
            key="ledger.url",
            hint="remove it and set PGPASSWORD, or put it in ~/.pgpass (chmod 600)",
        )
    return file, url


def check_url(url: str, *, what: str, path: str = "", line: int | None = None, key: str = "") -> str:
    """``url`` when its port and numeric options are in range and it holds no control
    characters (also percent-encoded ones in options that reach an SMTP command).

    ``what`` names it in the error: "[transport] url" or "--transport". Raises ConfigError.
    """

    def bad(problem: str, hint: str = "") -> ConfigError:
        return ConfigError(f"{what} {_redact(url)!r}: {problem}", path=path, line=line, key=key, hint=hint)

    if _CONTROL.search(url):
        raise bad("contains a line break or another control character", "write the URL on one plain line")
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "postgresql", "postgres") or not parts.netloc:
        return url
    try:
        parts.port  # noqa: B018 -- urllib checks the range when asked
    except ValueError:
        raise bad(
            f"port {parts.netloc.rpartition(':')[2]!r} is not a port number from 1 to 65535",
            "use a port from 1 to 65535, e.g. :587 (STARTTLS) or :465 (TLS)",
        ) from None
    if parts.port == 0:
        raise bad("port 0 is not a port a server listens on", "use a port from 1 to 65535, e.g. :587")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    if any(_CONTROL.search(v) for v in query.values()):
        raise bad("an option holds an encoded line break or control character")
    if parts.scheme == "smtp" and "timeout" in query:
        try:
            timeout = float(query["timeout"])
        except ValueError:
            timeout = math.nan
        if not (math.isfinite(timeout) and 0 < timeout <= 3600):
            raise bad(f"timeout={query['timeout']} must be a number of seconds above 0 and at most 3600")
    return url


def _redact(url: str) -> str:
    """The URL without any password (it should not be there; it must not be echoed either)."""
    return re.sub(r"(://[^/@:]*):[^/@]*@", r"\1:***@", url)


def _public_url(serve: dict[str, Any], path: str, lines: dict[str, int]) -> str:
    url = str(serve.get("public_url", "")).rstrip("/")
    if url and (not url.startswith("https://") or not url.isascii() or any(c in url for c in ' <>,"')):
        raise ConfigError(
            f"[serve] public_url {url!r} must be a plain https:// URL",
            path=path,
            line=lines.get("serve.public_url"),
            key="serve.public_url",
        )
    return url


def _sender(cfg: dict[str, Any], path: str, lines: dict[str, int]) -> Sender:
    sender = cfg.get("sender", {})
    raw_from = sender.get("from")
    if not raw_from:
        raise ConfigError(
            "[sender] from is missing",
            path=path,
            line=lines.get("sender"),
            key="sender.from",
            hint='add  from = "Example Security <security@example.com>"  under [sender]',
        )
    name, address = parseaddr(raw_from)
    if "@" not in address or any(c in raw_from for c in "\r\n"):
        raise ConfigError(
            f"[sender] from {raw_from!r} is not an address",
            path=path,
            line=lines.get("sender.from"),
            key="sender.from",
        )
    domain = address.rpartition("@")[2].lower()
    ips = tuple(sender.get("ips", []))
    for ip in ips:
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            raise ConfigError(
                f"[sender] ips: {ip!r} is not an IP address",
                path=path,
                line=lines.get("sender.ips"),
                key="sender.ips",
            ) from None
    return Sender(
        address=address,
        display_name=name,
        reply_to=sender.get("reply_to", ""),
        bounce_domain=sender.get("bounce_domain", domain).lower(),
        ips=ips,
        helo=sender.get("helo", ""),
    )


def _timezone(name: str, path: str, lines: dict[str, int]) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"[campaign] timezone {name!r} is not a time zone",
            path=path,
            line=lines.get("campaign.timezone"),
            key="campaign.timezone",
            hint='use an IANA name such as "Europe/Berlin" or "America/New_York"',
        ) from None
    return name


def _dkim(
    cfg: dict[str, Any], root: Path, env: Mapping[str, str], path: str, lines: dict[str, int], sender: Sender
) -> Dkim | None:
    """[dkim] with the key path from NOTIFY_DKIM_KEY when set (the key itself never sits in the file)."""
    table = cfg.get("dkim")
    key = env.get("NOTIFY_DKIM_KEY") or (table or {}).get("key")
    if table is None and not key:
        return None
    table = table or {}
    if not key or not table.get("selector"):
        raise ConfigError(
            "[dkim] needs both selector and key (a path to the private key, or NOTIFY_DKIM_KEY)",
            path=path,
            line=lines.get("dkim"),
            key="dkim",
            hint="create one with `notify dkim keygen --domain DOMAIN --selector SELECTOR`",
        )
    ed_key = table.get("ed25519_key")
    if bool(ed_key) != bool(table.get("ed25519_selector")):
        raise ConfigError(
            "[dkim] ed25519_key and ed25519_selector go together",
            path=path,
            line=lines.get("dkim"),
            key="dkim",
        )
    return Dkim(
        domain=table.get("domain", sender.domain).lower(),
        selector=table["selector"],
        key=root / key,
        ed25519_selector=table.get("ed25519_selector", ""),
        ed25519_key=root / ed_key if ed_key else None,
    )


def load(
    path: Path,
    *,
    environ: Mapping[str, str] | None = None,
    transport_override: str | None = None,
) -> Settings:
    """Read ``path`` and the environment into Settings.

    Raises ConfigError naming the file, line and key for anything wrong.
    """
    env = os.environ if environ is None else environ
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"no campaign configuration at {path}",
            hint="run `notify init DIR` to create a campaign, cd into it, "
            "or pass --config PATH (or set NOTIFY_CONFIG)",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise ConfigError(
            f"not valid TOML: {exc}",
            path=str(path),
            line=int(m.group(1)) if m else None,
            hint="check quotes and brackets on that line",
        ) from None
    cfg = validate(raw, text, str(path))
    lines = key_lines(text)
    root = path.resolve().parent
    campaign = cfg.get("campaign", {})
    throttle_cfg = cfg.get("throttle", {})
    if throttle_cfg.get("retry_max", math.inf) < throttle_cfg.get("retry_base", 0):
        raise ConfigError(
            "[throttle] retry_max is shorter than retry_base",
            path=str(path),
            line=lines.get("throttle.retry_max"),
            key="throttle.retry_max",
            hint="retries start after retry_base and double up to retry_max: make retry_max at least as long",
        )
    if transport_override:
        transport_url = check_url(transport_override, what="--transport")
    else:
        transport_url = check_url(
            cfg.get("transport", {}).get("url", "outbox:outbox"),
            what="[transport] url",
            path=str(path),
            line=lines.get("transport.url"),
            key="transport.url",
        )
    throttle = Throttle(
        **{k: v for k, v in throttle_cfg.items() if k != "domains"},
        domains={k.lower(): v for k, v in throttle_cfg.get("domains", {}).items()},
    )
    facts = {
        k: cfg.get(k, {})
        for k in (
            "org",
            "incident",
            "contact",
            "dpo",
            "categories",
            "changes",
            "investigation",
            "final_update",
        )
    }
    ns_env = env.get("NOTIFY_NAMESERVERS", "")
    nameservers = tuple(n.strip() for n in ns_env.split(",") if n.strip()) or tuple(
        cfg.get("dns", {}).get("nameservers", [])
    )
    secret_env = env.get("NOTIFY_SECRET", "")
    if secret_env and len(secret_env) < 32:
        raise ConfigError(
            "NOTIFY_SECRET is shorter than 32 characters",
            hint="use a long random value, e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`",
        )
    files = cfg.get("lists", {}).get("files", [])
    bounces = cfg.get("bounces", {})
    ledger_file, ledger_url = _ledger(root, cfg.get("ledger", {}), env, str(path), lines)
    serve = cfg.get("serve", {})
    sender = _sender(cfg, str(path), lines)
    return Settings(
        path=path,
        root=root,
        campaign=campaign.get("name", root.name),
        timezone=_timezone(campaign.get("timezone", "UTC"), str(path), lines),
        notice=campaign.get("notice", "breach-notice"),
        templates_dir=(root / campaign.get("templates", "templates")),
        facts=facts,
        sender=sender,
        transport_url=transport_url,
        throttle=throttle,
        list_files=tuple(root / f for f in files),
        segments=dict(cfg.get("segments", {})),
        segment_lines={k: lines.get(f"segments.{k}", 0) for k in cfg.get("segments", {})},
        ledger_path=ledger_file,
        ledger_url=ledger_url,
        lease=float(cfg.get("ledger", {}).get("lease", 30.0)),
        nameservers=nameservers,
        dns_timeout=cfg.get("dns", {}).get("timeout", 5.0),
        secret=secret_env.encode() if secret_env else None,
        dkim=_dkim(cfg, root, env, str(path), lines, sender),
        preview_seeds=tuple(cfg.get("preview", {}).get("seeds", [])),
        soft_threshold=max(1, int(bounces.get("soft_threshold", 3))),
        soft_span=float(bounces.get("soft_span", 86400.0)),
        shared_suppressions=(root / bounces["shared_suppressions"])
        if "shared_suppressions" in bounces
        else None,
        serve_host=serve.get("host", "127.0.0.1"),
        serve_port=int(serve.get("port", 8026)),
        sns_topics=tuple(serve.get("sns_topics", [])),
        public_url=_public_url(serve, str(path), lines),
        grace=float(cfg.get("schedule", {}).get("grace", 86400.0)),
        timezones=dict(cfg.get("schedule", {}).get("timezones", {})),
    )
