"""Aol Mail's own relay (an X-AOL-IP header on the report): its Postfix says "Host or domain name
not found" for a domain that does not exist, and a malformed answer to the MX lookup means the
domain takes no mail (Sisimai lib/sisimai/lhost/aol.rb MessagesOf, in its order)."""

from __future__ import annotations

import email.message

from notifier.bounces.families.common import lines_about
from notifier.bounces.families.verdicts import final
from notifier.bounces.report import BouncedRecipient

__all__ = ["detect", "read"]

_MESSAGES = (
    ("host_unknown", "Host or domain name not found"),
    ("not_accept", "type=MX: Malformed or unexpected name server reply"),
)


def detect(msg: email.message.Message, body: str) -> bool:
    return msg.get("X-AOL-IP") is not None


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    text = f"{r.diagnostic}\n{lines_about(body, r.address)}"
    return final(next((reason for reason, said in _MESSAGES if said in text), None), r, text)
