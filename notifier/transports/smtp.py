"""``smtp://[user@]host[:port][?tls=starttls|implicit|none]`` through a pool of aiosmtplib connections.

Security defaults: STARTTLS is required unless ``tls=none`` is given (fail closed,
reference INF-5), certificates are validated, and AUTH is never attempted over a
connection without TLS. The password comes only from ``NOTIFY_SMTP_PASSWORD``.

Every aiosmtplib error maps to our vocabulary in one table, :func:`classify`.
"""

from __future__ import annotations

import asyncio
import os
import re
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from notifier.errors import TransportConfigError, TransportUnavailable
from notifier.models import Envelope, Outcome, Verdict

__all__ = ["SmtpSettings", "SmtpTransport", "classify", "parse_smtp_url"]

_QUEUE_ID = re.compile(r"(?:queued as|id=|Ok:?)\s*<?([A-Za-z0-9._\-@]+)>?", re.I)
_TLS_MODES = ("starttls", "implicit", "none")


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int
    tls: str
    username: str | None
    password: str | None
    timeout: float
    helo: str | None
    cafile: str | None


def parse_smtp_url(url: str, environ: Mapping[str, str] | None = None) -> SmtpSettings:
    """Parse an smtp:// URL. Raises TransportConfigError with what to change."""
    env = os.environ if environ is None else environ
    parts = urlsplit(url)
    if parts.password:
        raise TransportConfigError(
            "the SMTP URL contains a password",
            hint="remove it from the URL and set NOTIFY_SMTP_PASSWORD in the environment instead",
        )
    if not parts.hostname:
        raise TransportConfigError(f"{url!r}: no host", hint="e.g. smtp://relay.example.com:587")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    unknown = set(query) - {"tls", "timeout", "helo", "cafile"}
    if unknown:
        raise TransportConfigError(
            f"{url!r}: unknown option(s) {', '.join(sorted(unknown))}",
            hint="known: tls=starttls|implicit|none, timeout=SECONDS, helo=NAME, cafile=PATH",
        )
    tls = query.get("tls", "starttls")
    if tls not in _TLS_MODES:
        raise TransportConfigError(f"tls={tls!r}: use one of {', '.join(_TLS_MODES)}")
    username = unquote(parts.username) if parts.username else None
    password = env.get("NOTIFY_SMTP_PASSWORD") or None
    if username and not password:
        raise TransportConfigError(
            f"the SMTP URL names user {username!r} but NOTIFY_SMTP_PASSWORD is not set",
            hint="export NOTIFY_SMTP_PASSWORD=... before running notify",
        )
    if (username or password) and tls == "none":
        raise TransportConfigError(
            "refusing to send an SMTP password over a connection without TLS",
            hint="use tls=starttls (the default) or tls=implicit",
        )
    default_port = {"starttls": 587, "implicit": 465, "none": 25}[tls]
    try:
        port = parts.port or default_port
        timeout = float(query.get("timeout", "30"))
    except ValueError as exc:
        raise TransportConfigError(f"{url!r}: {exc}") from None
    return SmtpSettings(
        host=parts.hostname,
        port=port,
        tls=tls,
        username=username,
        password=password if username else None,
        timeout=timeout,
        helo=query.get("helo"),
        cafile=query.get("cafile"),
    )


def _verdict(code: int) -> Verdict:
    if 200 <= code < 400:
        return Verdict.ACCEPTED
    return Verdict.TEMPORARY if code < 500 else Verdict.PERMANENT


def classify(exc: BaseException) -> tuple[Outcome, bool]:
    """The one table from aiosmtplib errors to outcomes.

    Returns (outcome, connection_still_usable). 5xx is permanent and never retried;
    4xx, timeouts and dropped connections are temporary.
    """
    now = time.time()
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        first = exc.recipients[0]
        return Outcome(_verdict(first.code), first.code, first.message, at=now), True
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        return Outcome(Verdict.PERMANENT, None, f"server does not support it: {exc}", at=now), True
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        # 421 means the server is closing the channel (RFC 5321 §3.8).
        return Outcome(_verdict(exc.code), exc.code, exc.message, at=now), exc.code != 421
    if isinstance(exc, aiosmtplib.SMTPTimeoutError | asyncio.TimeoutError | TimeoutError):
        return Outcome(Verdict.TEMPORARY, None, f"timed out: {exc}", at=now), False
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
        return Outcome(Verdict.TEMPORARY, None, f"connection lost: {exc}", at=now), False
    if isinstance(exc, aiosmtplib.SMTPConnectError | OSError):
        return Outcome(Verdict.TEMPORARY, None, f"cannot connect: {exc}", at=now), False
    if isinstance(exc, aiosmtplib.SMTPException):
        return Outcome(Verdict.TEMPORARY, None, f"SMTP error: {exc}", at=now), False
    raise exc


def queue_id(text: str) -> str:
    m = _QUEUE_ID.search(text)
    return m.group(1) if m else ""


class SmtpTransport:
    throttled = True

    def __init__(self, settings: SmtpSettings, *, connections: int = 4) -> None:
        self.settings = settings
        self.concurrency = connections
        user = f"{settings.username}@" if settings.username else ""
        self.description = f"smtp://{user}{settings.host}:{settings.port} (tls={settings.tls})"
        self._idle: asyncio.Queue[aiosmtplib.SMTP] = asyncio.Queue()
        self._open = 0
        self._lock = asyncio.Lock()
        self._closing: list[object] = []  # protocols of closed connections, awaited in close()

    def _client(self) -> aiosmtplib.SMTP:
        s = self.settings
        context = None
        if s.tls != "none":
            context = ssl.create_default_context(cafile=s.cafile)
        return aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            username=s.username,
            password=s.password,
            local_hostname=s.helo,
            timeout=s.timeout,
            use_tls=s.tls == "implicit",
            start_tls=s.tls == "starttls",
            tls_context=context,
        )

    async def _connect(self) -> aiosmtplib.SMTP:
        client = self._client()
        try:
            await client.connect()
            await client.ehlo()
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise TransportUnavailable(
                f"{self.description}: the server refused our login ({exc.code} {exc.message})",
                hint="check the user in the URL and NOTIFY_SMTP_PASSWORD",
            ) from None
        except aiosmtplib.SMTPException as exc:
            if "STARTTLS" in str(exc) or "start_tls" in str(exc).lower():
                raise TransportUnavailable(
                    f"{self.description}: the server does not offer STARTTLS",
                    hint="notify will not send breach notices in clear text; enable TLS on the "
                    "relay, or for a local test server only add ?tls=none",
                ) from None
            raise
        return client

    async def open(self) -> None:
        """Connect once to prove the relay is reachable, TLS works and AUTH succeeds."""
        try:
            client = await self._connect()
        except TransportUnavailable:
            raise
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise TransportUnavailable(
                f"cannot connect to {self.description}: {exc}",
                hint="is the server running and the URL right? nothing was sent",
            ) from None
        self._open = 1
        self._idle.put_nowait(client)

    async def _acquire(self) -> aiosmtplib.SMTP:
        try:
            return self._idle.get_nowait()
        except asyncio.QueueEmpty:
            pass
        async with self._lock:
            if self._open < self.concurrency:
                self._open += 1
                try:
                    return await self._connect()
                except BaseException:
                    self._open -= 1
                    raise
        return await self._idle.get()

    def _discard(self, client: aiosmtplib.SMTP) -> None:
        self._open -= 1
        self._closing.append(client.protocol)
        client.close()

    async def send(self, envelope: Envelope, data: bytes) -> Outcome:
        try:
            client = await self._acquire()
        except TransportUnavailable:
            raise
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            outcome, _ = classify(exc)
            return outcome
        stage: list[str] = [""]  # the command in progress, set by _transaction
        try:
            reply = await self._transaction(client, envelope, data, stage)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            outcome, usable = classify(exc)
            # No reply after DATA: the server may have received the whole message and queued
            # it before the connection died, so the retry is possibly a duplicate. (aiosmtplib
            # sends DATA and the content in one call, so a drop before the 354 counts too:
            # "possibly" errs on the side of telling.)
            outcome = replace(
                outcome,
                command=stage[0],
                possibly_delivered=stage[0] == "DATA" and outcome.code is None,
            )
            if usable and client.is_connected:
                try:
                    await client.rset()  # a clean envelope for the next message
                except (aiosmtplib.SMTPException, OSError, TimeoutError):
                    usable = False
            if usable and client.is_connected:
                self._idle.put_nowait(client)
            else:
                self._discard(client)
            return outcome
        self._idle.put_nowait(client)
        return Outcome(
            Verdict.ACCEPTED,
            reply.code,
            reply.message,
            queue_id=queue_id(reply.message),
            at=time.time(),
            command="DATA",
        )

    @staticmethod
    async def _transaction(
        client: aiosmtplib.SMTP, envelope: Envelope, data: bytes, stage: list[str]
    ) -> aiosmtplib.SMTPResponse:
        """MAIL, RCPT, DATA for one recipient; ``stage[0]`` names the command in progress.

        aiosmtplib's sendmail() re-parses both addresses with the stdlib address parser on
        every message (a quarter of the sender's CPU in profiles); ours are already
        validated and cannot hold control characters, which execute_command refuses anyway.
        """
        encoding = "utf-8" if envelope.smtputf8 else "ascii"
        options = [b"SIZE=" + str(len(data)).encode()] if client.supports_extension("size") else []
        if envelope.smtputf8:
            if not client.supports_extension("smtputf8"):
                raise aiosmtplib.SMTPNotSupported("SMTPUTF8, needed for an internationalised address")
            options.append(b"SMTPUTF8")
        stage[0] = "MAIL"
        reply = await client.execute_command(
            b"MAIL", b"FROM:<" + envelope.mail_from.encode(encoding) + b">", *options
        )
        if reply.code != 250:
            raise aiosmtplib.SMTPSenderRefused(reply.code, reply.message, envelope.mail_from)
        stage[0] = "RCPT"
        reply = await client.execute_command(b"RCPT", b"TO:<" + envelope.rcpt_to.encode(encoding) + b">")
        if reply.code not in (250, 251):
            raise aiosmtplib.SMTPRecipientRefused(reply.code, reply.message, envelope.rcpt_to)
        stage[0] = "DATA"
        return await client.data(data)

    async def close(self) -> None:
        while not self._idle.empty():
            client = self._idle.get_nowait()
            self._closing.append(client.protocol)
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                client.close()
        self._open = 0
        # Wait until every socket is really closed: a TLS close needs a few more turns of the
        # event loop, and a loop that ends first leaves the socket open (ResourceWarning).
        deadline = time.monotonic() + 1.0
        for protocol in self._closing:
            # aiosmtplib's protocol drops its transport in connection_lost.
            while getattr(protocol, "transport", None) is not None and time.monotonic() < deadline:
                await asyncio.sleep(0.005)
        self._closing.clear()
