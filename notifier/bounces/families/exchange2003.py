"""Microsoft Exchange 2003 / Internet Mail Service (an MSEXCH: line, X-MS-Embedded-Report, its
X-Mailer or X-MimeOLE, a Received "with Internet Mail Service"): the eight-digit MSEXCH code names
the reason (000C05A6 unknown recipient, 000C0595 ambiguous recipient, ...; Sisimai
lib/sisimai/lhost/exchange2003.rb)."""

from __future__ import annotations

import email.message
import re

from notifier.bounces.families.common import header, lines_about
from notifier.bounces.families.verdicts import listed
from notifier.bounces.mime import found_address
from notifier.bounces.report import BouncedRecipient

__all__ = ["NAMES_RECIPIENTS_ONLY", "detect", "read", "recipients"]

# Its recipient lines say who; the reply after each is read as plain text reads it (parse.py).
NAMES_RECIPIENTS_ONLY = True

# After "did not reach the following recipient(s):" each recipient opens a line "ADDRESS on DATE"
# or, as an X.400 address, "...SMTP=ADDRESS on DATE" (exchange2003.rb); the summary of the
# original above it ("To:", "Subject:", "Sent:") names whom it was addressed to, not who bounced.
_LIST_OPENS = "did not reach the following recipient(s):"
_RECIPIENT_LINE = re.compile(r"^[ \t]*(?:[^\n]{0,200}?(?:SMTP|smtp)=)?([^ \t\n@=]+@[^ \t\n@]+) on\b", re.M)


def recipients(msg: email.message.Message, body: str) -> list[BouncedRecipient]:
    start = body.find(_LIST_OPENS)
    if start < 0:
        return []
    found = [found_address(m.group(1)).strip("'\"<>;") for m in _RECIPIENT_LINE.finditer(body, start)]
    return listed(body, [a for a in found if "@" in a])


_MSEXCH_CODES = {
    "000C05A6": "user_unknown",  # Unknown Recipient
    "000C0595": "filtered",  # Ambiguous Recipient
    "000B099C": "on_hold",  # Host Unknown, Message exceeds size limit, ...
    "000B09AA": "on_hold",  # Unable to relay for, ...
    "000B09B6": "on_hold",  # Error messages by remote MTA
    "00010256": "system",  # Too many recipients
    "000D06B5": "system",  # No proxy for recipient
    "00120270": "network",  # Too Many Hops
    "00050311": "content_error",  # Conversion to Internet format failed
    "000502CC": "content_error",
    "000B0981": "security",  # 502 Server does not support AUTH
}
_MSEXCH = re.compile(r"MSEXCH:.*\(([0-9A-F]{8})\)")


def detect(msg: email.message.Message, body: str) -> bool:
    if msg.get("X-MS-Embedded-Report") is not None or _MSEXCH.search(body):
        # The MSEXCH diagnostic line is the format's own, whatever headers a relay left.
        return True
    mailer = header(msg, "X-Mailer")
    if mailer.startswith(("Internet Mail Service (", "Microsoft Exchange Server Internet Mail Connector")):
        return True
    if header(msg, "X-MimeOLE").startswith("Produced By Microsoft Exchange"):
        return True
    return any(
        " with Internet Mail Service (" in " ".join(str(v).split()) for v in msg.get_all("Received") or ()
    )


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    m = _MSEXCH.search(f"{r.diagnostic}\n{lines_about(body, r.address)}")
    return _MSEXCH_CODES.get(m.group(1)) if m else None
