"""Amazon SES receiving (X-SES-Outgoing): a receipt rule's bounce action answers with its
template's words, which name the reason whatever the status ("Mailbox does not exist" is the
rule's filter, "Message content rejected" the content; Sisimai
lib/sisimai/lhost/receivingses.rb MessagesOf)."""

from __future__ import annotations

import email.message

from notifier.bounces.families.verdicts import Table, final, first_in, has_header
from notifier.bounces.report import BouncedRecipient

__all__ = ["detect", "read"]

_SES: Table = (
    ("filtered", ("Mailbox does not exist",)),
    ("message_too_big", ("Message too large",)),
    ("mailbox_full", ("Mailbox full",)),
    ("content_error", ("Message content rejected",)),
)


def detect(msg: email.message.Message, body: str) -> bool:
    # Every message SES sends carries X-SES-Outgoing, its outbound bounces too: only a receipt
    # rule's notice opens with this line (Sisimai's StartingOf).
    return has_header(msg, "x-ses-outgoing") and "\nThis message could not be delivered.\n" in f"\n{body}"


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    return final(first_in(_SES, r.diagnostic), r, r.diagnostic)
