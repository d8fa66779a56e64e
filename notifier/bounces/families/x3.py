"""Unknown MTA #3 (Subject "Delivery status notification", From "Mail Delivery System"): its
"Technical details" line names the command before the host's reply ("SMTP:RCPT host H: 553 5.3.0
<a>... No such user here"; Sisimai lib/sisimai/lhost/x3.rb)."""

from __future__ import annotations

import email.message
import re

from notifier.bounces.families.verdicts import by_command, head, reread
from notifier.bounces.report import BouncedRecipient

__all__ = ["detect", "read"]

_SMTP = re.compile(r"^SMTP:([A-Za-z]{4}) (.+)$", re.M)


def detect(msg: email.message.Message, body: str) -> bool:
    subject = head(msg, "Subject")
    return subject.startswith("Delivery status notification") and head(msg, "From").startswith(
        "Mail Delivery System"
    )


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    lines = [m for m in _SMTP.finditer(body) if r.address in m.group(2).lower()] or list(_SMTP.finditer(body))
    if len(lines) != 1 and not any(r.address in m.group(2).lower() for m in lines):
        return None  # several recipients' lines and none names this one
    command, reply = lines[0].group(1).upper(), lines[0].group(2)
    return by_command(command) or reread(r, command, reply)
