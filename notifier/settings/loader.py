"""notify.toml + environment -> one :class:`~notifier.settings.model.Settings`."""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from notifier.errors import ConfigError
from notifier.settings.digest import read_digest
from notifier.settings.letters import read_letters
from notifier.settings.lines import key_lines
from notifier.settings.model import Sender, Settings, Throttle
from notifier.settings.offers import read_offers
from notifier.settings.schema import validate
from notifier.settings.sections import read_dkim, read_ledger, read_public_url, read_sender, read_timezone
from notifier.settings.urls import check_url

__all__ = ["DEFAULT_CONFIG", "config_path", "load"]

DEFAULT_CONFIG = "notify.toml"
# The tables whose contents go to the templates as facts, untouched.
_FACTS = (
    "org",
    "incident",
    "contact",
    "dpo",
    "categories",
    "changes",
    "investigation",
    "final_update",
    "translations",
)


def config_path(cli_value: str | None, environ: Mapping[str, str] | None = None) -> Path:
    """``--config`` wins, then ``NOTIFY_CONFIG``, then ./notify.toml."""
    env = os.environ if environ is None else environ
    return Path(cli_value or env.get("NOTIFY_CONFIG") or DEFAULT_CONFIG)


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
    text = _read(path)
    cfg = validate(_parse(text, path), text, str(path))
    lines = key_lines(text)
    root = path.resolve().parent
    # The order of the checks below is the order a user meets the errors in: keep it.
    throttle = _throttle(cfg.get("throttle", {}), str(path), lines)
    transport_url = _transport(cfg, transport_override, str(path), lines)
    secret = _secret(env)
    ledger = read_ledger(root, cfg.get("ledger", {}), env, str(path), lines)
    sender = read_sender(cfg, str(path), lines)
    return _settings(
        path,
        root,
        cfg,
        env,
        lines,
        throttle=throttle,
        transport_url=transport_url,
        secret=secret,
        ledger=ledger,
        sender=sender,
    )


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"no campaign configuration at {path}",
            hint="run `notify init DIR` to create a campaign, cd into it, "
            "or pass --config PATH (or set NOTIFY_CONFIG)",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None


def _parse(text: str, path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise ConfigError(
            f"not valid TOML: {exc}",
            path=str(path),
            line=int(m.group(1)) if m else None,
            hint="check quotes and brackets on that line",
        ) from None


def _throttle(throttle_cfg: dict[str, Any], path: str, lines: dict[str, int]) -> Throttle:
    if throttle_cfg.get("retry_max", math.inf) < throttle_cfg.get("retry_base", 0):
        raise ConfigError(
            "[throttle] retry_max is shorter than retry_base",
            path=path,
            line=lines.get("throttle.retry_max"),
            key="throttle.retry_max",
            hint="retries start after retry_base and double up to retry_max: make retry_max at least as long",
        )
    return Throttle(
        **{k: v for k, v in throttle_cfg.items() if k != "domains"},
        domains={k.lower(): v for k, v in throttle_cfg.get("domains", {}).items()},
    )


def _transport(cfg: dict[str, Any], override: str | None, path: str, lines: dict[str, int]) -> str:
    if override:
        return check_url(override, what="--transport")
    return check_url(
        cfg.get("transport", {}).get("url", "outbox:outbox"),
        what="[transport] url",
        path=path,
        line=lines.get("transport.url"),
        key="transport.url",
    )


def _secret(env: Mapping[str, str]) -> bytes | None:
    secret_env = env.get("NOTIFY_SECRET", "")
    if secret_env and len(secret_env) < 32:
        raise ConfigError(
            "NOTIFY_SECRET is shorter than 32 characters",
            hint="use a long random value, e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`",
        )
    return secret_env.encode() if secret_env else None


def _nameservers(cfg: dict[str, Any], env: Mapping[str, str]) -> tuple[str, ...]:
    ns_env = env.get("NOTIFY_NAMESERVERS", "")
    return tuple(n.strip() for n in ns_env.split(",") if n.strip()) or tuple(
        cfg.get("dns", {}).get("nameservers", [])
    )


def _settings(
    path: Path,
    root: Path,
    cfg: dict[str, Any],
    env: Mapping[str, str],
    lines: dict[str, int],
    *,
    throttle: Throttle,
    transport_url: str,
    secret: bytes | None,
    ledger: tuple[Path, str],
    sender: Sender,
) -> Settings:
    campaign = cfg.get("campaign", {})
    bounces = cfg.get("bounces", {})
    serve = cfg.get("serve", {})
    return Settings(
        path=path,
        root=root,
        campaign=campaign.get("name", root.name),
        timezone=read_timezone(campaign.get("timezone", "UTC"), str(path), lines),
        notice=campaign.get("notice", "breach-notice"),
        templates_dir=(root / campaign.get("templates", "templates")),
        facts={k: cfg.get(k, {}) for k in _FACTS},
        sender=sender,
        transport_url=transport_url,
        throttle=throttle,
        list_files=tuple(root / f for f in cfg.get("lists", {}).get("files", [])),
        segments=dict(cfg.get("segments", {})),
        segment_lines={k: lines.get(f"segments.{k}", 0) for k in cfg.get("segments", {})},
        ledger_path=ledger[0],
        ledger_url=ledger[1],
        lease=float(cfg.get("ledger", {}).get("lease", 30.0)),
        nameservers=_nameservers(cfg, env),
        dns_timeout=cfg.get("dns", {}).get("timeout", 5.0),
        secret=secret,
        dkim=read_dkim(cfg, root, env, str(path), lines, sender),
        preview_seeds=tuple(cfg.get("preview", {}).get("seeds", [])),
        soft_threshold=max(1, int(bounces.get("soft_threshold", 3))),
        soft_span=float(bounces.get("soft_span", 86400.0)),
        shared_suppressions=(root / bounces["shared_suppressions"])
        if "shared_suppressions" in bounces
        else None,
        serve_host=serve.get("host", "127.0.0.1"),
        serve_port=int(serve.get("port", 8026)),
        sns_topics=tuple(serve.get("sns_topics", [])),
        public_url=read_public_url(serve, str(path), lines),
        grace=float(cfg.get("schedule", {}).get("grace", 86400.0)),
        timezones=dict(cfg.get("schedule", {}).get("timezones", {})),
        channels=dict(cfg.get("channels", {})),
        require_approval=bool(campaign.get("require_approval", False)),
        approvers=tuple(campaign.get("approvers", [])),
        offers=read_offers(cfg, str(path), lines),
        regulators=dict(cfg.get("regulators", {})),
        letters=read_letters(cfg, str(path), lines),
        language=str(campaign.get("language", "")),
        digest=read_digest(cfg, str(path), lines),
    )
