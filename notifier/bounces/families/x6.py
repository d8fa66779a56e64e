"""Unknown MTA #6 (Subject "There was an error sending your mail"): one line per recipient,
"SMTP Server <host> rejected recipient <a> (Error following RCPT command). It responded as
follows: [550 ...]", which names the command (Sisimai lib/sisimai/lhost/x6.rb)."""

from __future__ import annotations

import email.message
import re

from notifier.bounces.families.verdicts import by_command, head, reread
from notifier.bounces.report import BouncedRecipient

__all__ = ["detect", "read"]

_COMMAND = re.compile(r"\b(HELO|EHLO|MAIL|RCPT|DATA)\b")


def detect(msg: email.message.Message, body: str) -> bool:
    return head(msg, "Subject").startswith("There was an error sending your mail")


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    line = next((ln for ln in body.splitlines() if f"<{r.address}>" in ln.lower()), "")
    m = _COMMAND.search(line)
    if m is None:
        return None
    return by_command(m.group(1)) or reread(r, m.group(1), line)
