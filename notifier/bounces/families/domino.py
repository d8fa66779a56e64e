"""IBM Domino ("DELIVERY FAILURE:" subject): "not listed in Domino Directory" is an unknown user
whatever the SMTP command, "Cannot route mail to user" a filter (Sisimai lib/sisimai/lhost/domino.rb)."""

from __future__ import annotations

import email.message
import re

from notifier.bounces.families.common import header, lines_about
from notifier.bounces.report import BouncedRecipient

__all__ = ["detect", "read"]

_DOMINO = (
    (
        "user_unknown",
        re.compile(
            r"not listed in (domino directory|public name & address book)"
            r"|domino ディレクトリには見つかりません",
            re.I,
        ),
    ),
    ("filtered", re.compile(r"cannot route mail to user", re.I)),
    ("system", re.compile(r"several matches found in domino directory", re.I)),
)


def detect(msg: email.message.Message, body: str) -> bool:
    return header(msg, "Subject").upper().startswith("DELIVERY FAILURE:")


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    text = f"{r.diagnostic}\n{lines_about(body, r.address)}"
    return next((reason for reason, rx in _DOMINO if rx.search(text)), None)
