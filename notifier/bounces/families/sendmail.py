"""Sendmail ("Returned mail: see transcript for details" / "Warning: ...", its "----- Transcript
of session follows -----"): a transcript that quotes the remote host's replies ("<<< 554 ...")
but no command of ours (">>> RCPT To:...") was refused at the greeting, before any sender or
recipient was named (Sisimai lib/sisimai/lhost/sendmail.rb sets the command to EHLO then): our
host refused, unless the reply's words say more."""

from __future__ import annotations

import email.message

from notifier.bounces.families.common import lines_about
from notifier.bounces.families.verdicts import head, reread
from notifier.bounces.report import BouncedRecipient

__all__ = ["detect", "read"]

_TRANSCRIPT = "----- Transcript of session follows -----"


def detect(msg: email.message.Message, body: str) -> bool:
    subject = head(msg, "Subject")
    if not (subject.endswith("see transcript for details") or subject.startswith("Warning: ")):
        return False
    return _TRANSCRIPT in body and msg.get("X-AOL-IP") is None


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    transcript = body[body.find(_TRANSCRIPT) + len(_TRANSCRIPT) :]
    lines = [line.strip() for line in transcript.splitlines()]
    replies = [line[3:].strip() for line in lines if line.startswith("<<< ")]
    if not replies or any(line.startswith(">>> ") for line in lines):
        return None
    return reread(r, "HELO", " ".join([r.diagnostic, *replies, lines_about(body, r.address)]))
