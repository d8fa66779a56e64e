"""The transport boundary: one Protocol, an in-memory double, and URL dispatch."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

from notifier.models import Envelope, Outcome, Verdict

__all__ = ["MemoryTransport", "Transport"]


class Transport(Protocol):
    """Sends one finished message. Per-message problems come back as an Outcome;
    only problems that make the whole transport unusable raise TransportError."""

    description: str  # shown in prompts and reports; never holds a secret
    concurrency: int  # how many sends may be in flight at once
    throttled: bool  # whether [throttle] rates apply (not for a local outbox)

    async def open(self) -> None:
        """Check the transport can be used before anything is claimed. Raises TransportError."""

    async def send(self, envelope: Envelope, data: bytes) -> Outcome:
        """Hand one message over; never raises for a per-message failure."""

    async def close(self) -> None:
        """Finish politely (QUIT) and release resources."""


@dataclass
class MemoryTransport:
    """A test double: keeps every message; ``replies`` scripts outcomes by recipient."""

    description: str = "memory"
    concurrency: int = 1
    throttled: bool = True
    sent: list[tuple[Envelope, bytes]] = field(default_factory=list)
    replies: dict[str, list[tuple[int, str]]] = field(default_factory=dict)

    async def open(self) -> None:
        return None

    async def send(self, envelope: Envelope, data: bytes) -> Outcome:
        script = self.replies.get(envelope.rcpt_to)
        code, text = script.pop(0) if script else (250, "2.0.0 Ok: queued")
        if code < 400:
            self.sent.append((envelope, data))
            return Outcome(Verdict.ACCEPTED, code, text, at=time.time())
        verdict = Verdict.TEMPORARY if code < 500 else Verdict.PERMANENT
        return Outcome(verdict, code, text, at=time.time())

    async def close(self) -> None:
        return None
