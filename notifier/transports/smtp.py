"""``smtp://[user@]host[:port][?tls=starttls|implicit|none]`` through a pool of SMTP connections.

aiosmtplib sets each connection up (connect, EHLO, STARTTLS, AUTH); every message then goes
through our pipelined :class:`~notifier.transports.session.Session` on it.

Security defaults: STARTTLS is required unless ``tls=none`` is given (fail closed,
reference INF-5), certificates are validated, and AUTH is never attempted over a
connection without TLS. The password comes only from ``NOTIFY_SMTP_PASSWORD``.

Every error, aiosmtplib's at set-up and the session's per message, maps to our vocabulary in
one table, :func:`classify`.
"""

from __future__ import annotations

import asyncio
import contextlib
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
from notifier.transports.session import Session, SessionError, content_for_data

__all__ = ["SmtpSettings", "SmtpTransport", "classify", "parse_smtp_url"]

# Most telling first: "2.0.0 Ok: queued as ABC" is queue id ABC, not "queued".
_QUEUE_IDS = tuple(
    re.compile(rf"{lead}\s*<?([A-Za-z0-9._\-@]+)>?", re.I) for lead in ("queued as", "id=", "Ok:?")
)
_TLS_MODES = ("starttls", "implicit", "none")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


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


def classify(exc: BaseException) -> Outcome:
    """The one table from connection and exchange errors to outcomes.

    5xx is permanent and never retried; 4xx, timeouts and dropped connections are temporary.
    Set-up errors come from aiosmtplib (connect, EHLO, STARTTLS, AUTH), per-message ones from
    our :class:`Session` (with the command in progress). Anything else is a bug: re-raised.
    """
    now = time.time()
    if isinstance(exc, SessionError):
        if exc.reply is not None:
            code, text = exc.reply
            return Outcome(_verdict(code), code, text, at=now, command=exc.command)
        # No reply after the whole content went out: the server may have queued it, so the
        # retry is possibly a duplicate.
        lost = Outcome(Verdict.TEMPORARY, None, exc.text, at=now, command=exc.command)
        return replace(lost, possibly_delivered=exc.content_sent)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return Outcome(_verdict(exc.code), exc.code, exc.message, at=now)
    if isinstance(exc, aiosmtplib.SMTPTimeoutError | asyncio.TimeoutError | TimeoutError):
        return Outcome(Verdict.TEMPORARY, None, f"timed out: {exc}", at=now)
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
        return Outcome(Verdict.TEMPORARY, None, f"connection lost: {exc}", at=now)
    if isinstance(exc, aiosmtplib.SMTPConnectError | OSError):
        return Outcome(Verdict.TEMPORARY, None, f"cannot connect: {exc}", at=now)
    if isinstance(exc, aiosmtplib.SMTPException):
        return Outcome(Verdict.TEMPORARY, None, f"SMTP error: {exc}", at=now)
    raise exc


def queue_id(text: str) -> str:
    """The relay's queue id in an acceptance, for tracing a message in its logs ("" if none)."""
    for pattern in _QUEUE_IDS:
        m = pattern.search(text)
        if m:
            return m.group(1)
    return ""


@dataclass(slots=True)
class _Connection:
    """One connection after EHLO: our session on it, and what the server offered."""

    session: Session
    size: bool
    smtputf8: bool


class SmtpTransport:
    throttled = True

    def __init__(self, settings: SmtpSettings, *, connections: int = 4) -> None:
        self.settings = settings
        self.concurrency = connections
        user = f"{settings.username}@" if settings.username else ""
        self.description = f"smtp://{user}{settings.host}:{settings.port} (tls={settings.tls})"
        self._idle: asyncio.Queue[_Connection] = asyncio.Queue()
        self._open = 0
        self._lock = asyncio.Lock()
        self._closing: list[Session] = []  # closed connections, awaited in close()

    def divide(self, connections: int) -> SmtpTransport:
        """A transport of its own for one sending process, with ``connections`` of the budget."""
        return SmtpTransport(self.settings, connections=connections)

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

    def _refused(self, exc: BaseException) -> None:
        """Raise TransportUnavailable for set-up failures that no retry can fix (login, no TLS)."""
        if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
            raise TransportUnavailable(
                f"{self.description}: the server refused our login ({exc.code} {exc.message})",
                hint="check the user in the URL and NOTIFY_SMTP_PASSWORD",
            ) from None
        if isinstance(exc, aiosmtplib.SMTPException) and (
            "STARTTLS" in str(exc) or "start_tls" in str(exc).lower()
        ):
            raise TransportUnavailable(
                f"{self.description}: the server does not offer STARTTLS",
                hint="notify will not send breach notices in clear text; enable TLS on the "
                "relay, or for a local test server only add ?tls=none",
            ) from None

    async def _connect(self) -> _Connection:
        client = self._client()
        try:
            await client.connect()
            await client.ehlo()
        except BaseException as exc:
            client.close()  # a half-open connection must not linger
            self._refused(exc)
            raise
        transport = client.transport
        if not isinstance(transport, asyncio.Transport) or transport.is_closing():
            raise aiosmtplib.SMTPServerDisconnected("the connection closed during set-up")
        # From here on the connection is ours (aiosmtplib's object is dropped, never used again).
        session = Session(
            transport, pipelining=client.supports_extension("pipelining"), timeout=self.settings.timeout
        )
        return _Connection(session, client.supports_extension("size"), client.supports_extension("smtputf8"))

    async def open(self) -> None:
        """Connect once to prove the relay is reachable, TLS works and AUTH succeeds."""
        try:
            conn = await self._connect()
        except TransportUnavailable:
            raise
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise TransportUnavailable(
                f"cannot connect to {self.description}: {exc}",
                hint="is the server running and the URL right? nothing was sent",
            ) from None
        self._open = 1
        self._idle.put_nowait(conn)

    async def _acquire(self) -> _Connection:
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

    def _discard(self, conn: _Connection) -> None:
        self._open -= 1
        self._closing.append(conn.session)
        conn.session.close()

    async def send(self, envelope: Envelope, data: bytes) -> Outcome:
        try:
            conn = await self._acquire()
        except TransportUnavailable:
            raise
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            return classify(exc)
        if envelope.smtputf8 and not conn.smtputf8:
            self._idle.put_nowait(conn)
            text = "server does not support it: SMTPUTF8, needed for an internationalised address"
            return Outcome(Verdict.PERMANENT, None, text, at=time.time(), command="MAIL")
        try:
            reply = await conn.session.transaction(*_envelope(conn, envelope, data), content_for_data(data))
        except SessionError as exc:
            usable = exc.usable and not conn.session.closed
            if usable:
                try:
                    usable = (await conn.session.command(b"RSET")).code == 250  # a clean envelope
                except ConnectionError:
                    usable = False
            if usable:
                self._idle.put_nowait(conn)
            else:
                self._discard(conn)
            return classify(exc)
        self._idle.put_nowait(conn)
        code, text = reply
        return Outcome(Verdict.ACCEPTED, code, text, queue_id=queue_id(text), at=time.time(), command="DATA")

    async def close(self) -> None:
        while not self._idle.empty():
            conn = self._idle.get_nowait()
            self._closing.append(conn.session)
            with contextlib.suppress(ConnectionError):
                await conn.session.command(b"QUIT")
            conn.session.close()
        self._open = 0
        # Wait until every socket is really closed: a TLS close needs a few more turns of the
        # event loop, and a loop that ends first leaves the socket open (ResourceWarning).
        deadline = asyncio.get_running_loop().time() + 1.0
        for session in self._closing:
            await session.wait_closed(deadline)
        self._closing.clear()


def _envelope(conn: _Connection, envelope: Envelope, data: bytes) -> tuple[bytes, bytes]:
    """The MAIL FROM and RCPT TO arguments (RFC 5321 §4.1.1.2-3, SIZE RFC 1870, SMTPUTF8 RFC 6531).

    Our addresses are validated when the list is read; a control character (CR LF would start a
    new command) is refused here once more, whatever the caller passed."""
    if _CONTROL.search(envelope.mail_from) or _CONTROL.search(envelope.rcpt_to):
        raise SessionError("MAIL", None, "an envelope address holds a control character")
    encoding = "utf-8" if envelope.smtputf8 else "ascii"
    mail = b"<" + envelope.mail_from.encode(encoding) + b">"
    if conn.size:
        mail += b" SIZE=" + str(len(data)).encode()
    if envelope.smtputf8:
        mail += b" SMTPUTF8"
    return mail, b"<" + envelope.rcpt_to.encode(encoding) + b">"
