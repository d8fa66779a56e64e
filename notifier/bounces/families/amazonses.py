"""Amazon SES sending, the mail form (an X-AWS-Outgoing or X-SES-Outgoing header; its JSON
notifications are read by ``ses_events``): its delivery-status fields often give only the vague
status 5.0.0 or 5.1.0 ("5.0.0 - Unknown error 550-'5.1.1 ...'"), and the remote server's own
status sits in the quoted reply: that one is read; "Delivery expired" is SES giving up (Sisimai
lib/sisimai/lhost/amazonses.rb, 5.x). Amazon WorkMail sends through SES with these headers too:
its family comes first."""

from __future__ import annotations

import email.message
import re

from notifier.bounces.families.common import has_header
from notifier.bounces.families.verdicts import final
from notifier.bounces.reasons import reason_for, status_in
from notifier.bounces.report import BouncedRecipient

__all__ = ["detect", "quoted_status_reason", "read"]

_VAGUE = ("5.0.0", "5.1.0", "4.0.0", "4.1.0")
_QUOTED = re.compile(r"[\"'](\d\.\d\.\d.+)['\"]")


def detect(msg: email.message.Message, body: str) -> bool:
    return has_header(msg, "x-ses-outgoing") or has_header(msg, "x-aws-outgoing")


def quoted_status_reason(r: BouncedRecipient) -> str | None:
    """Where ``r``'s status is vague (X.0.0, X.1.0), the reason the status in its quoted
    reply gives ("550-'5.1.1 ...'"), read with that reply's words; else None."""
    if not r.status.startswith(_VAGUE):
        return None
    quoted = _QUOTED.search(r.diagnostic)
    said = quoted.group(1) if quoted else r.diagnostic
    status = status_in(said)
    if not status or status == r.status:
        return None
    return reason_for(status=status, code=r.reply_code, text=said, domain=r.address.rpartition("@")[2])


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    if "Delivery expired" in r.diagnostic:
        return final("expired", r, r.diagnostic)
    return quoted_status_reason(r)
