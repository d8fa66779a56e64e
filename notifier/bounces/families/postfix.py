"""Postfix ("Undelivered Mail Returned to Sender", the notice opening "The mail system" / "This
is the mail system at host ..."): "host H refused to talk to me: ..." is the answer to the
greeting, before any sender or recipient was named (Sisimai lib/sisimai/lhost/postfix.rb sets
the command to HELO for it): our host refused unless the reply's words say more."""

from __future__ import annotations

import email.message

from notifier.bounces.families.common import lines_about
from notifier.bounces.families.verdicts import head, reread
from notifier.bounces.report import BouncedRecipient

__all__ = ["detect", "read"]


def detect(msg: email.message.Message, body: str) -> bool:
    return head(msg, "Subject") == "Undelivered Mail Returned to Sender" and msg.get("X-AOL-IP") is None


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    text = f"{r.diagnostic}\n{lines_about(body, r.address)}"
    if "refused to talk to me:" not in text:
        return None
    return reread(r, "HELO", text)
