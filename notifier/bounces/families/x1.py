"""Unknown MTA #1 (Subject "Returned Mail: ...", From '"Mail Deliver System" <...>'): after "The
original message was received at DATE" one line per recipient, "ADDRESS [REASON]", and the
returned original quoted from its "Received: from 192.0.2.1 ..." line on, with no marker the
general reading knows (Sisimai lib/sisimai/lhost/x1.rb): the recipients are those lines only,
never the quoted original's To: or Cc:."""

from __future__ import annotations

import email.message
import re

from notifier.bounces.dsn import classify
from notifier.bounces.families.common import header
from notifier.bounces.report import BouncedRecipient
from notifier.bounces.statuses import status_in

__all__ = ["detect", "read", "recipients"]

_START = re.compile(r"^The original message was received at .+$", re.M)
_COPY = re.compile(r"^Received: from \d+\.\d+\.\d+\.\d", re.M)
_LINE = re.compile(r"^([^ @]+@[^ @]+?)[ \t]+\[(.+)\]$")


def detect(msg: email.message.Message, body: str) -> bool:
    return header(msg, "Subject").startswith("Returned Mail: ") and header(msg, "From").startswith(
        '"Mail Deliver System" '
    )


def recipients(msg: email.message.Message, body: str) -> list[BouncedRecipient]:
    start = _START.search(body)
    if start is None:
        return []
    end = _COPY.search(body, start.end())
    out: list[BouncedRecipient] = []
    for line in body[start.end() : end.start() if end else len(body)].splitlines():
        m = _LINE.match(line.strip())
        if m is None:
            continue
        address, said = m.group(1).strip("<>").lower(), " ".join(m.group(2).split())
        if any(r.address == address for r in out):
            continue
        status = status_in(said)
        reason, hard, code = classify("failed", status, said, said, "smtp", domain=address.rpartition("@")[2])
        out.append(BouncedRecipient(address, "failed", status, code, said[:300], reason, hard))
    return out


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    return None  # X1 has no table of its own: the bracketed words are read the general way
