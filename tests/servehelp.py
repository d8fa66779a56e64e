"""`notify serve`'s server, running in a thread on 127.0.0.1 for a test, with a client."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from notifier.bounces.ingest import IngestPolicy
from notifier.bounces.sns import SnsVerifier
from notifier.ledger import SqliteLedger
from notifier.settings import load
from notifier.tokens import Tokens
from notifier.web.base import start_in_thread
from notifier.web.serve import ServeApp, asgi_app
from notifier.web.unsubscribe import add_unsubscribe_routes

from .conftest import Campaign


class RunningServe:
    def __init__(self, campaign: Campaign, verifier: SnsVerifier, *, unsubscribe: bool = False) -> None:
        self.ledger = SqliteLedger(campaign.root / "ledger.sqlite", shared=True)
        self.tokens = Tokens(self.ledger.secret())
        self.app = ServeApp(self.ledger, self.tokens, verifier, IngestPolicy())
        if unsubscribe:
            add_unsubscribe_routes(self.app, load(campaign.config))
        self.running = start_in_thread(lambda port: asgi_app(self.app, "127.0.0.1", port))
        self.base = self.running.base

    def request(
        self, path: str, body: bytes | None = None, content_type: str = "application/x-www-form-urlencoded"
    ) -> tuple[int, str]:
        request = urllib.request.Request(self.base + path, body, {"Content-Type": content_type})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, exc.read().decode()

    def post(self, message: dict[str, Any] | bytes) -> tuple[int, str]:
        """POST an SNS message (as SNS does: JSON in a text/plain body) to /sns."""
        data = message if isinstance(message, bytes) else json.dumps(message).encode()
        return self.request("/sns", data, "text/plain; charset=UTF-8")

    def close(self) -> None:
        self.running.stop()
        self.ledger.close()
