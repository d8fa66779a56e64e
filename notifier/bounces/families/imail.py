"""Ipswitch IMail ("Undeliverable Mail", X-Mailer <SMTP32 v...>): the line that names the
recipient begins with the reason ("Unknown user:", "User mailbox exceeds allowed size"; Sisimai
lib/sisimai/lhost/imailserver.rb)."""

from __future__ import annotations

import email.message
import re

from notifier.bounces.families.common import header
from notifier.bounces.report import BouncedRecipient

__all__ = ["detect", "read"]

_IMAIL = (
    ("host_unknown", re.compile(r"unknown host", re.I)),
    ("user_unknown", re.compile(r"^\s*(unknown user|invalid final delivery userid)", re.I | re.M)),
    ("mailbox_full", re.compile(r"^\s*user mailbox exceeds allowed size", re.I | re.M)),
    ("virus_detected", re.compile(r"^\s*requested action not taken: virus detected", re.I | re.M)),
    ("expired", re.compile(r"^\s*delivery failed \d+ attempts", re.I | re.M)),
)


def detect(msg: email.message.Message, body: str) -> bool:
    return bool(re.fullmatch(r"Undeliverable Mail\s*", header(msg, "Subject"))) or header(
        msg, "X-Mailer"
    ).startswith("<SMTP32 v")


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    text = "\n".join(line for line in body.splitlines() if r.address in line.lower())
    return next((reason for reason, rx in _IMAIL if rx.search(text)), None)
