"""The per-message SMTP exchange on an established connection, pipelined, with no per-byte work.

aiosmtplib sets the connection up (TCP, greeting, EHLO, STARTTLS, AUTH: rare, and where its
well-kept code matters). The hot path, MAIL / RCPT / DATA / content for every message, is
ours: aiosmtplib re-normalises line endings and dot-stuffs each message with two regular
expressions over all of its bytes (14% of a signed message's CPU in profiles), waits for one
reply per command, and cannot read pipelined replies.

- With PIPELINING (RFC 2920) offered, MAIL, RCPT and DATA leave in one write and their three
  replies are read together: two round trips per message instead of four.
- The content is written as it is: our messages are already CRLF (RFC 5321 §2.3.8), and a line
  is dot-stuffed (§4.5.2) only when the message has a line starting with a dot at all, which
  one C-level search finds.
- One timer per round trip (not a ``wait_for`` per reply); a reply that does not come in
  ``timeout`` seconds closes the connection.

Replies are matched to commands in order (§4.1.1 pipelining keeps them in order). Problems come
back as :class:`SessionError` naming the command in progress, never as a library's exception.
"""

from __future__ import annotations

import asyncio
import collections
import re

__all__ = ["Reply", "Session", "SessionError", "content_for_data"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_BARE = re.compile(rb"\r\n|\r|\n")
# Cheapest exact tests on an 11 KB message (re's literal search beats ``in`` for two bytes).
_BARE_LF = re.compile(rb"\n(?<!\r\n)")
_BARE_CR = re.compile(rb"\r(?!\n)")
_DOT_LINE = re.compile(rb"\n\.")
_MAX_REPLY = 64 * 1024  # a reply longer than this is no SMTP reply: drop the connection


class Reply(tuple[int, str]):
    """(code, text) of one SMTP reply; multi-line texts are joined with newlines."""

    __slots__ = ()

    @property
    def code(self) -> int:
        return self[0]

    @property
    def text(self) -> str:
        return self[1]


class SessionError(Exception):
    """The exchange failed at ``command``.

    ``reply`` is the server's answer when it gave one (a refusal), None when the connection was
    lost or timed out. ``content_sent``: the whole message went out and no final reply came, so
    the server may have queued it (a resend is possibly a duplicate). ``usable``: the connection
    can carry the next message (after RSET).
    """

    def __init__(
        self,
        command: str,
        reply: Reply | None,
        text: str,
        *,
        content_sent: bool = False,
        usable: bool = False,
        timed_out: bool = False,
    ) -> None:
        super().__init__(text)
        self.command = command
        self.reply = reply
        self.text = text
        self.content_sent = content_sent
        self.usable = usable
        self.timed_out = timed_out


def content_for_data(message: bytes) -> bytes:
    """The DATA content of ``message``: CRLF line ends, dot-stuffed, with the final ``.`` line.

    Already-CRLF messages without a line starting with ``.`` (every message we build, almost
    always) pass through with three C-level scans and one copy."""
    if _BARE_LF.search(message) or _BARE_CR.search(message):
        message = _BARE.sub(b"\r\n", message)
    if message.startswith(b".") or _DOT_LINE.search(message):
        message = (b"." if message.startswith(b".") else b"") + message.replace(b"\r\n.", b"\r\n..")
    if not message.endswith(b"\r\n"):
        message += b"\r\n"
    return message + b".\r\n"


class Session(asyncio.Protocol):
    """One SMTP connection after EHLO: sends transactions, reads replies in order."""

    def __init__(self, transport: asyncio.Transport, *, pipelining: bool, timeout: float) -> None:
        self.transport = transport
        self.pipelining = pipelining
        self.timeout = timeout
        self._loop = asyncio.get_running_loop()
        self._buffer = bytearray()
        self._waiters: collections.deque[asyncio.Future[Reply]] = collections.deque()
        self._lines: list[str] = []
        self.closed = False
        self._lost: str = ""
        transport.set_protocol(self)

    # ---- asyncio.Protocol -----------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        buf = self._buffer
        buf += data
        if len(buf) > _MAX_REPLY:
            self._fail("the server sent an overlong reply")
            self.transport.abort()
            return
        start = 0
        while True:
            end = buf.find(b"\n", start)
            if end < 0:
                break
            line = bytes(buf[start:end]).rstrip(b"\r")
            start = end + 1
            self._lines.append(line[4:].decode("utf-8", "replace").strip())
            if line[3:4] != b"-":  # the last line of a reply (RFC 5321 §4.2.1)
                lines, self._lines = self._lines, []
                try:
                    code = int(line[:3])
                except ValueError:
                    self._fail(f"not an SMTP reply: {line[:60]!r}")
                    self.transport.abort()
                    return
                self._resolve(Reply((code, "\n".join(lines))))
        del buf[:start]

    def eof_received(self) -> bool:
        self._fail("the server closed the connection")
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(f"connection lost: {exc}" if exc else "the server closed the connection")

    def _resolve(self, reply: Reply) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(reply)
                return
        # A reply nobody asked for (e.g. a 421 between messages): the next exchange sees the close.

    def _fail(self, why: str) -> None:
        self.closed = True
        self._lost = self._lost or why
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(ConnectionError(why))

    # ---- exchanges ------------------------------------------------------------------------

    def _send(self, data: bytes, replies: int) -> list[asyncio.Future[Reply]]:
        if self.closed or self.transport.is_closing():
            raise ConnectionError(self._lost or "the connection is closed")
        futures = [self._loop.create_future() for _ in range(replies)]
        self._waiters.extend(futures)
        self.transport.write(data)
        return futures

    async def _replies(self, futures: list[asyncio.Future[Reply]]) -> list[Reply]:
        """Await ``futures`` under one timer; a timeout closes the connection.
        Raises ConnectionError (the replies that did come are lost: see :meth:`_gather`)."""
        replies, lost = await self._gather(futures)
        if lost is not None:
            raise ConnectionError(lost)
        return replies

    async def _gather(self, futures: list[asyncio.Future[Reply]]) -> tuple[list[Reply], str | None]:
        """The replies that came, in order, and why the rest did not (None: all came)."""
        timer = self._loop.call_later(self.timeout, self._timeout)
        replies: list[Reply] = []
        try:
            for f in futures:
                replies.append(await f)
        except ConnectionError as exc:
            for f in futures:  # the others failed with the same cause: retrieved, not logged
                if f.done() and not f.cancelled():
                    f.exception()
            return replies, str(exc)
        finally:
            timer.cancel()
        return replies, None

    def _timeout(self) -> None:
        self._fail(f"timed out: no reply in {self.timeout:g} s")
        self.transport.abort()

    async def transaction(self, mail: bytes, rcpt: bytes, content: bytes) -> Reply:
        """MAIL FROM ``mail``, RCPT TO ``rcpt``, DATA ``content`` (from :func:`content_for_data`).

        Returns the final reply (2xx). Raises SessionError naming the command that failed: a
        refusal with the server's reply (also when the connection then closed, as after a 421),
        else the loss of the connection at the command whose reply did not come."""
        commands = (b"MAIL FROM:" + mail + b"\r\n", b"RCPT TO:" + rcpt + b"\r\n", b"DATA\r\n")
        names = ("MAIL", "RCPT", "DATA")
        lost: str | None = None
        try:
            if self.pipelining:
                replies, lost = await self._gather(self._send(b"".join(commands), 3))
            else:
                replies = []
                for command in commands:
                    got, lost = await self._gather(self._send(command, 1))
                    replies += got
                    if lost is not None or got[0].code >= 400:
                        break
        except ConnectionError as exc:  # closed before we could write
            raise SessionError("MAIL", None, str(exc)) from None
        for name, reply, ok in zip(names, replies, (250, 250, 354), strict=False):
            if reply.code == 251 and name == "RCPT":
                continue
            if reply.code != ok:
                usable = reply.code != 421 and lost is None
                if usable and name != "DATA" and len(replies) == 3 and replies[2].code == 354:
                    # Every recipient refused but the server opened DATA anyway (RFC 2920 §3.1):
                    # end the empty message; its reply is not ours to record.
                    usable = await self._end_empty()
                raise SessionError(name, reply, reply.text, usable=usable)
        if lost is not None:
            raise SessionError(names[len(replies)], None, lost, timed_out="timed out" in lost)
        try:
            futures = self._send(content, 1)
        except ConnectionError as exc:  # closed after the 354, before a byte of the content left
            raise SessionError("DATA", None, str(exc)) from None
        try:
            (final,) = await self._replies(futures)
        except ConnectionError as exc:
            # The content went out, the reply did not come: it may have been queued.
            raise SessionError(
                "DATA", None, str(exc), content_sent=True, timed_out="timed out" in str(exc)
            ) from None
        if final.code >= 300 or final.code < 200:
            raise SessionError("DATA", final, final.text, usable=final.code != 421)
        return final

    async def _end_empty(self) -> bool:
        try:
            await self._replies(self._send(b".\r\n", 1))
        except ConnectionError:
            return False
        return True

    async def command(self, line: bytes) -> Reply:
        """One command (RSET, NOOP, QUIT) and its reply. Raises ConnectionError."""
        if _CONTROL.search(line.decode("ascii", "replace")):
            raise ValueError("an SMTP command holds a control character")
        return (await self._replies(self._send(line + b"\r\n", 1)))[0]

    def close(self) -> None:
        self.closed = True
        if not self.transport.is_closing():
            self.transport.close()

    async def wait_closed(self, deadline: float) -> None:
        """Until the socket is really closed (a TLS close needs a few turns of the loop)."""
        while not self._lost and self._loop.time() < deadline:
            await asyncio.sleep(0.005)
