"""The console's HTTP side on the shared web base: who gets an answer (token), and how it is sent.

The base (notifier.web.base) checks the Host, limits sizes and times and adds the headers
common to every reply. Here:
- the token: in the URL, or in the cookie a reply to a URL with the token set; the cookie is
  set only in answer to a request that carried the token in its URL, never to a refusal;
- a POST (send a test, approve) must carry the token itself, in the URL or a form field (not
  only the cookie), and, when the browser says where it comes from (Origin, Sec-Fetch-Site),
  come from this console: no other site can make a browser post here (CSRF);
- pages are computed in a worker thread with the application lock held; reading requests and
  writing replies happen on uvicorn's event loop, so a slow client stalls nobody.
"""

from __future__ import annotations

import contextlib
import http.cookies
import secrets
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response as HttpResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Scope

from notifier.web.base import Guard, Limits, Running, bind, start_in_thread
from notifier.web.preview.app import PreviewApp
from notifier.web.preview.replies import Response, answer_get, answer_post, csp, plain_text

__all__ = ["MAX_FORM", "asgi_app", "end_preview_on_signals", "make_server", "start_preview"]

MAX_FORM = 64 * 1024  # the forms are "send a test" and "approve": a few fields
COOKIE = "notify_preview"
_GUARDS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def _base_headers(scope: Scope) -> dict[str, str]:
    # Refusals made by the base (421, 413, 503) carry the same guards as every page.
    return {**_GUARDS, "Content-Security-Policy": csp(False, "")}


def _given_token(request: Request, *, url_only: bool, form: dict[str, str] | None = None) -> str:
    given = request.query_params.get("token", "")
    if not given and form is not None:
        given = form.get("token", "")
    if not given and not url_only:
        cookie = http.cookies.SimpleCookie()
        with contextlib.suppress(http.cookies.CookieError):
            cookie.load(request.headers.get("cookie") or "")
        given = cookie[COOKIE].value if COOKIE in cookie else ""
    return given


def _cross_site(request: Request) -> bool:
    """True when the browser says this request comes from another site (CSRF)."""
    site = request.headers.get("sec-fetch-site", "")
    if site:  # every current browser sends it; it cannot be set by a page's script
        return site not in ("same-origin", "none")
    # Our pages' Referrer-Policy (no-referrer) makes a browser send `Origin: null` even from
    # this console, so only a named origin tells anything.
    origin = request.headers.get("origin", "null")
    return origin != "null" and origin != f"http://{request.headers.get('host', '')}"


def asgi_app(app: PreviewApp, host: str, port: int) -> ASGIApp:
    """The console as an ASGI application for a server bound to ``host:port``."""

    def send(response: Response, *, token_in_url: bool) -> HttpResponse:
        headers = {**_GUARDS, "Content-Security-Policy": csp(response.images, response.nonce)}
        headers.update(response.extra)
        out = HttpResponse(response.body, response.status, headers, media_type=response.content_type)
        if token_in_url and response.status < 400:
            # The cookie only ever goes to a client that showed the token in the URL itself.
            out.set_cookie(COOKIE, app.token, httponly=True, samesite="strict", path="/")
        return out

    def compute(make: Callable[[str], Response]) -> Response:
        nonce = secrets.token_urlsafe(16)
        with app.lock:  # held only while the page is computed, never while talking to the client
            return plain_text(503, "The preview is shutting down.\n") if app.closed else make(nonce)

    def forbidden() -> HttpResponse:
        return send(
            plain_text(403, "Forbidden: open the URL notify preview printed (it carries the token).\n"),
            token_in_url=False,
        )

    def valid(given: str) -> bool:
        return secrets.compare_digest(given.encode(), app.token.encode())

    async def get(request: Request) -> HttpResponse:
        if not valid(_given_token(request, url_only=False)):
            return forbidden()
        path = request.url.path
        query = dict(request.query_params)
        response = await run_in_threadpool(compute, lambda nonce: answer_get(app, path, query, nonce))
        return send(response, token_in_url=valid(request.query_params.get("token", "")))

    async def post(request: Request) -> HttpResponse:
        raw = await request.body()
        form = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
        # The token must come with the request itself (not only the cookie), from this console.
        if not valid(_given_token(request, url_only=True, form=form)) or _cross_site(request):
            return forbidden()
        path = request.url.path
        response = await run_in_threadpool(compute, lambda nonce: answer_post(app, path, form, nonce))
        return send(response, token_in_url=False)

    routes = [
        Route("/{path:path}", get, methods=["GET", "HEAD"]),
        Route("/{path:path}", post, methods=["POST"]),
    ]
    return Guard(
        Starlette(routes=routes),
        host,
        port,
        Limits(max_body=MAX_FORM, seconds=900.0),  # counting a million people takes minutes
        _base_headers,
        misdirected="Misdirected request: this preview answers only to the address it printed "
        "(http://127.0.0.1:PORT or http://localhost:PORT).\n",
    )


def make_server(app: PreviewApp, host: str = "127.0.0.1", port: int = 8025) -> tuple[socket.socket, ASGIApp]:
    """The listening socket and the console for it (run with notifier.web.base.serve_forever)."""
    sock = bind(host, port)
    return sock, asgi_app(app, host, sock.getsockname()[1])


def start_preview(app: PreviewApp, host: str = "127.0.0.1", port: int = 0) -> Running:
    """The console served from a thread (tests, benchmarks)."""
    return start_in_thread(lambda bound: asgi_app(app, host, bound), host, port)


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
