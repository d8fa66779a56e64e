"""DragonFly Mail Agent (dma; "Mail delivery failed" subject, a Received "(DragonFly Mail Agent"):
it names the SMTP command on a line of its own, "HOST [IP] did not like our RCPT TO:", above the
reply (dma net.c; Sisimai lib/sisimai/lhost/dragonfly.rb). The general reading of the reply with
that command: "550 Unknown user" after RCPT is an unknown mailbox, not a filter's verdict."""

from __future__ import annotations

import email.message
import re

from notifier.bounces.families.common import header
from notifier.bounces.families.verdicts import listed
from notifier.bounces.reasons import reason_for
from notifier.bounces.report import BouncedRecipient

__all__ = ["detect", "read", "recipients"]

_DID_NOT_LIKE = re.compile(r" did not like our ([A-Za-z]{4})")


def detect(msg: email.message.Message, body: str) -> bool:
    return header(msg, "Subject").startswith("Mail delivery failed") and any(
        " (DragonFly Mail Agent" in str(v) for v in msg.get_all("Received") or ()
    )


_ERROR_TO = re.compile(r"^There was an error delivering your mail to <([^<>\s]+@[^<>\s]+)>\.", re.M)


def recipients(msg: email.message.Message, body: str) -> list[BouncedRecipient]:
    """Each "There was an error delivering your mail to <ADDRESS>." (dma's own line), whatever
    the address: a postmaster@ named there is who the mail was for (dragonfly.rb)."""
    copy = body.find("Message headers follow.")
    part = body[: copy if copy >= 0 else len(body)]
    return listed(part, [m.group(1) for m in _ERROR_TO.finditer(part)])


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    # "There was an error delivering your mail to <ADDRESS>." opens the recipient's part.
    at = body.lower().find(f"your mail to <{r.address}>")
    part = body[at : at + 800].split("Original message follows.", 1)[0] if at >= 0 else ""
    m = _DID_NOT_LIKE.search(part)
    if m is None:
        return None
    # The reply follows on the next lines, up to a blank line.
    reply = " ".join(part[m.end() :].split(":", 1)[-1].strip("\n").split("\n\n", 1)[0].split())
    command = m.group(1).upper()
    return reason_for(
        status=r.status, code=r.reply_code, text=reply, command=command, domain=r.address.rpartition("@")[2]
    )
