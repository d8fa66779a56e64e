"""Aol Mail's own relay (an X-AOL-IP header on the report): its Postfix says "Host or domain name
not found" for a domain that does not exist, and a malformed answer to the MX lookup means the
domain takes no mail (Sisimai lib/sisimai/lhost/aol.rb MessagesOf, in its order).

Aol's older "Mail Delivery Problem" notice (from MAILER-DAEMON@aol.com, written by Exchange)
names screen names, not addresses: "Your mail to the following recipients could not be delivered
because they are not accepting mail from <sender>:" (or "... with attachments or embedded
images:"), then one indented screen name per line. A screen name is its @aol.com address, as
Mailman's flufl.bounce and Perl's Mail::DeliveryStatus::BounceParser read it; the refusal is the
recipient's own setting: filtered, soft (Sisimai's Filtered table has Aol's "only accepting mail
from specific email addresses")."""

from __future__ import annotations

import dataclasses
import email.message
import re

from notifier.bounces.families.common import header, lines_about
from notifier.bounces.families.verdicts import final, listed
from notifier.bounces.report import BouncedRecipient

__all__ = ["detect", "read", "recipients"]

_SCREEN_NAMES = re.compile(
    r"Your\s+mail\s+to\s+the\s+following\s+recipients\s+could\s+not\s+be\s+delivered\s+because\s+"
    r"they\s+are\s+not\s+accepting\s+mail\b[^\n]{0,200}:[ \t]*\n"
    r"((?:[ \t]+[^\s@]+(?:@[^\s@]+)?[ \t]*(?:\n|$))+)"
)

_MESSAGES = (
    ("host_unknown", "Host or domain name not found"),
    ("not_accept", "type=MX: Malformed or unexpected name server reply"),
)


def detect(msg: email.message.Message, body: str) -> bool:
    if msg.get("X-AOL-IP") is not None:
        return True
    sender = header(msg, "From").lower().rstrip(">")
    return sender.endswith("@aol.com") and _SCREEN_NAMES.search(body) is not None


def recipients(msg: email.message.Message, body: str) -> list[BouncedRecipient]:
    m = _SCREEN_NAMES.search(body)
    if m is None:
        return []
    found = [n if "@" in n else f"{n}@aol.com" for n in m.group(1).split()]
    said = " ".join(m.group(0).split()[:24])
    return [dataclasses.replace(r, reason="filtered", hard=False) for r in listed(body, found, said=said)]


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    text = f"{r.diagnostic}\n{lines_about(body, r.address)}"
    return final(next((reason for reason, said in _MESSAGES if said in text), None), r, text)
