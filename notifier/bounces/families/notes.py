"""Lotus Notes (Subject "Undeliverable message"): under "------- Failure Reasons --------" each
reason stands on the lines above the address it is about; "User not listed in public Name &
Address Book" is an unknown user, "Message has exceeded maximum hop count" network trouble
(Sisimai lib/sisimai/lhost/notes.rb MessagesOf)."""

from __future__ import annotations

import email.message

from notifier.bounces.families.verdicts import Table, final, first_in, head
from notifier.bounces.report import BouncedRecipient

__all__ = ["detect", "read"]

_NOTES: Table = (
    ("user_unknown", ("User not listed in public Name & Address Book", "ディレクトリのリストにありません")),
    ("network", ("Message has exceeded maximum hop count",)),
)


def detect(msg: email.message.Message, body: str) -> bool:
    return head(msg, "Subject").startswith("Undeliverable message") and "------- Failure Reasons" in body


def _reason_lines(body: str, address: str) -> str:
    """The lines between the previous address (or the Failure Reasons marker) and ``address``."""
    at = body.find("------- Failure Reasons")
    if at < 0:
        return ""
    above: list[str] = []
    for line in body[at:].splitlines()[1:]:
        if line.startswith("------- Returned Message"):
            break
        if "@" in line and " " not in line.strip():
            if address in line.lower():
                return " ".join(above)
            above = []
            continue
        above.append(line.strip())
    return ""


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    text = _reason_lines(body, r.address)
    return final(first_in(_NOTES, text), r, text)
