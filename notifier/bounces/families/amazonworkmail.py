"""Amazon WorkMail (an X-SES-Outgoing header and X-Original-Mailer or X-Mailer "Amazon WorkMail"):
its delivery-status fields often give only the vague status 5.0.0 or 5.1.0 ("5.1.0 - Unknown
address error 550-'5.7.1 ...'"), and the remote server's own status sits in the quoted reply:
that one is read, as for Amazon SES which it sends through (Sisimai
lib/sisimai/lhost/amazonworkmail.rb, 5.x)."""

from __future__ import annotations

import email.message

from notifier.bounces.families.amazonses import quoted_status_reason
from notifier.bounces.families.common import header
from notifier.bounces.report import BouncedRecipient

__all__ = ["detect", "read"]


def detect(msg: email.message.Message, body: str) -> bool:
    if not header(msg, "X-SES-Outgoing"):
        return False
    return (header(msg, "X-Original-Mailer") or header(msg, "X-Mailer")) == "Amazon WorkMail"


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    return quoted_status_reason(r)
