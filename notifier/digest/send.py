"""Send the digest to the incident team through ``[digest] transport`` — never the campaign's.

The campaign's mail system may be the breached one (NIST SP 800-61 r2, preparation: separate
and different communication mechanisms; reference notice-channels §8). So the digest has its own
transport URL and, for SMTP, its own password variable (NOTIFY_DIGEST_SMTP_PASSWORD): the
campaign's NOTIFY_SMTP_PASSWORD is never offered to the digest's server.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from notifier.digest.render import render_digest, subject
from notifier.digest.status import DigestData
from notifier.errors import ConfigError, TransportConfigError, UsageError
from notifier.models import Envelope, Rendered
from notifier.render.mime import MessageTemplate
from notifier.settings import Settings
from notifier.settings.digest import DIGEST_PASSWORD_ENV
from notifier.transports import Transport, from_url
from notifier.transports.smtp import SmtpTransport, parse_smtp_url

__all__ = ["Delivery", "digest_transport", "recipients", "send_digest"]


@dataclass(frozen=True, slots=True)
class Delivery:
    address: str
    accepted: bool
    reply: str


def recipients(settings: Settings, to: Sequence[str] = ()) -> list[str]:
    """Whom to send to: each ``--to`` is a list under ``[digest.lists]`` or one address; with no
    --to, ``[digest] to``. Raises UsageError naming the lists when a name is unknown, or when
    there is nobody to send to."""
    chosen: list[str] = []
    for name in (t.strip() for t in to):
        if name in settings.digest.lists:
            chosen += settings.digest.lists[name]
        elif "@" in name and not any(c in name for c in '\r\n<>,;" '):
            chosen.append(name)
        else:
            known = ", ".join(sorted(settings.digest.lists)) or "none yet"
            raise UsageError(
                f"--to {name!r} is neither a list under [digest.lists] nor an email address",
                hint=f'lists: {known}; e.g. [digest.lists] incident-team = ["ciso@example.org"]',
            )
    chosen = chosen or list(settings.digest.to)
    if not chosen:
        raise UsageError(
            "the digest has nobody to go to",
            hint='set [digest] to = ["incident-team@example.org"] in notify.toml, or pass --to',
        )
    return list(dict.fromkeys(chosen))


def digest_transport(settings: Settings, environ: Mapping[str, str] | None = None) -> Transport:
    """The digest's own transport. Raises ConfigError when none is set or it is the campaign's."""
    env = os.environ if environ is None else environ
    url = settings.digest.transport
    if not url:
        raise ConfigError(
            "[digest] transport is not set, so the digest cannot be sent",
            key="digest.transport",
            hint="set [digest] transport to a mail system apart from the campaign's, e.g. "
            'transport = "smtp://alerts@mail.other-provider.example:587" with '
            f"{DIGEST_PASSWORD_ENV} in the environment; or print it: notify digest",
        )
    if url == settings.transport_url and not url.startswith("outbox:"):
        raise ConfigError(
            "[digest] transport is the campaign's own transport",
            key="digest.transport",
            hint="the campaign's mail system may be the breached one: use a separate one for the team",
        )
    if urlsplit(url).scheme != "smtp":
        return from_url(url, root=settings.root, connections=1)
    password = env.get(DIGEST_PASSWORD_ENV, "")
    try:
        parsed = parse_smtp_url(url, {"NOTIFY_SMTP_PASSWORD": password})
    except TransportConfigError as exc:
        message = exc.message.replace("NOTIFY_SMTP_PASSWORD", DIGEST_PASSWORD_ENV)
        hint = exc.hint.replace("NOTIFY_SMTP_PASSWORD", DIGEST_PASSWORD_ENV)
        raise TransportConfigError(f"[digest] transport: {message}", hint=hint) from None
    if settings.sender.helo and not parsed.helo:
        parsed = replace(parsed, helo=settings.sender.helo)
    return SmtpTransport(parsed, connections=1)


def build(settings: Settings, data: DigestData, address: str, *, now: float | None = None) -> bytes:
    rendered = Rendered(
        subject=subject(data), html=render_digest(data, "html"), text=render_digest(data, "text")
    )
    sender = settings.digest.sender or settings.sender.address
    domain = sender.rpartition("@")[2] or "localhost"
    template = MessageTemplate(
        from_header=sender, from_display=f"notify ({settings.campaign})", from_address=sender
    )
    message_id = f"<digest.{int(time.time())}.{secrets.token_hex(8)}@{domain}>"
    return template.build(rendered, to_address=address, to_display="", message_id=message_id, now=now)


def send_digest(
    settings: Settings, data: DigestData, to: Sequence[str], transport: Transport
) -> list[Delivery]:
    """One message per address through ``transport``. Raises TransportError when it cannot be
    used at all; a refused address is reported in its Delivery."""
    sender = settings.digest.sender or settings.sender.address

    async def go() -> list[Delivery]:
        await transport.open()
        out = []
        try:
            for address in to:
                envelope = Envelope(mail_from=sender, rcpt_to=address, smtputf8=False)
                outcome = await transport.send(envelope, build(settings, data, address))
                reply = f"{outcome.code or ''} {outcome.text}".strip()
                out.append(Delivery(address, outcome.accepted, reply))
        finally:
            await transport.close()
        return out

    return asyncio.run(go())
