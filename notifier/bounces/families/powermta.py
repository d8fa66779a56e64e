"""PowerMTA ("Delivery report"): the DSN's X-PowerMTA-BounceCategory field (bad-mailbox,
quota-issues, ...; Sisimai lib/sisimai/lhost/powermta.rb)."""

from __future__ import annotations

import email.message
import re

from notifier.bounces.families.common import header
from notifier.bounces.report import BouncedRecipient

__all__ = ["detect", "read"]

_POWERMTA = {
    "bad-domain": "host_unknown",
    "bad-mailbox": "user_unknown",
    "inactive-mailbox": "suspended",
    "message-expired": "expired",
    "no-answer-from-host": "network",
    "policy-related": "policy",
    "quota-issues": "mailbox_full",
    "routing-errors": "system",
    "spam-related": "spam_detected",
}
_POWERMTA_FIELD = re.compile(r"^X-PowerMTA-BounceCategory:[ \t]*([a-z-]+)", re.I | re.M)


def detect(msg: email.message.Message, body: str) -> bool:
    return header(msg, "Subject").startswith("Delivery report")


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    # The category sits in the recipient's field block, after its Final-Recipient line.
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        text = part.as_string()
        at = text.lower().find(r.address)
        if at < 0:
            continue
        block = text[at:].split("\n\n", 1)[0]
        m = _POWERMTA_FIELD.search(block)
        if m:
            return _POWERMTA.get(m.group(1).lower())
    return None
