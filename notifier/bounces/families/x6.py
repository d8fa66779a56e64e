"""Unknown MTA #6 (Subject "There was an error sending your mail"): one line per recipient,
"SMTP Server <host> rejected recipient <a> (Error following RCPT command). It responded as
follows: [550 ...]", which names the command, or "The following recipients returned permanent
errors: a." (Sisimai lib/sisimai/lhost/x6.rb): the recipients are read from those lines only."""

from __future__ import annotations

import email.message
import re

from notifier.bounces.families.verdicts import by_command, head, listed, reread
from notifier.bounces.report import BouncedRecipient

__all__ = ["detect", "read", "recipients"]

_COMMAND = re.compile(r"\b(HELO|EHLO|MAIL|RCPT|DATA)\b")
_ERRORS = re.compile(r"^\d+ *error\(s\):", re.M)
_RECIPIENT = re.compile(r"<([^ @<>]+@[^ @<>]+)>|errors: *([^ ]+@[^ ]+)")
_COPY = "The attachment contains the original mail headers"


def detect(msg: email.message.Message, body: str) -> bool:
    return head(msg, "Subject").startswith("There was an error sending your mail")


def recipients(msg: email.message.Message, body: str) -> list[BouncedRecipient]:
    start = _ERRORS.search(body)
    if start is None:
        return []
    end = body.find(_COPY, start.end())
    found = []
    for line in body[start.end() : end if end >= 0 else len(body)].splitlines():
        m = _RECIPIENT.search(line)
        if m:
            found.append((m.group(1) or m.group(2)).rstrip("."))
    return listed(body, found)


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    line = next((ln for ln in body.splitlines() if f"<{r.address}>" in ln.lower()), "")
    m = _COMMAND.search(line)
    if m is None:
        return None
    return by_command(m.group(1)) or reread(r, m.group(1), line)
