"""The web base both servers stand on (notifier/web/base.py), served by uvicorn on 127.0.0.1 and
spoken to over real sockets: time and size limits, headers on refusals, the Host check."""

from __future__ import annotations

import asyncio
import http.client
import socket
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from notifier.web.base import Guard, Limits, Running, start_in_thread

HEADERS = {"Content-Security-Policy": "frame-ancestors 'none'", "Cache-Control": "no-store"}


async def slow(request: Request) -> Response:
    await asyncio.sleep(5)
    return PlainTextResponse("late")


async def echo(request: Request) -> Response:
    return PlainTextResponse(f"{len(await request.body())} bytes")


def app_for(port: int, *, check_host: bool = True) -> Guard:
    routes = [Route("/slow", slow), Route("/echo", echo, methods=["POST"])]
    return Guard(
        Starlette(routes=routes),
        "127.0.0.1",
        port,
        Limits(max_body=1000, seconds=0.5),
        lambda _: HEADERS,
        check_host=check_host,
    )


@pytest.fixture
def server() -> Iterator[Running]:
    running = start_in_thread(app_for)
    try:
        yield running
    finally:
        running.stop()


def request(
    port: int, method: str, path: str, body: bytes | None = None, host: str = ""
) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(method, path, body=body, headers={"Host": host or f"127.0.0.1:{port}"})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def test_a_request_that_takes_too_long_gets_503_with_the_guards(server: Running) -> None:
    """A page still computing after the time limit is answered 503, with the security headers."""
    response = request(server.port, "GET", "/slow")
    assert response.status == 503
    assert response.headers["Content-Security-Policy"] == "frame-ancestors 'none'"


def test_a_body_streamed_past_the_limit_without_a_length_is_refused(server: Running) -> None:
    """Chunked, with no Content-Length to refuse up front: the bytes are counted as they arrive."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        head = f"POST /echo HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nTransfer-Encoding: chunked\r\n\r\n"
        s.sendall(head.encode())
        chunk = b"x" * 600
        for _ in range(3):
            s.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        s.sendall(b"0\r\n\r\n")
        reply = s.recv(4096).decode()
    assert reply.startswith("HTTP/1.1 413"), reply
    assert request(server.port, "POST", "/echo", b"y" * 900).status == 200  # under the limit


def test_another_host_is_misdirected_unless_the_server_sits_behind_a_proxy() -> None:
    """The preview's check (421 for a rebinding name) is off for `notify serve`, which a TLS
    reverse proxy reaches under its public name."""
    checked = start_in_thread(app_for)
    open_ = start_in_thread(lambda port: app_for(port, check_host=False))
    try:
        assert request(checked.port, "POST", "/echo", b"", host="evil.example").status == 421
        assert request(open_.port, "POST", "/echo", b"", host="notify.example.com").status == 200
    finally:
        checked.stop()
        open_.stop()
