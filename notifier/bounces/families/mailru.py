"""@mail.ru (From mailer-daemon@...mail.ru, Message-ID ...mail.ru> or ...smailru.net>): an Exim,
read with Exim's own messages and command rule, and "retry timeout exceeded" / "No action is
required on your part" as expired (Sisimai lib/sisimai/lhost/mailru.rb)."""

from __future__ import annotations

import email.message
import re

from notifier.bounces.families.mxlogic import exim_reason
from notifier.bounces.families.verdicts import head
from notifier.bounces.report import BouncedRecipient

__all__ = ["detect", "read"]

_SENDER = re.compile(r"mailer-daemon@.*mail\.ru\b", re.I)


def detect(msg: email.message.Message, body: str) -> bool:
    sender = head(msg, "From")
    return (
        "mail.ru" in sender.lower()
        and bool(_SENDER.search(sender))
        and head(msg, "Message-ID").endswith((".mail.ru>", "smailru.net>"))
    )


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    return exim_reason(body, r, ("retry timeout exceeded", "No action is required on your part"))
