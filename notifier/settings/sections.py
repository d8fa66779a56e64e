"""The tables of notify.toml that need more than a type check: sender, DKIM, ledger, time zone."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from notifier.errors import ConfigError
from notifier.settings.model import Dkim, Sender
from notifier.settings.urls import check_url

__all__ = ["read_dkim", "read_ledger", "read_public_url", "read_sender", "read_timezone"]


def read_ledger(
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


def read_public_url(serve: dict[str, Any], path: str, lines: dict[str, int]) -> str:
    url = str(serve.get("public_url", "")).rstrip("/")
    if url and (not url.startswith("https://") or not url.isascii() or any(c in url for c in ' <>,"')):
        raise ConfigError(
            f"[serve] public_url {url!r} must be a plain https:// URL",
            path=path,
            line=lines.get("serve.public_url"),
            key="serve.public_url",
        )
    return url


def read_sender(cfg: dict[str, Any], path: str, lines: dict[str, int]) -> Sender:
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


def read_timezone(name: str, path: str, lines: dict[str, int]) -> str:
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


def read_dkim(
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
