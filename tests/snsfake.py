"""The Amazon side of SNS, on 127.0.0.1: an HTTPS server (certificate from the test CA) that
serves the signing certificate and answers SubscribeURL visits, and a signer that makes
messages exactly as SNS does (SignatureVersion 1: SHA1withRSA, 2: SHA256withRSA)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import ssl
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from notifier.bounces.sns import SnsTrust, string_to_sign

from .testca import CertAuthority


def _now(age: float = 0.0) -> str:
    at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=age)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


TOPIC = "arn:aws:sns:eu-west-1:123456789012:notifier-ses-events"


class FakeSns:
    def __init__(self, folder: Path) -> None:
        self.ca = CertAuthority(folder)
        self.key, self.cert_pem = self.ca.signing()
        self.confirmations: list[str] = []
        cert, key = self.ca.server("sns")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_GET(self) -> None:
                if self.path.endswith(".pem"):
                    body = fake.cert_pem
                else:
                    fake.confirmations.append(self.path)
                    body = b"<ConfirmSubscriptionResponse/>"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.netloc = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> FakeSns:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    @property
    def trust(self) -> SnsTrust:
        return SnsTrust.for_tests(str(self.ca.ca_file), self.netloc)

    @property
    def cert_url(self) -> str:
        return f"https://{self.netloc}/SimpleNotificationService-test.pem"

    def sign(self, message: dict[str, Any], version: str = "2") -> dict[str, Any]:
        message = dict(
            message, SignatureVersion=version, SigningCertURL=message.get("SigningCertURL") or self.cert_url
        )
        algorithm: hashes.HashAlgorithm = hashes.SHA1() if version == "1" else hashes.SHA256()  # noqa: S303
        signature = self.key.sign(string_to_sign(message), padding.PKCS1v15(), algorithm)
        message["Signature"] = base64.b64encode(signature).decode()
        return message

    def notification(
        self, event: dict[str, Any], *, topic: str = TOPIC, version: str = "2", age: float = 0.0
    ) -> dict[str, Any]:
        return self.sign(
            {
                "Type": "Notification",
                "MessageId": str(uuid.uuid4()),
                "TopicArn": topic,
                "Message": json.dumps(event),
                "Timestamp": _now(age),
                "UnsubscribeURL": f"https://{self.netloc}/?Action=Unsubscribe",
            },
            version,
        )

    def subscription(self, *, topic: str = TOPIC) -> dict[str, Any]:
        return self.sign(
            {
                "Type": "SubscriptionConfirmation",
                "MessageId": str(uuid.uuid4()),
                "Token": "t0k3n",
                "TopicArn": topic,
                "Message": "You have chosen to subscribe to the topic.",
                "SubscribeURL": f"https://{self.netloc}/?Action=ConfirmSubscription&Token=t0k3n",
                "Timestamp": dt.datetime.now(dt.UTC)
                .isoformat(timespec="milliseconds")
                .replace("+00:00", "Z"),
            }
        )
