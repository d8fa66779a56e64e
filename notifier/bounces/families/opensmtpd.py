"""OpenSMTPD ("Delivery status notification", From "Mailer Daemon <", a Received "(OpenSMTPD)
with"): one line per recipient, "a@b: <its mta.c failure string or the reply>", whose failure
strings name the reason ("No MX found for domain" is network trouble, not a domain without mail;
Sisimai lib/sisimai/lhost/opensmtpd.rb MessagesOf, quoting smtpd/mta.c and queue.c)."""

from __future__ import annotations

import email.message

from notifier.bounces.families.common import lines_about
from notifier.bounces.families.verdicts import Table, final, first_in, head
from notifier.bounces.report import BouncedRecipient

__all__ = ["detect", "read"]

_OPENSMTPD: Table = (
    ("expired", ("Envelope expired",)),
    ("host_unknown", ("Invalid domain name", "Domain does not exist")),
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
    if not head(msg, "Subject").startswith("Delivery status notification"):
        return False
    if not head(msg, "From").startswith("Mailer Daemon <"):
        return False
    return any(" (OpenSMTPD) with " in " ".join(str(v).split()) for v in msg.get_all("Received") or ())


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    line = next((ln for ln in lines_about(body, r.address).splitlines() if r.address in ln.lower()), "")
    return final(first_in(_OPENSMTPD, line), r, line)
