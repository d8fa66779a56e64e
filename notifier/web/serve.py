"""`notify serve`: the campaign's HTTP endpoint for Amazon SNS delivery notifications.

``POST /sns`` takes SNS messages (configure the SNS subscription with this URL, behind a TLS
reverse proxy when it is reachable from the internet). Each message is verified
(``notifier.bounces.sns``: signature, certificate host, age, topic allowlist) before anything else
happens; subscriptions are confirmed only for allowed topics; SES events are recorded through
the same path as `notify bounces ingest`, keyed by the SNS MessageId, so a redelivery changes
nothing. Answers carry no personal data, and no request is logged with its body or address.

Binds 127.0.0.1 by default.
"""

from __future__ import annotations

import functools
import json
import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from notifier.bounces.ingest import IngestPolicy, IngestReport, record
from notifier.bounces.ses_events import parse_ses_event
from notifier.bounces.sns import SnsError, SnsVerifier
from notifier.errors import NotifierError
from notifier.ledger import Ledger
from notifier.tokens import Tokens
from notifier.web.base import Guard, Limits, bind

__all__ = ["ServeApp", "asgi_app", "make_serve_server"]

log = logging.getLogger("notifier.serve")
_MAX_BODY = 256 * 1024
_WORKERS = 4


@dataclass
class ServeApp:
    ledger: Ledger
    tokens: Tokens
    verifier: SnsVerifier
    policy: IngestPolicy = field(default_factory=IngestPolicy)
    lock: threading.Lock = field(default_factory=threading.Lock)
    counts: dict[str, int] = field(default_factory=dict)
    extra_routes: dict[tuple[str, str], Callable[[ServeApp, str, bytes], tuple[int, str, bytes]]] = field(
        default_factory=dict
    )

    def count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def sns(self, body: bytes) -> tuple[int, str]:
        """Handle one SNS POST; returns (HTTP status, short text with no personal data)."""
        try:
            message = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            self.count("malformed")
            return 400, "not JSON"
        if not isinstance(message, dict):
            return 400, "not an SNS message"
        try:
            self.verifier.verify(message)
        except SnsError as exc:
            self.count("refused")
            log.warning("refused an SNS message: %s", exc)
            return exc.status, f"refused: {exc}"
        kind = message["Type"]
        if kind == "SubscriptionConfirmation":
            try:
                self.verifier.confirm(message)
            except SnsError as exc:
                return exc.status, str(exc)
            self.count("subscribed")
            log.info("confirmed the SNS subscription to %s", message["TopicArn"])
            with self.lock:
                self.ledger.audit("sns.subscribe", {"topic": str(message["TopicArn"])})
            return 200, "subscription confirmed"
        if kind == "UnsubscribeConfirmation":
            log.warning("SNS says the subscription to %s was removed", message["TopicArn"])
            return 200, "noted"
        try:
            event = json.loads(str(message["Message"]))
        except ValueError:
            event = None
        parsed = parse_ses_event(event) if isinstance(event, dict) else None
        if parsed is None:
            self.count("not-ses")
            return 200, "not an SES event: ignored"
        parsed.event_id = str(message["MessageId"])
        report = IngestReport()
        with self.lock:
            new = record(
                self.ledger, self.tokens, body, parsed, f"sns:{parsed.event_id}", report, self.policy
            ).new
            if new:
                self.ledger.audit(
                    "sns.event",
                    {
                        "sns_message_id": parsed.event_id,
                        "kind": parsed.kind,
                        "recipients": report.recipients,
                        "matched": report.matched,
                        "unverified": len(report.unverified),
                        "suppressed": report.suppressed,
                    },
                )
        self.count(parsed.kind if new else "redelivered")
        # Unverified: SNS proves the event came from SES, not which campaign's message it is
        # about (an account may serve several); tied only by address, it changes nothing.
        unmatched = f", {len(report.unmatched)} unmatched" if report.unmatched else ""
        unverified = f", {len(report.unverified)} unverified" if report.unverified else ""
        return 200, (f"recorded {parsed.kind}{unmatched}{unverified}" if new else "already recorded")


_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'",
}


def asgi_app(app: ServeApp, host: str, port: int, limits: Limits | None = None) -> ASGIApp:
    """The ASGI application of `notify serve` bound to ``host:port``: POST /sns and the
    routes added to ``app.extra_routes`` (unsubscribes), behind the shared Guard."""

    def sns(request_body: bytes) -> Response:
        status, text = app.sns(request_body)
        return PlainTextResponse(text + "\n", status)

    limiter: list[anyio.CapacityLimiter] = []

    async def post_sns(request: Request) -> Response:
        body = await request.body()
        # A few worker threads, not the default 40: verifying is mostly CPU under one GIL, and
        # fewer threads leave the event loop the time to read and answer the other connections
        # (a certificate fetch, the one wait, happens once per certificate).
        if not limiter:
            limiter.append(anyio.CapacityLimiter(_WORKERS))
        return await anyio.to_thread.run_sync(_safely, lambda: sns(body), limiter=limiter[0])

    async def other(request: Request) -> Response:
        path, method = request.url.path, request.method
        verb = "GET" if method == "HEAD" else method
        for (route_verb, prefix), handler in app.extra_routes.items():
            if route_verb == verb and path.startswith(prefix):
                body = await request.body() if method == "POST" else b""
                rest = path[len(prefix) :]

                return await run_in_threadpool(_safely, functools.partial(_extra, handler, app, rest, body))
        return PlainTextResponse("not found\n", 404)

    routes = [
        Route("/sns", post_sns, methods=["POST"]),
        Route("/{path:path}", other, methods=["GET", "HEAD", "POST"]),
    ]
    return Guard(
        Starlette(routes=routes),
        host,
        port,
        limits or Limits(_MAX_BODY, 10.0),
        lambda _: _HEADERS,
        check_host=False,  # reached through a TLS reverse proxy under its public name
    )


def _extra(
    handler: Callable[[ServeApp, str, bytes], tuple[int, str, bytes]], app: ServeApp, rest: str, body: bytes
) -> Response:
    status, ctype, out = handler(app, rest, body)
    return Response(out, status, media_type=ctype)


def _safely(compute: Callable[[], Response]) -> Response:
    try:
        return compute()
    except NotifierError as exc:
        return PlainTextResponse(f"error: {exc}\n", 500)


def make_serve_server(
    app: ServeApp, host: str = "127.0.0.1", port: int = 8026
) -> tuple[socket.socket, ASGIApp]:
    """The listening socket and the application for it (run it with web.base.serve_forever)."""
    sock = bind(host, port)
    return sock, asgi_app(app, host, sock.getsockname()[1])
