"""au EZweb / au.com: the line above the recipient says it ("The user(s) account is disabled." =
suspended, "... temporarily over quota" = full); a ">>> RCPT" transcript line = unknown user;
X-SPASIGN: NG = au's own filter (Sisimai lib/sisimai/lhost/ezweb.rb)."""

from __future__ import annotations

import email.message
import re

from notifier.bounces.families.common import header
from notifier.bounces.report import BouncedRecipient

__all__ = ["detect", "read"]

_EZWEB = (
    ("mailbox_full", re.compile(r"the user\(s\) account is temporarily over quota", re.I)),
    ("suspended", re.compile(r"the user\(s\) account is (disabled|temporarily limited)\.", re.I)),
    ("expired", re.compile(r"your message was not delivered within ", re.I)),
    ("on_hold", re.compile(r"each of the following recipients was rejected by a remote mail server", re.I)),
)
_EZWEB_RCPT = re.compile(r"^[ \t]+>>>[ \t]+RCPT", re.M)


def detect(msg: email.message.Message, body: str) -> bool:
    sender = header(msg, "From")
    received = [" ".join(str(v).split()) for v in msg.get_all("Received") or ()]
    signs = [
        "Postmaster@ezweb.ne.jp" in sender,
        "Postmaster@au.com" in sender,
        header(msg, "Subject") == "Mail System Error - Returned Mail",
        any("ezweb.ne.jp (EZweb Mail) with" in v for v in received),
        any(".au.com (" in v for v in received),
        header(msg, "Message-ID").endswith((".ezweb.ne.jp>", ".au.com>")),
    ]
    return sum(signs) >= 2


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    if header(msg, "X-SPASIGN") == "NG":
        return "filtered"  # au's own spam filter marks what it refused
    if _EZWEB_RCPT.search(body):
        return "user_unknown"
    return next((reason for reason, rx in _EZWEB if rx.search(body)), None)
