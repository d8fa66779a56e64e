"""Zoho Mail (X-ZohoMail): "[Status: Error, Address: <a>, ResponseCode 421, , Host not
reachable.]" is a message given up on, expired (Sisimai lib/sisimai/lhost/zoho.rb MessagesOf)."""

from __future__ import annotations

import email.message

from notifier.bounces.families.common import lines_about
from notifier.bounces.families.verdicts import Table, final, first_in, has_header
from notifier.bounces.report import BouncedRecipient

__all__ = ["detect", "read"]

_ZOHO: Table = (("expired", ("Host not reachable",)),)


def detect(msg: email.message.Message, body: str) -> bool:
    return has_header(msg, "x-zohomail")


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    text = f"{r.diagnostic}\n{lines_about(body, r.address)}"
    return final(first_in(_ZOHO, text), r, text)
