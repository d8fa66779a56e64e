"""Symantec.cloud, formerly MessageLabs (X-Msg-Ref, From MAILER-DAEMON@messagelabs.com): its
diagnostic "No such user" / "542 ... Rejected" is an unknown user whatever the command, "Please
turn on SMTP Authentication in your mail client" a security error (Sisimai
lib/sisimai/lhost/messagelabs.rb ReFailures)."""

from __future__ import annotations

import email.message
import re

from notifier.bounces.families.verdicts import final, has_header, head
from notifier.bounces.report import BouncedRecipient

__all__ = ["detect", "read"]

_FAILURES = (
    ("user_unknown", re.compile(r"542 .+ Rejected|No such user")),
    ("security", re.compile(r"Please turn on SMTP Authentication in your mail client")),
)


def detect(msg: email.message.Message, body: str) -> bool:
    return has_header(msg, "x-msg-ref") and "messagelabs.com" in head(msg, "From").lower()


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    verdict = next((reason for reason, rx in _FAILURES if rx.search(r.diagnostic)), None)
    return final(verdict, r, r.diagnostic)
