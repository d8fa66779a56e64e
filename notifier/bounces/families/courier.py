"""Courier MTA ("Courier mail server at" sender, "NOTICE: mail delivery status." subject, a
"<courier.HEX." Message-ID): its esmtp client's own words for DNS trouble (courier
module.esmtp/esmtpclient.c: "No such domain." hard, "This domain's DNS violates RFC 1035."
the domain's system, "DNS lookup failed." the network; Sisimai lib/sisimai/lhost/courier.rb)."""

from __future__ import annotations

import email.message
import re

from notifier.bounces.families.common import lines_about
from notifier.bounces.families.verdicts import final
from notifier.bounces.report import BouncedRecipient

__all__ = ["detect", "read"]

_MESSAGES = (
    ("host_unknown", "No such domain."),
    ("system", "This domain's DNS violates RFC 1035."),
    ("network", "DNS lookup failed."),
)
_SUBJECT = re.compile(r"NOTICE: mail delivery status\.|WARNING: delayed mail\.")
_MESSAGE_ID = re.compile(r"^<courier\.[0-9A-F]+\.")


def detect(msg: email.message.Message, body: str) -> bool:
    return (
        "Courier mail server at " in str(msg.get("From") or "")
        or bool(_MESSAGE_ID.match(str(msg.get("Message-ID") or "").strip()))
        or bool(_SUBJECT.search(str(msg.get("Subject") or "")))
    )


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    text = f"{r.diagnostic}\n{lines_about(body, r.address)}"
    return final(next((reason for reason, said in _MESSAGES if said in text), None), r, text)
