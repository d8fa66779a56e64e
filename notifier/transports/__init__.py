"""Transports, chosen by URL: ``outbox:PATH`` or ``smtp://...``."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from notifier.errors import TransportConfigError
from notifier.transports.base import MemoryTransport, Transport
from notifier.transports.outbox import OutboxTransport
from notifier.transports.ses import SesTransport, parse_ses_url
from notifier.transports.smtp import SmtpTransport, parse_smtp_url

__all__ = ["MemoryTransport", "OutboxTransport", "SesTransport", "SmtpTransport", "Transport", "from_url"]


def from_url(
    url: str, *, root: Path, connections: int, helo: str = "", tags: dict[str, str] | None = None
) -> Transport:
    """Build the transport a URL names. Relative outbox paths are relative to ``root``.

    Raises TransportConfigError for an unknown scheme or bad options.
    """
    scheme, colon, rest = url.partition(":")
    if not colon:
        raise TransportConfigError(
            f"transport {url!r} has no scheme",
            hint="use outbox:PATH or smtp://host[:port][?tls=starttls|implicit|none]",
        )
    if scheme == "outbox":
        path = Path(rest)
        return OutboxTransport(path if path.is_absolute() else root / path)
    if scheme == "smtp":
        settings = parse_smtp_url(url)
        if helo and not settings.helo:
            settings = replace(settings, helo=helo)  # [sender] helo, unless the URL names one
        return SmtpTransport(settings, connections=connections)
    if scheme == "ses":
        return SesTransport(parse_ses_url(url), connections=connections, tags=tags)
    raise TransportConfigError(
        f"unknown transport scheme {scheme!r} in {url!r}",
        hint="use outbox:PATH, smtp://host[:port][?tls=starttls|implicit|none] or ses://REGION",
    )
