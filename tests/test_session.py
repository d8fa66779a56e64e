"""The SMTP session on a real server on 127.0.0.1: what arrives, and what each failure records."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from notifier.models import Envelope, Outcome, Verdict
from notifier.transports.session import content_for_data
from notifier.transports.smtp import SmtpTransport, parse_smtp_url

from .smtpsink import Fault, Sink

MESSAGE = (
    b"From: a@example.com\r\nTo: b@example.com\r\nSubject: s\r\n\r\n"
    b"first line\r\n.a line starting with a dot\r\n.\r\n..two dots\r\nlast line\r\n"
)


class Server(Sink):
    """The test server, counting connections (EHLOs), optionally offering PIPELINING."""

    def __init__(self, *, pipelining: bool) -> None:
        super().__init__()
        self.ehlos = 0
        self.pipelining = pipelining
        self.handler.handle_EHLO = self._ehlo  # type: ignore[attr-defined]

    async def _ehlo(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.ehlos += 1
        session.host_name = hostname  # what aiosmtpd does itself when no hook is set
        # aiosmtpd hands over its reply lines, the final "250 HELP" included.
        return [*responses[:-1], *(["250-PIPELINING"] if self.pipelining else []), responses[-1]]


@pytest.fixture(params=["one at a time", "pipelined"])
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    """The test server, once as it is and once offering PIPELINING (RFC 2920)."""
    s = Server(pipelining=request.param == "pipelined")
    s.start()
    try:
        yield s
    finally:
        s.stop()


def send_all(url: str, *messages: tuple[str, bytes], connections: int = 1) -> list[Outcome]:
    async def go() -> list[Outcome]:
        transport = SmtpTransport(parse_smtp_url(url), connections=connections)
        await transport.open()
        try:
            return [await transport.send(Envelope("bounces@example.com", to), data) for to, data in messages]
        finally:
            await transport.close()

    return asyncio.run(go())


def test_lines_starting_with_a_dot_arrive_unchanged(server: Server) -> None:
    """Dot-stuffing (RFC 5321 §4.5.2) is applied on the wire and undone by the server: the
    message arrives byte for byte, lone-dot and double-dot lines included."""
    (outcome,) = send_all(server.url, ("b@example.com", MESSAGE))
    assert outcome.accepted
    assert server.received[0].data == MESSAGE


def test_bare_line_feeds_are_sent_as_crlf(server: Server) -> None:
    """A message with bare LF line ends is sent with CRLF, as SMTP requires (RFC 5321 §2.3.8)."""
    (outcome,) = send_all(server.url, ("b@example.com", b"Subject: s\n\nbody\nmore\n"))
    assert outcome.accepted
    assert server.received[0].data == b"Subject: s\r\n\r\nbody\r\nmore\r\n"


def test_a_refused_recipient_is_recorded_with_its_code_and_the_connection_reused(server: Server) -> None:
    """A 550 at RCPT is a permanent failure naming RCPT; the next message goes on the same
    connection, after RSET."""
    server.fault("gone@example.com", Fault("rcpt", "550 5.1.1 no such user"))
    refused, accepted = send_all(server.url, ("gone@example.com", MESSAGE), ("b@example.com", MESSAGE))
    assert (refused.verdict, refused.code, refused.command) == (Verdict.PERMANENT, 550, "RCPT")
    assert refused.text == "5.1.1 no such user"
    assert accepted.accepted
    assert server.ehlos == 1
    assert [r.rcpt_to for r in server.received] == ["b@example.com"]


def test_421_and_hang_up_is_temporary_with_its_code(server: Server) -> None:
    """A relay closing on us with 421 at RCPT: a temporary failure with the 421 kept (not a bare
    'connection lost'), and the next message gets a new connection."""
    server.fault("busy@example.com", Fault("rcpt", "421 4.3.2 shutting down", hang_up=True))
    first, second = send_all(server.url, ("busy@example.com", MESSAGE), ("b@example.com", MESSAGE))
    assert (first.verdict, first.code, first.command) == (Verdict.TEMPORARY, 421, "RCPT")
    assert not first.possibly_delivered
    assert second.accepted


def test_a_connection_lost_after_the_content_is_possibly_delivered(server: Server) -> None:
    """The content went out and the reply never came: temporary, and flagged possibly delivered
    (the server may have queued it), so a resend is reported as a possible duplicate."""
    server.fault("b@example.com", Fault("data", "", hang_up=True, keep=True))
    (outcome,) = send_all(server.url, ("b@example.com", MESSAGE))
    assert outcome.verdict is Verdict.TEMPORARY and outcome.code is None
    assert outcome.command == "DATA" and outcome.possibly_delivered


def test_a_refusal_before_the_content_is_never_possibly_delivered(server: Server) -> None:
    """A slow server past the timeout at RCPT: temporary, and not possibly delivered (no content
    was sent)."""
    server.fault("slow@example.com", Fault("rcpt", delay=2.0))
    (outcome,) = send_all(server.url.replace("timeout=5", "timeout=0.5"), ("slow@example.com", MESSAGE))
    assert outcome.verdict is Verdict.TEMPORARY
    assert "timed out" in outcome.text
    assert not outcome.possibly_delivered


def test_messages_travel_over_starttls(tls_sink: Sink) -> None:
    """After STARTTLS set up by the connection's opening, every message goes over TLS."""
    outcomes = send_all(tls_sink.url, ("b@example.com", MESSAGE), ("c@example.com", MESSAGE))
    assert all(o.accepted for o in outcomes)
    assert [r.data for r in tls_sink.received] == [MESSAGE, MESSAGE]


def test_an_envelope_address_with_a_line_break_is_refused_before_the_wire(server: Server) -> None:
    """CR LF in an envelope address would start a new SMTP command: refused, nothing sent."""
    (outcome,) = send_all(server.url, ("b@example.com>\r\nRCPT TO:<x@example.com", MESSAGE))
    assert not outcome.accepted
    assert server.received == []


def test_content_for_data_stuffs_only_lines_that_start_with_a_dot() -> None:
    """The wire form: CRLF line ends, a dot doubled only at a line's start, the final dot line."""
    assert content_for_data(b"a.b\r\n.c\r\n") == b"a.b\r\n..c\r\n.\r\n"
    assert content_for_data(b".x") == b"..x\r\n.\r\n"
    assert content_for_data(b"a\rb\n.c") == b"a\r\nb\r\n..c\r\n.\r\n"


def test_the_relay_queue_id_is_kept_from_its_acceptance(server: Server) -> None:
    """'250 2.0.0 Ok: queued as Q0000001' records queue id Q0000001 (to trace it in the relay's logs)."""
    (outcome,) = send_all(server.url, ("b@example.com", MESSAGE))
    assert outcome.queue_id == "Q0000001"


def test_pipelining_is_used_when_the_server_offers_it(server: Server) -> None:
    """MAIL, RCPT and DATA go in one write only to a server that offers PIPELINING (RFC 2920)."""

    async def negotiated() -> bool:
        transport = SmtpTransport(parse_smtp_url(server.url), connections=1)
        await transport.open()
        conn = transport._idle.get_nowait()
        transport._idle.put_nowait(conn)  # closed with the others
        try:
            return conn.session.pipelining
        finally:
            await transport.close()

    assert asyncio.run(negotiated()) is server.pipelining
