"""Apache James ("[BOUNCE]" subject, a ".JavaMail." Message-ID, or a Received from "JAMES SMTP
Server"): its notice names the recipients in its "Message details:" block, "  RCPT TO: ADDRESS"
(further recipients indented on the lines below), and the reason under "Error message below:"
(James AbstractNotify.java; Sisimai lib/sisimai/lhost/apachejames.rb). The addresses in its
prose and its "To:" line may be anyone else's (a list, an alias, the sender)."""

from __future__ import annotations

import email.message
import re

from notifier.bounces.dsn import classify
from notifier.bounces.families.common import header
from notifier.bounces.mime import address_in
from notifier.bounces.report import BouncedRecipient
from notifier.bounces.statuses import status_in

__all__ = ["detect", "read", "recipients"]

_RCPT = re.compile(r"^[ \t]+RCPT TO:[ \t]*(.+)$", re.M)
_MORE = re.compile(r"[ \t]+<?([^\s<>@]+@[^\s<>@]+?)>?[ \t]*$")


def detect(msg: email.message.Message, body: str) -> bool:
    if header(msg, "Subject") == "[BOUNCE]" or ".JavaMail." in header(msg, "Message-ID"):
        return True
    for received in msg.get_all("Received") or ():
        value = str(received)
        if "JAMES" in value and "JAMES SMTP Server" in " ".join(value.split()):
            return True
    return False


def _error(body: str) -> str:
    """The words under "Error message below:" (James 2.3; "Error message:" in others), up to
    "Message details:"; without either heading, the notice above the details."""
    end = body.find("Message details:")
    notice = body[: end if end >= 0 else len(body)]
    for heading in ("Error message below:", "Error message:"):
        at = notice.find(heading)
        if at >= 0:
            return " ".join(notice[at + len(heading) :].split())
    return " ".join(notice.split())


def recipients(msg: email.message.Message, body: str) -> list[BouncedRecipient]:
    lines = body.splitlines()
    addresses: list[str] = []
    for m in _RCPT.finditer(body):
        addresses.append(address_in(m.group(1)))
        at = body.count("\n", 0, m.start())
        for line in lines[at + 1 :]:
            more = _MORE.match(line)
            if more is None or ":" in line:
                break
            addresses.append(address_in(more.group(1)))
    error = _error(body)
    status = status_in(error)
    out = []
    for address in dict.fromkeys(a for a in addresses if a):
        domain = address.rpartition("@")[2]
        # The whole notice as the wider text, as the general reading gives it.
        reason, hard, code = classify("failed", status, error, error, "smtp", body[:3000], domain=domain)
        out.append(BouncedRecipient(address, "failed", status, code, error[:300], reason, hard))
    return out


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    return None  # James has no table of its own: its reply's words are read the general way
