"""McAfee SaaS, formerly MX Logic (X-MX-Bounce, X-MXL-Hash, X-MXL-NoteHash): an Exim, whose
router and transport messages name the reason whatever the command ("user not found",
"Unrouteable address", "retry timeout exceeded", ...), and whose refusals after MAIL FROM or
HELO are our sender or host refused (Sisimai lib/sisimai/lhost/mxlogic.rb, quoting Exim's
route.c, transports/smtp.c, routers/dnslookup.c, deliver.c); the table is Exim's own, in exim.py."""

from __future__ import annotations

import email.message
import re

from notifier.bounces.families.common import lines_about
from notifier.bounces.families.exim import DELAYED, MESSAGES
from notifier.bounces.families.verdicts import by_command, final, first_in, has_header
from notifier.bounces.report import BouncedRecipient

__all__ = ["detect", "exim_reason", "read"]

_COMMAND = re.compile(r"SMTP error from remote (?:mail server|mailer) after (?:end of )?([A-Za-z]{4})")


def detect(msg: email.message.Message, body: str) -> bool:
    return any(has_header(msg, h) for h in ("x-mx-bounce", "x-mxl-hash", "x-mxl-notehash"))


def exim_reason(body: str, r: BouncedRecipient, delayed: tuple[str, ...] = DELAYED) -> str | None:
    """Exim's own verdicts for ``r``: the command it names, then its messages' table."""
    text = f"{r.diagnostic}\n{lines_about(body, r.address)}"
    m = _COMMAND.search(text)
    verdict = by_command(m.group(1).upper()) if m else None
    if verdict is None:
        verdict = first_in(MESSAGES, text)
    if verdict is None and any(d.lower() in text.lower() for d in delayed):
        verdict = "expired"
    return final(verdict, r, text, command=m.group(1).upper() if m else "")


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    return exim_reason(body, r)
