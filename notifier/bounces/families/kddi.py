"""au by KDDI (From no-reply@...dion.ne.jp, Reply-To no-reply@app.auone-net.jp, Received
through ezweb.ne.jp or au.com, and its "Your mail sent on:" paragraphs): each recipient on a
"Could not be delivered to: <a>" line, the reason on the indented lines below it in words of its
own (Sisimai lib/sisimai/lhost/kddi.rb MessagesOf)."""

from __future__ import annotations

import email.message
import re

from notifier.bounces.families.verdicts import Table, final, first_in, head, listed
from notifier.bounces.report import BouncedRecipient

__all__ = ["detect", "read", "recipients"]

_KDDI: Table = (
    ("mailbox_full", ("As their mailbox is full",)),
    ("no_relaying", ("Due to the following SMTP relay error",)),
    ("host_unknown", ("As the remote domain doesnt exist",)),
)
_DIONE = re.compile(r"no-reply@.+\.dion\.ne\.jp", re.I)
_RECIPIENT = re.compile(r"^[ \t]+Could not be delivered to: <([^ >]+@[^ >]+)>", re.M)


def detect(msg: email.message.Message, body: str) -> bool:
    if "Your mail sent on" not in body and "Your mail attempted to be delivered on" not in body:
        return False
    received = [str(v) for v in msg.get_all("Received") or ()]
    return bool(
        _DIONE.search(head(msg, "From"))
        or head(msg, "Reply-To") == "no-reply@app.auone-net.jp"
        or any("ezweb.ne.jp (" in v or ".au.com (" in v for v in received)
    )


def recipients(msg: email.message.Message, body: str) -> list[BouncedRecipient]:
    return listed(body, [m.group(1) for m in _RECIPIENT.finditer(body)])


def _paragraph(body: str, address: str) -> str:
    """The indented lines from the recipient's line to the next recipient's."""
    lines = body.splitlines()
    out: list[str] = []
    for line in lines:
        if out and (not line.startswith((" ", "\t")) or "Could not be delivered to:" in line):
            break
        if out or (address in line.lower() and "Could not be delivered to:" in line):
            out.append(line)
    return " ".join(" ".join(out).split())


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    if head(msg, "X-SPASIGN") == "NG":
        return "filtered"  # au's own filter marks what it refused
    text = _paragraph(body, r.address)
    return final(first_in(_KDDI, text), r, text)
