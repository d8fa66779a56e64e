"""The preview's HTTP server: who gets an answer (Host, token), and how it is sent.

The application lock is held only while a page is computed: reading a request and writing
a reply happen outside it, with socket timeouts, so a slow client stalls nobody.
"""

from __future__ import annotations

import contextlib
import http.cookies
import ipaddress
import secrets
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from notifier.web.preview.app import PreviewApp
from notifier.web.preview.replies import Response, answer_get, answer_post, csp, plain_text

__all__ = ["MAX_FORM", "end_preview_on_signals", "make_server"]

MAX_FORM = 64 * 1024  # the only form is "send a test": a few fields


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    # Seconds a connection may sit idle (or between two pieces of a slowly sent request)
    # before its thread gives up. Reading requests happens outside the application lock, so
    # this bounds only the thread, never other clients.
    timeout = 10
    server_version = "notify-preview"  # not the Python version
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        return None  # request lines would carry recipient ids and searches: no personal data in logs

    def _query(self) -> tuple[str, dict[str, str]]:
        parts = urlsplit(self.path)
        return parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()}

    def _refusal(self, query: dict[str, str], *, token_in_url_only: bool) -> Response | None:
        """Why this request gets nothing (wrong Host, no token), or None."""
        if not self.server.host_allowed(self.headers.get("Host") or ""):
            return plain_text(
                421,
                "Misdirected request: this preview answers only to the address it printed "
                "(http://127.0.0.1:PORT or http://localhost:PORT).\n",
            )
        app = self.server.app
        given = query.get("token", "")
        if not token_in_url_only and not given:
            cookie = http.cookies.SimpleCookie()
            with contextlib.suppress(http.cookies.CookieError):
                cookie.load(self.headers.get("Cookie") or "")
            given = cookie["notify_preview"].value if "notify_preview" in cookie else ""
        if not secrets.compare_digest(given.encode(), app.token.encode()):
            return plain_text(403, "Forbidden: open the URL notify preview printed (it carries the token).\n")
        return None

    def _send(self, response: Response, *, set_cookie: bool = False) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Content-Security-Policy", csp(response.images, response.nonce))
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")
        if set_cookie:
            self.send_header(
                "Set-Cookie", f"notify_preview={self.server.app.token}; HttpOnly; SameSite=Strict; Path=/"
            )
        for k, v in response.extra.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # Malformed requests, unknown methods: the same security headers as every page.
        self.close_connection = True
        self._send(plain_text(code, f"{code} {message or self.responses.get(code, ('Error',))[0]}\n"))

    def _serve(self, path: str, query: dict[str, str], compute: Callable[[str], Response]) -> None:
        app = self.server.app
        nonce = secrets.token_urlsafe(16)
        with app.lock:  # held only while the page is computed, never while talking to the client
            response = plain_text(503, "The preview is shutting down.\n") if app.closed else compute(nonce)
        # The cookie only ever goes to a client that showed the token in the URL itself.
        token_in_url = secrets.compare_digest(query.get("token", "").encode(), app.token.encode())
        self._send(response, set_cookie=token_in_url and response.status < 400)

    def do_GET(self) -> None:
        path, query = self._query()
        refused = self._refusal(query, token_in_url_only=False)
        if refused is not None:
            self._send(refused)
            return
        self._serve(path, query, lambda nonce: answer_get(self.server.app, path, query, nonce))

    def do_POST(self) -> None:
        path, query = self._query()
        # The token must come with the request itself (not only the cookie): no cross-site posts.
        refused = self._refusal(query, token_in_url_only=True)
        if refused is None:
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_FORM:
                refused = plain_text(
                    400, f"Bad request: a form of at most {MAX_FORM} bytes, with its length\n"
                )
        if refused is not None:
            self.close_connection = True  # the body, if any, is not read
            self._send(refused)
            return
        # Read before taking the lock: a client sending its body slowly holds only its own thread.
        raw = self.rfile.read(length)
        form = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
        self._serve(path, query, lambda nonce: answer_post(self.server.app, path, form, nonce))


def _host_names(host: str) -> tuple[frozenset[str], bool]:
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


class _Server(ThreadingHTTPServer):
    # Threads, not one loop: browsers open idle speculative connections that would block it.
    # Daemon threads, not joined on close: an idle connection must not delay a stop (SIGTERM)
    # by its timeout; a request still computing holds the lock that close() waits for.
    daemon_threads = True
    block_on_close = False
    app: PreviewApp
    names: frozenset[str]
    any_address: bool

    def host_allowed(self, header: str) -> bool:
        """DNS rebinding defence: a page of evil.example whose name now points to 127.0.0.1
        still sends `Host: evil.example`. Only our own address (an IP literal, for a wildcard
        bind) or localhost, with our port, is served."""
        port = self.server_address[1]
        name, sep, given_port = header.strip().rpartition(":")
        if not sep or name.endswith(":"):  # no port, or a bare IPv6 literal
            name, given_port = header.strip(), "80"
        if given_port != str(port):
            return False
        name = name.lower().rstrip(".")
        bare = name.strip("[]")
        if bare in self.names:
            return True
        if self.any_address:
            try:
                ipaddress.ip_address(bare)
            except ValueError:
                return False
            return True
        return False


def make_server(app: PreviewApp, host: str = "127.0.0.1", port: int = 8025) -> _Server:
    server = _Server((host, port), _Handler)
    server.app = app
    server.names, server.any_address = _host_names(host)
    return server


@contextlib.contextmanager
def end_preview_on_signals() -> Iterator[None]:
    """Within this block SIGTERM and SIGHUP stop the preview as Ctrl-C does (KeyboardInterrupt
    in the main thread), so the `finally` that removes its work folder runs. A second signal
    during the clean-up is ignored rather than cutting it short. (A send run's signals are
    pipeline.ui.stop_on_signals: stop after the messages in flight.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
