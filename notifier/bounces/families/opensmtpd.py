"""OpenSMTPD (Subject "Delivery status notification...", From "Mailer Daemon <...>", a Received
"(OpenSMTPD) with"): after "This is the MAILER-DAEMON, please DO NOT REPLY to this e-mail." one
line per recipient, "ADDRESS: REPLY OR FAILURE", up to "Below is a copy of the original
message:". The failures smtpd writes itself say why without any reply ("Envelope expired",
"Domain does not exist", "No MX found for domain", ...) (smtpd/bounce.c, queue.c, mta.c as
Sisimai lib/sisimai/lhost/opensmtpd.rb cites them: MessagesOf)."""

from __future__ import annotations

import email.message
import re

from notifier.bounces.dsn import classify
from notifier.bounces.families.common import header
from notifier.bounces.families.verdicts import Table, final, first_in
from notifier.bounces.report import BouncedRecipient
from notifier.bounces.statuses import status_in

__all__ = ["MESSAGES", "detect", "read", "recipients"]

_START = "    This is the MAILER-DAEMON, please DO NOT REPLY to this "
_COPY = re.compile(r"^[ ]+Below is a copy of the original message:", re.M)
# bounce.c notice_warning: a delay warning, not a failure.
_WARNING = "    A message is delayed for more than "
MESSAGES: Table = (
    ("expired", ("Envelope expired",)),  # queue.c
    ("host_unknown", ("Invalid domain name", "Domain does not exist")),  # mta.c
    ("not_accept", ("Destination seem to reject all mails",)),
    (
        "network",
        (
            "Address family mismatch on destination MXs",
            "All routes to destination blocked",
            "bad DNS lookup error code",
            "Could not retrieve source address",
            "Loop detected",
            "Network error on destination MXs",
            "No MX found for domain",
            "No MX found for destination",
            "No valid route to remote MX",
            "No valid route to destination",
            "Temporary failure in MX lookup",
        ),
    ),
    ("security", ("Could not retrieve credentials",)),
)


def detect(msg: email.message.Message, body: str) -> bool:
    if not header(msg, "Subject").startswith("Delivery status notification"):
        return False
    if not header(msg, "From").startswith("Mailer Daemon <"):
        return False
    return any(" (OpenSMTPD) with " in " ".join(str(v).split()) for v in msg.get_all("Received") or ())


def _lines(body: str) -> dict[str, str]:
    """Each recipient's line: address -> what smtpd says about it."""
    start = body.find(_START)
    if start < 0:
        return {}
    end = _COPY.search(body, start)
    out: dict[str, str] = {}
    for line in body[start : end.start() if end else len(body)].splitlines():
        # "ADDRESS: WORDS" or "ADDRESS WORDS": the first word, an address (opensmtpd.rb reads
        # it with a pattern; splitting at the first space reads the same, in linear time).
        first, space, said = line.partition(" ")
        address = first.removesuffix(":").strip("<>").lower()
        local, at, domain = address.partition("@")
        if space and said.strip() and local and at and domain:
            out.setdefault(address, " ".join(said.split()))
    return out


def recipients(msg: email.message.Message, body: str) -> list[BouncedRecipient]:
    action = "delayed" if _WARNING in body else "failed"
    out = []
    for address, said in _lines(body).items():
        status = status_in(said)
        reason, hard, code = classify(action, status, said, said, "smtp", domain=address.rpartition("@")[2])
        out.append(BouncedRecipient(address, action, status, code, said[:300], reason, hard))
    return out


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    said = _lines(body).get(r.address, "")
    return final(first_in(MESSAGES, said), r, said) if said else None
