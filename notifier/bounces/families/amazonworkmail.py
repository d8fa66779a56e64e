"""Amazon WorkMail (an X-SES-Outgoing header and X-Original-Mailer or X-Mailer "Amazon WorkMail"):
its delivery-status fields often give only the vague status 5.0.0 or 5.1.0 ("5.1.0 - Unknown
address error 550-'5.7.1 ...'"), and the remote server's own status sits in the quoted reply:
that one is read (Sisimai lib/sisimai/lhost/amazonworkmail.rb, 5.x)."""

from __future__ import annotations

import email.message
import re

from notifier.bounces.families.common import header
from notifier.bounces.reasons import reason_for, status_in
from notifier.bounces.report import BouncedRecipient

__all__ = ["detect", "read"]

_VAGUE = ("5.0.0", "5.1.0", "4.0.0", "4.1.0")
_QUOTED = re.compile(r"[\"'](\d\.\d\.\d.+)['\"]")


def detect(msg: email.message.Message, body: str) -> bool:
    if not header(msg, "X-SES-Outgoing"):
        return False
    return (header(msg, "X-Original-Mailer") or header(msg, "X-Mailer")) == "Amazon WorkMail"


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    if not r.status.startswith(_VAGUE):
        return None
    quoted = _QUOTED.search(r.diagnostic)
    said = quoted.group(1) if quoted else r.diagnostic
    status = status_in(said)
    if not status or status == r.status:
        return None
    return reason_for(status=status, code=r.reply_code, text=said, domain=r.address.rpartition("@")[2])
