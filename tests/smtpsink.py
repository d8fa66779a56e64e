"""A real SMTP server on 127.0.0.1 (aiosmtpd) that records what it receives and can
misbehave on cue: reply codes per recipient, 421 and hang up, slow replies, a
connection dropped after the message data (with the message queued or not), and a relay
that refuses every recipient alike."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Received:
    mail_from: str
    rcpt_to: str
    data: bytes
    at: float = 0.0  # time.monotonic() when it arrived


@dataclass
class Fault:
    """What to do on the next attempt for one recipient."""

    stage: str  # "rcpt" or "data"
    reply: str = ""  # SMTP reply to give, e.g. "451 4.3.0 try later"
    hang_up: bool = False  # close the connection after replying (or instead of replying at DATA)
    delay: float = 0.0  # seconds to wait before replying
    keep: bool = False  # at DATA with hang_up: queue the message first, then drop (the reply is lost)


@dataclass
class SinkHandler:
    received: list[Received] = field(default_factory=list)
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    connections: int = 0
    refuse_all: str = ""  # a reply every RCPT gets (a relay that refuses us; "{rcpt}" is the address)
    data_delay: float = 0.0  # seconds every message takes to be accepted (a slow relay)

    def _next_fault(self, address: str, stage: str) -> Fault | None:
        with self.lock:
            queue = self.faults.get(address.lower())
            if queue and queue[0].stage == stage:
                return queue.pop(0)
        return None

    async def _apply(self, server: SMTP, fault: Fault) -> str | None:
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.hang_up:
            transport = server.transport
            assert transport is not None
            if fault.reply:
                asyncio.get_running_loop().call_later(0.02, transport.close)
            else:
                transport.close()
                return None
        return fault.reply or None

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if self.refuse_all:
            return self.refuse_all.replace("{rcpt}", address)
        fault = self._next_fault(address, "rcpt")
        if fault is not None:
            reply = await self._apply(server, fault)
            if reply and not reply.startswith("2"):
                return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        rcpt = envelope.rcpt_tos[0]
        fault = self._next_fault(rcpt, "data")
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        if fault is not None and fault.keep:
            self._keep(envelope, rcpt)  # the server has the message; its reply will be lost
        if fault is not None:
            reply = await self._apply(server, fault)
            if reply is None or not reply.startswith("2"):
                return reply or "451 4.3.0 connection dropped"
        return f"250 2.0.0 Ok: queued as Q{self._keep(envelope, rcpt):07d}"

    def _keep(self, envelope: Envelope, rcpt: str) -> int:
        content: Any = envelope.original_content or envelope.content
        with self.lock:
            self.received.append(Received(str(envelope.mail_from), rcpt, bytes(content), time.monotonic()))
            return len(self.received)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (and its key), for STARTTLS tests."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


class Sink:
    """Start with ``Sink().start()``; ``url`` is the smtp:// URL notify should use.
    With ``tls_folder`` it offers STARTTLS with a self-signed certificate made there."""

    def __init__(self, tls_folder: Path | None = None) -> None:
        self.handler = SinkHandler()
        self.port = free_port()
        self.cafile: Path | None = None
        kwargs: dict[str, Any] = {}
        if tls_folder is not None:
            cert, key = self_signed(tls_folder)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert, key)
            kwargs["tls_context"] = context
            self.cafile = cert
        self.controller = Controller(
            self.handler,
            hostname="127.0.0.1",
            port=self.port,
            decode_data=False,
            enable_SMTPUTF8=True,
            data_size_limit=10_000_000,
            **kwargs,
        )

    @property
    def url(self) -> str:
        if self.cafile is not None:
            return f"smtp://127.0.0.1:{self.port}?tls=starttls&cafile={self.cafile}&timeout=5"
        return f"smtp://127.0.0.1:{self.port}?tls=none&timeout=5"

    def start(self) -> Sink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def fault(self, address: str, *faults: Fault) -> None:
        with self.handler.lock:
            self.handler.faults.setdefault(address.lower(), []).extend(faults)

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    def by_recipient(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.received:
            counts[r.rcpt_to.lower()] = counts.get(r.rcpt_to.lower(), 0) + 1
        return counts

    def wait_for(self, n: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < n and time.monotonic() < deadline:
            time.sleep(0.02)
