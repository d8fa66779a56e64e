"""Digital Arts m-FILTER (X-Mailer: m-FILTER): the server's reply under "-------server message"
and the command it answered alone on the line under "-------SMTP command" (Sisimai
lib/sisimai/lhost/mfilter.rb): the reply is read as if the command were named in it."""

from __future__ import annotations

import email.message
import re

from notifier.bounces.families.verdicts import by_command, has_header, head, reread
from notifier.bounces.report import BouncedRecipient

__all__ = ["detect", "read"]

_COMMAND = re.compile(r"^-------SMTP command\s*\n\s*([A-Za-z]{4})\s*$", re.M)
_REPLY = re.compile(r"^-------server message\s*\n\s*(\S.*)$", re.M)


def detect(msg: email.message.Message, body: str) -> bool:
    return has_header(msg, "x-mailer") and head(msg, "X-Mailer") == "m-FILTER"


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    m = _COMMAND.search(body)
    if m is None:
        return None
    command = m.group(1).upper()
    reply = _REPLY.search(body)
    return by_command(command) or reread(r, command, reply.group(1) if reply else "")
