"""`notify serve`: the HTTP endpoint for Amazon SES notifications via SNS (and unsubscribes)."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from collections.abc import Iterator
from typing import TextIO

from notifier.bounces.ingest import ingest_policy
from notifier.bounces.sns import SnsVerifier
from notifier.cli.commands.preview import LOOPBACK
from notifier.cli.options import Subparsers, settings, whole
from notifier.ledger import open_ledger
from notifier.settings import Settings
from notifier.tokens import Tokens
from notifier.web.base import serve_forever
from notifier.web.serve import ServeApp, make_serve_server
from notifier.web.unsubscribe import add_unsubscribe_routes

__all__ = ["register", "serve"]


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "serve",
        help="HTTP endpoint for Amazon SES notifications via SNS",
        description="POST /sns takes SNS notifications (Bounce, Complaint, Delivery, "
        "DeliveryDelay, Reject; both SES formats). Each is verified (signature v1/v2, "
        "certificate only from https sns.<region>.amazonaws.com, recent timestamp, TopicArn "
        "in [serve] sns_topics) and recorded once by its MessageId; subscriptions are "
        "confirmed only for allowed topics. Binds [serve] host/port (127.0.0.1:8026). "
        "SIGTERM or Ctrl-C stops it.",
    )
    p.add_argument("--port", type=whole(0, 65535), help="port (default [serve] port, 8026)")
    p.add_argument("--host", help="bind address (default [serve] host, 127.0.0.1)")


def _warn(current: Settings, host: str) -> None:
    if host not in LOOPBACK:
        sys.stderr.write(
            f"notify: WARNING: listening on {host}; put a TLS reverse proxy in front of it and expose "
            "only /sns (and the unsubscribe paths).\n"
        )
    if not current.sns_topics:
        sys.stderr.write(
            "notify: WARNING: [serve] sns_topics is empty, so every SNS message will be refused; "
            "add the TopicArn(s) your SES configuration publishes to.\n"
        )


@contextlib.contextmanager
def _stop_on_sigterm() -> Iterator[None]:
    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def serve(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    current = settings(args)
    host = args.host or current.serve_host
    port = current.serve_port if args.port is None else args.port
    _warn(current, host)
    ledger = open_ledger(current, shared=True)
    try:
        app = ServeApp(
            ledger,
            Tokens(current.secret or ledger.secret()),
            SnsVerifier(frozenset(current.sns_topics)),
            ingest_policy(current),
        )
        add_unsubscribe_routes(app, current)
        sock, asgi = make_serve_server(app, host, port)
    except BaseException:
        ledger.close()
        raise
    out.write(f"Listening on http://{host}:{sock.getsockname()[1]}/sns (Ctrl-C or SIGTERM stops)\n")
    out.flush()
    try:
        # uvicorn stops on SIGINT/SIGTERM after the requests in flight, then re-raises the
        # signal to the handler it found: Python's KeyboardInterrupt for SIGINT, and ours.
        with _stop_on_sigterm():
            serve_forever(asgi, sock)
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
        ledger.close()
    counts = ", ".join(f"{n} {k}" for k, n in sorted(app.counts.items())) or "nothing"
    out.write(f"Stopped; handled {counts}\n")
    return 0
