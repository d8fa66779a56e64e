"""``outbox:PATH``: deliver into a local Maildir, one .eml file per message.

The default transport of a new campaign, so everything works with no server. Files
are created 0600 (they hold personal data) through Maildir's tmp/ -> new/ rename,
so a reader never sees half a message (maildir(5)).
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

from notifier.models import Envelope, Outcome, Verdict

__all__ = ["OutboxTransport"]


class OutboxTransport:
    concurrency = 1
    throttled = False  # a local folder has no rate limits to respect

    def __init__(self, path: Path) -> None:
        self.path = path
        self.description = f"outbox:{path}"
        self._host = socket.gethostname().replace("/", "_").replace(":", "_")
        self._counter = 0

    async def open(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        for sub in ("tmp", "new", "cur"):
            (self.path / sub).mkdir(parents=True, exist_ok=True, mode=0o700)

    def deliver(self, envelope: Envelope, data: bytes) -> str:
        self._counter += 1
        now = time.time()
        name = f"{int(now)}.M{int(now * 1e6) % 1000000}P{os.getpid()}Q{self._counter}.{self._host}"
        tmp = self.path / "tmp" / name
        # Return-Path and Delivered-To record the envelope, as a final MTA would.
        head = f"Return-Path: <{envelope.mail_from}>\r\nDelivered-To: {envelope.rcpt_to}\r\n"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(head.encode("utf-8"))
            fh.write(data)
        os.rename(tmp, self.path / "new" / f"{name}.eml")
        return name

    async def send(self, envelope: Envelope, data: bytes) -> Outcome:
        try:
            name = self.deliver(envelope, data)
        except OSError as exc:
            return Outcome(Verdict.TEMPORARY, None, f"cannot write to the outbox: {exc}", at=time.time())
        return Outcome(
            Verdict.ACCEPTED, 250, f"written to {self.path.name}/new", queue_id=name, at=time.time()
        )

    async def close(self) -> None:
        return None
