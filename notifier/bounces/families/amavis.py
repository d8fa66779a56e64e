"""amavisd-new (From '"Content-filter at HOST" <...>'): its delivery-status reply names the
content category that blocked the message, "id=N - INFECTED: ...", "- spam", "- BAD HEADER: ...",
"- Message size exceeds recipient's size limit", "- Temporary MTA failure on relaying", ...
(amavisd smtp_reason_by_ccat, as Sisimai lib/sisimai/lhost/amavis.rb cites it: MessagesOf). A
virus is a virus there, and an oversized message is over the recipient's own limit."""

from __future__ import annotations

import email.message

from notifier.bounces.families.common import header, lines_about
from notifier.bounces.families.verdicts import Table, final, first_in
from notifier.bounces.report import BouncedRecipient

__all__ = ["MESSAGES", "detect", "read"]

MESSAGES: Table = (
    ("spam_detected", (" - spam",)),
    ("virus_detected", (" - infected",)),
    ("content_error", (" - bad header:",)),
    ("exceed_limit", (" - message size exceeds recipient",)),
    (
        "system",
        (
            " - temporary mta failure on relaying",
            " - rejected by next-hop mta on relaying",
            " - unable to relay message back to mta",
        ),
    ),
)


def detect(msg: email.message.Message, body: str) -> bool:
    return header(msg, "From").startswith('"Content-filter at ')


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    text = r.diagnostic or lines_about(body, r.address)
    return final(first_in(MESSAGES, text), r, text)
