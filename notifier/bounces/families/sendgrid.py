"""SendGrid (Return-Path <apps@sendgrid.net>, "Undelivered Mail Returned to Sender"): the command
stands on a line outside the report's fields ("... in RCPT TO", "in MAIL FROM", "in End of
DATA"), and an "Action: expired" recipient is expired (Sisimai lib/sisimai/lhost/sendgrid.rb)."""

from __future__ import annotations

import email.message
import re

from notifier.bounces.families.verdicts import by_command, has_header, head, reread
from notifier.bounces.report import BouncedRecipient

__all__ = ["detect", "read"]

_COMMAND = re.compile(r"^(?![A-Za-z-]+:).+ in (?:End of )?([A-Z]{4}).*$", re.M)


def detect(msg: email.message.Message, body: str) -> bool:
    return (
        has_header(msg, "return-path")
        and head(msg, "Return-Path") == "<apps@sendgrid.net>"
        and head(msg, "Subject") == "Undelivered Mail Returned to Sender"
    )


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    if r.action == "expired":
        return "expired"
    m = _COMMAND.search(body)
    if m is None:
        return None
    return by_command(m.group(1)) or reread(r, m.group(1))
