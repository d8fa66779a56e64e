"""What a bounce, complaint or auto-reply says: the values :func:`notifier.bounces.parse.parse_bounce`
returns (also built from Amazon SES events)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

__all__ = ["BouncedRecipient", "ParsedBounce"]


@dataclass(frozen=True, slots=True)
class BouncedRecipient:
    address: str
    action: str  # failed | delayed | delivered | complaint | ...
    status: str  # enhanced status code, or ""
    reply_code: str
    diagnostic: str
    reason: str
    hard: bool


@dataclass
class ParsedBounce:
    kind: str  # bounce | delay | complaint | auto-reply | delivered | not-bounce
    recipients: list[BouncedRecipient] = field(default_factory=list)
    original_message_id: str = ""
    envelope_to: str = ""  # where the bounce was sent: our VERP address, if it carries one
    feedback_type: str = ""
    provider_id: str = ""  # the sending provider's message id (Amazon SES), when it says
    event_id: str = ""  # the notification's own id (SNS MessageId): redelivery detection
    at: float | None = None  # when it happened, as the report says (Date, SES timestamp)

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "original_message_id": self.original_message_id,
            "envelope_to": self.envelope_to,
            "feedback_type": self.feedback_type,
            "provider_id": self.provider_id,
            "at": self.at,
            "recipients": [dataclasses.asdict(r) for r in self.recipients],
        }
