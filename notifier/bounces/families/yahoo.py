"""Yahoo! Mail (X-YMailISG): the reply after "Remote host said:" ends with the command in
brackets ("[RCPT_TO]"), and a reply that quotes the recipient's address answered RCPT (Sisimai
lib/sisimai/lhost/yahoo.rb)."""

from __future__ import annotations

import email.message
import re

from notifier.bounces.families.common import lines_about
from notifier.bounces.families.verdicts import by_command, has_header, reread
from notifier.bounces.report import BouncedRecipient

__all__ = ["detect", "read"]

_BRACKET = re.compile(r"\[([A-Z]{4})[A-Z_]*\]\s*$", re.M)


def detect(msg: email.message.Message, body: str) -> bool:
    return has_header(msg, "x-ymailisg")


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    about = lines_about(body, r.address)
    m = _BRACKET.search(about)
    command = m.group(1) if m else ""
    if not command and re.search(r"<[^>\s]+@[^>\s]+>", r.diagnostic):
        command = "RCPT"
    if not command:
        return None
    return by_command(command) or reread(r, command, f"{r.diagnostic}\n{about}")
