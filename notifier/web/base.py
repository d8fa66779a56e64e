"""The one web base of `notify preview` and `notify serve`: Starlette routes served by uvicorn.

What both servers get from here, so neither hand-rolls HTTP:
- a Host check (DNS rebinding; the preview's, not serve's, which sits behind a public proxy
  and whose answers carry nothing personal): only the bound address, localhost or, for a wildcard bind, an
  IP literal, each with our port, is answered; anything else gets 421 and nothing more;
- a request size limit (413) enforced on the declared length and on the bytes as they arrive;
- a time limit per request (503 after ``seconds``), so a client that sends its body a byte at a
  time holds nothing: uvicorn reads requests on its event loop, and pages are computed in
  worker threads;
- security headers on every reply, refusals included (CSP with frame-ancestors, nosniff,
  no-referrer, no-store), and no request line or body in any log;
- a server on a socket we bind ourselves (127.0.0.1 by default), so the port is known before
  it starts, run in the foreground (the CLI) or in a thread (tests, benchmarks).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["Guard", "Limits", "Running", "bind", "host_names", "serve_forever", "start_in_thread"]

Headers = Callable[[Scope], Mapping[str, str]]


@dataclass(frozen=True)
class Limits:
    """Request limits: body bytes and seconds from the first byte of a request to its reply."""

    max_body: int = 256 * 1024
    seconds: float = 30.0


def host_names(host: str) -> tuple[frozenset[str], bool]:
    """The names a browser may use for a server bound to ``host``; True for a wildcard bind."""
    wildcard = host in ("", "0.0.0.0", "::")  # noqa: S104 - comparing, not binding
    names = {host.lower().strip("[]"), "localhost"}
    try:
        loopback = ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        loopback = host.lower() == "localhost"
    if loopback:
        names |= {"127.0.0.1", "::1"}
    if wildcard:
        names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
    return frozenset(names), wildcard


@dataclass
class Guard:
    """ASGI middleware around a Starlette app: Host check, size and time limits, headers."""

    app: ASGIApp
    host: str
    port: int
    limits: Limits = field(default_factory=Limits)
    headers: Headers = field(default=lambda scope: {})
    check_host: bool = True  # `notify serve` sits behind a public reverse proxy: any Host
    misdirected: str = "Misdirected request: this server answers only to the address it printed.\n"
    _names: frozenset[str] = frozenset()
    _wildcard: bool = False

    def __post_init__(self) -> None:
        self._names, self._wildcard = host_names(self.host)

    def host_allowed(self, header: str) -> bool:
        """A page of evil.example whose name now points to 127.0.0.1 still sends
        `Host: evil.example`: only our own names (an IP literal, for a wildcard bind) with our
        port are served."""
        name, sep, given_port = header.strip().rpartition(":")
        if not sep or name.endswith(":"):  # no port, or a bare IPv6 literal
            name, given_port = header.strip(), "80"
        if given_port != str(self.port):
            return False
        bare = name.lower().rstrip(".").strip("[]")
        if bare in self._names:
            return True
        if self._wildcard:
            try:
                ipaddress.ip_address(bare)
            except ValueError:
                return False
            return True
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = dict(self.headers(scope))
        host = ""
        length = None
        for k, v in scope["headers"]:
            if k == b"host":
                host = v.decode("latin-1")
            elif k == b"content-length":
                length = v.decode("latin-1")
        if self.check_host and not self.host_allowed(host):
            await plain(send, 421, self.misdirected, extra)
            return
        try:
            declared = int(length) if length is not None else 0
        except ValueError:
            declared = -1
        if declared < 0 or declared > self.limits.max_body:
            await plain(send, 413, "Request too large.\n", extra)
            return
        started = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                have = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k.lower().encode(), v.encode("latin-1"))
                    for k, v in extra.items()
                    if k.lower().encode() not in have
                ]
            await send(message)

        async def handle() -> None:
            # The body is read here, whole and counted as it arrives (a chunked body has no
            # length to refuse up front), then handed to the app: the limits are small.
            body = await _read_body(receive, self.limits.max_body)
            if body is None:
                return  # the client went away
            if body is _TOO_LARGE:
                await plain(send, 413, "Request too large.\n", extra)
                return
            replayed = False

            async def replay() -> Message:
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            await self.app(scope, replay, guarded_send)

        try:
            async with asyncio.timeout(self.limits.seconds):  # no extra task per request
                await handle()
        except TimeoutError:
            if not started:
                await plain(send, 503, "The request took too long.\n", extra)


_TOO_LARGE = b"\0too large"  # a marker, compared by identity


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return _TOO_LARGE
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def plain(send: Send, status: int, text: str, headers: Mapping[str, str]) -> None:
    """A short text reply with the server's security headers."""
    body = text.encode()
    raw = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode("latin-1")) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free one). Raises OSError."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _config(app: ASGIApp, *, keep_alive: float = 5.0) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,  # request lines carry tokens and recipient ids: never logged
        server_header=False,
        date_header=False,
        timeout_keep_alive=int(keep_alive),
        timeout_graceful_shutdown=2,
        h11_max_incomplete_event_size=16 * 1024,  # request line and headers
        lifespan="off",
    )


def serve_forever(app: ASGIApp, sock: socket.socket) -> None:
    """Serve in the foreground until Ctrl-C or SIGTERM (uvicorn finishes the requests in
    flight, then returns)."""
    server = uvicorn.Server(_config(app))
    server.run(sockets=[sock])


@dataclass
class Running:
    """A server running in a thread, with its port; ``stop()`` ends it."""

    server: uvicorn.Server
    thread: threading.Thread
    port: int
    sock: socket.socket

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


def start_in_thread(make_app: Callable[[int], ASGIApp], host: str = "127.0.0.1", port: int = 0) -> Running:
    """Bind, build the app for the bound port, and serve it in a daemon thread (tests, benches)."""
    sock = bind(host, port)
    bound = sock.getsockname()[1]
    server = uvicorn.Server(_config(make_app(bound)))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    return Running(server, thread, bound, sock)
