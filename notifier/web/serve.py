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

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from notifier.bounces.ingest import IngestPolicy, IngestReport, record
from notifier.bounces.ses_events import parse_ses_event
from notifier.bounces.sns import SnsError, SnsVerifier
from notifier.errors import NotifierError
from notifier.ledger import Ledger
from notifier.tokens import Tokens

__all__ = ["ServeApp", "make_serve_server"]

log = logging.getLogger("notifier.serve")
_MAX_BODY = 256 * 1024


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


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 10

    def log_message(self, format: str, *args: Any) -> None:
        return None  # request lines may carry tokens: nothing personal goes to logs

    def _reply(self, status: int, text: str, content_type: str = "text/plain; charset=utf-8") -> None:
        self._raw(
            status, content_type, (text + ("\n" if content_type.startswith("text/plain") else "")).encode()
        )

    def _raw(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header(
            "Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"
        )
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes | None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > _MAX_BODY:
            self._reply(413, "too large")
            return None
        return self.rfile.read(length)

    def _route(self, method: str) -> None:
        path = urlsplit(self.path).path
        app = self.server.app
        body = b""
        if method == "POST":
            got = self._body()
            if got is None:
                return
            body = got
        try:
            if method == "POST" and path == "/sns":
                status, text = app.sns(body)
                self._reply(status, text)
                return
            for (verb, prefix), handler in app.extra_routes.items():
                if verb == method and path.startswith(prefix):
                    status, ctype, out = handler(app, path[len(prefix) :], body)
                    self._raw(status, ctype, out)
                    return
            self._reply(404, "not found")
        except NotifierError as exc:
            self._reply(500, f"error: {exc}")

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")


class _Server(ThreadingHTTPServer):
    daemon_threads = False
    app: ServeApp


def make_serve_server(app: ServeApp, host: str = "127.0.0.1", port: int = 8026) -> _Server:
    server = _Server((host, port), _Handler)
    server.app = app
    return server
