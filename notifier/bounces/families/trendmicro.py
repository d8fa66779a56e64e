"""Trend Micro InterScan MSS / TREND VISION ONE (From "InterScan MSS" or "InterScan
Notification", or its own subjects): "Unable to deliver message to <a>" is an unknown user, and
a "Sent <<< RCPT TO:<a>" transcript line names the command its "Received >>> 550 ..." line
answered (Sisimai lib/sisimai/lhost/trendmicro.rb, interscanmss.rb)."""

from __future__ import annotations

import email.message
import re

from notifier.bounces.families.common import lines_about
from notifier.bounces.families.verdicts import by_command, head, reread
from notifier.bounces.report import BouncedRecipient

__all__ = ["detect", "read"]

_SUBJECTS = frozenset(
    {"Mail could not be delivered", "メッセージを配信できません。", "メール配信に失敗しました"}
)
_SENT = re.compile(r"^Sent <<< ([A-Z]{4})\b", re.M)


def detect(msg: email.message.Message, body: str) -> bool:
    sender = head(msg, "From")
    if sender.startswith(('"InterScan MSS"', '"InterScan Notification"')):
        return True
    return head(msg, "Subject") in _SUBJECTS


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    about = lines_about(body, r.address)
    if "Unable to deliver " in about:
        return "user_unknown"
    sent = _SENT.search(about)
    if sent is None:
        return None
    return by_command(sent.group(1)) or reread(r, sent.group(1), f"{r.diagnostic}\n{about}")
