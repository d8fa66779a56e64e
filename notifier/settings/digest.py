"""``[digest]`` in notify.toml: whom the incident-team digest goes to, and through which
transport — one configured apart from the campaign's, because the campaign's own mail system
may be the breached one (NIST SP 800-61 r2 preparation: "multiple separate and different
communication mechanisms"; reference notice-channels §8)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from email_validator import EmailNotValidError, validate_email

from notifier.errors import ConfigError
from notifier.settings.urls import check_url

__all__ = ["DIGEST_PASSWORD_ENV", "DigestSettings", "read_digest"]

# The digest transport's SMTP password: its own variable, never the campaign's.
DIGEST_PASSWORD_ENV = "NOTIFY_DIGEST_SMTP_PASSWORD"  # noqa: S105 - a variable's name, not a secret


@dataclass(frozen=True, slots=True)
class DigestSettings:
    to: tuple[str, ...] = ()  # the incident team's addresses
    transport: str = ""  # URL; empty: the digest can be rendered but not sent
    sender: str = ""  # From; empty: [sender] from
    codename: str = ""  # the incident's codename for the subject (PagerDuty: keep to it)
    lists: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # [digest.lists]: --to NAME


def read_digest(cfg: dict[str, Any], path: str, lines: dict[str, int]) -> DigestSettings:
    """The [digest] table (types already checked by the schema). Raises ConfigError."""
    table = cfg.get("digest", {})
    to = _addresses(table.get("to", []), "digest.to", path, lines)
    named = {
        name: tuple(_addresses(values, f"digest.lists.{name}", path, lines))
        for name, values in table.get("lists", {}).items()
    }
    transport = table.get("transport", "")
    if transport:
        transport = check_url(
            transport,
            what="[digest] transport",
            path=path,
            line=lines.get("digest.transport"),
            key="digest.transport",
        )
    return DigestSettings(
        to=tuple(to),
        transport=transport,
        sender=table.get("from", ""),
        codename=table.get("codename", ""),
        lists=named,
    )


def _addresses(values: list[str], key: str, path: str, lines: dict[str, int]) -> list[str]:
    out = []
    for address in values:
        try:
            out.append(validate_email(address, check_deliverability=False).normalized)
        except EmailNotValidError as exc:
            raise ConfigError(
                f"[{key.rpartition('.')[0]}] {key.rpartition('.')[2]}: {address!r} is not an email address "
                f"({exc})",
                path=path,
                line=lines.get(key),
                key=key,
            ) from None
    return out
