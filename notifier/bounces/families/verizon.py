"""Verizon Wireless: vtext.com (From post_master@vtext.com, Received through .vtext.com) names
the recipient on an indented "RCPT TO:" line below a "MAIL FROM:" line that is ours; vzwpix.com
(From sysadmin@...vzwpix.com) names it on the "To:" line under "Message could not be delivered
to mobile". "550 - Requested action not taken: no such user here" and "No valid recipients for
this MM" are unknown users (Sisimai lib/sisimai/lhost/verizon.rb)."""

from __future__ import annotations

import email.message
import re

from notifier.bounces.families.verdicts import Table, final, first_in, head, listed
from notifier.bounces.mime import address_in
from notifier.bounces.report import BouncedRecipient

__all__ = ["detect", "read", "recipients"]

_VERIZON: Table = (
    (
        "user_unknown",
        ("550 - Requested action not taken: no such user here", "No valid recipients for this MM"),
    ),
)
_PIX = re.compile(r"sysadmin@.+\.vzwpix\.com>?$", re.I)
_RCPT = re.compile(r"^[ \t]+RCPT TO: (.*)$", re.M)
_TO = re.compile(r"^To:[ \t]+(.*)$", re.M)


def detect(msg: email.message.Message, body: str) -> bool:
    sender = head(msg, "From")
    if sender != "post_master@vtext.com" and not ("vzwpix.com" in sender and _PIX.search(sender)):
        return False
    return any(".vtext.com (" in str(v) for v in msg.get_all("Received") or ())


def recipients(msg: email.message.Message, body: str) -> list[BouncedRecipient]:
    if head(msg, "From") == "post_master@vtext.com":
        found = _RCPT.findall(body)
    else:
        at = body.find("Message could not be delivered to mobile")
        found = _TO.findall(body, at) if at >= 0 else []
    return listed(body, [a for a in (address_in(v) for v in found) if a])


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    return final(first_in(_VERIZON, body), r, r.diagnostic)
