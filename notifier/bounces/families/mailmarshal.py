"""Trustwave MailMarshal / Secure Email Gateway (Subject 'Undeliverable Mail: "...'): the
original's sender is quoted above the reply ("Your message: From: ...", "Original Sender:"),
the recipients are the indented lines under "The following recipients were affected:" (Sisimai
lib/sisimai/lhost/mailmarshal.rb, mailmarshalsmtp.rb). The reply itself is read as any other."""

from __future__ import annotations

import email.message

from notifier.bounces.families.verdicts import head, listed
from notifier.bounces.report import BouncedRecipient

__all__ = ["detect", "read", "recipients"]

_AFFECTED = "The following recipients were affected:"
_REPLY = "Could not be delivered because of"


def detect(msg: email.message.Message, body: str) -> bool:
    return head(msg, "Subject").startswith('Undeliverable Mail: "')


def recipients(msg: email.message.Message, body: str) -> list[BouncedRecipient]:
    at = body.find(_AFFECTED)
    if at < 0:
        return []
    out: list[str] = []
    for line in body[at + len(_AFFECTED) :].lstrip("\r\n").splitlines():
        if not line.startswith("    ") or "@" not in line:
            break
        out.append(line.strip().strip("<>").lower())
    # One reply for every recipient listed, above the list.
    start = body.find(_REPLY)
    return listed(body, out, body[start + len(_REPLY) : at] if 0 <= start < at else "")


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    return None
