"""Amazon SES for tests: moto's real server on 127.0.0.1, behind a small HTTP proxy that
can inject the errors SES gives (throttling, rejections, a paused account, dropped
connections) and answer GetAccount, which moto does not implement."""

from __future__ import annotations

import http.client
import json
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from moto.server import ThreadedMotoServer

from .smtpsink import free_port

SEND_PATH = "/v2/email/outbound-emails"


@dataclass
class Fault:
    path: str  # regex on the request path
    status: int = 400
    code: str = ""
    message: str = ""
    drop: bool = False  # close the connection without answering
    lose_reply: bool = False  # pass the request on to SES, then close without its answer


@dataclass
class ProxyState:
    upstream: int
    faults: list[Fault] = field(default_factory=list)
    account: dict[str, Any] | None = None
    send_times: list[float] = field(default_factory=list)
    send_bodies: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def _handle(self) -> None:
        arrived = time.monotonic()
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path == SEND_PATH:
            with state.lock:
                state.send_times.append(arrived)
                state.send_bodies.append(json.loads(body or b"{}"))
        with state.lock:
            fault = next((f for f in state.faults if re.search(f.path, self.path)), None)
            if fault is not None:
                state.faults.remove(fault)
            account = state.account
        if fault is not None and not fault.lose_reply:
            if fault.drop:
                self.close_connection = True
                self.connection.close()
                return
            payload = json.dumps({"__type": fault.code, "message": fault.message}).encode()
            self.send_response(fault.status)
            self.send_header("x-amzn-ErrorType", fault.code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        if self.path == "/v2/email/account" and account is not None:
            payload = json.dumps(account).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        upstream = http.client.HTTPConnection("127.0.0.1", state.upstream, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        upstream.request(self.command, self.path, body=body, headers=headers)
        reply = upstream.getresponse()
        data = reply.read()
        if fault is not None and fault.lose_reply:
            upstream.close()
            self.close_connection = True
            self.connection.close()
            return
        self.send_response(reply.status)
        for k, v in reply.getheaders():
            if k.lower() not in ("content-length", "connection", "transfer-encoding", "server", "date"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        upstream.close()

    do_GET = do_POST = do_PUT = do_DELETE = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: ProxyState


class Ses:
    """moto + proxy. ``endpoint`` is what the ses:// URL's endpoint_url should name."""

    def __init__(self, *, separate_process: bool = False) -> None:
        self.moto_port = free_port()
        # A separate process keeps moto's CPU out of the proxy's timing (for benchmarks).
        self.separate_process = separate_process
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=self.moto_port, verbose=False)
        self._moto_proc: subprocess.Popen[bytes] | None = None
        self.proxy = _Server(("127.0.0.1", 0), _Handler)
        self.proxy.state = ProxyState(self.moto_port)
        self._thread = threading.Thread(target=self.proxy.serve_forever, daemon=True)

    @property
    def state(self) -> ProxyState:
        return self.proxy.state

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.proxy.server_address[1]}"

    def url(self, region: str = "eu-west-1", **options: str) -> str:
        extra = "".join(f"&{k}={v}" for k, v in options.items())
        return f"ses://{region}?endpoint_url={self.endpoint}{extra}"

    def start(self) -> Ses:
        if self.separate_process:
            self._moto_proc = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.moto_port)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", self.moto_port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
        else:
            self.moto.start()
        self._thread.start()
        return self

    def stop(self) -> None:
        self.proxy.shutdown()
        self.proxy.server_close()
        if self._moto_proc is not None:
            self._moto_proc.terminate()
            self._moto_proc.wait(10)
        else:
            self.moto.stop()

    def reset(self) -> None:
        urllib.request.urlopen(
            urllib.request.Request(f"http://127.0.0.1:{self.moto_port}/moto-api/reset", method="POST"),
            timeout=10,
        ).read()
        with self.state.lock:
            self.state.faults.clear()
            self.state.account = None
            self.state.send_times.clear()
            self.state.send_bodies.clear()

    def fault(self, *faults: Fault) -> None:
        with self.state.lock:
            self.state.faults.extend(faults)

    def set_account(
        self,
        *,
        rate: float = 1000,
        max_24h: float = 50000,
        sent: float = 0,
        production: bool = True,
        enabled: bool = True,
    ) -> None:
        with self.state.lock:
            self.state.account = {
                "SendQuota": {"Max24HourSend": max_24h, "MaxSendRate": rate, "SentLast24Hours": sent},
                "SendingEnabled": enabled,
                "ProductionAccessEnabled": production,
            }

    def sent_messages(self) -> list[dict[str, Any]]:
        """What moto holds: every raw message accepted, with its destinations."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.moto_port}/moto-api/data.json", timeout=10) as r:
            data = json.load(r)
        messages: list[dict[str, Any]] = data.get("ses", {}).get("RawMessage", [])
        return messages

    def verify(self, identity: str) -> None:
        import boto3

        client = boto3.client(
            "sesv2", region_name="eu-west-1", endpoint_url=f"http://127.0.0.1:{self.moto_port}"
        )
        client.create_email_identity(EmailIdentity=identity)
