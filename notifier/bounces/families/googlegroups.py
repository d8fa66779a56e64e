"""Google Groups (mailer-daemon@googlemail.com naming a @googlegroups.com failed recipient): the
group refused the post; the four bullet points of its notice, in whatever language, say the group
may not exist or may not take posts from us (rejected), else it is unclear (on hold; Sisimai
lib/sisimai/lhost/googlegroups.rb)."""

from __future__ import annotations

import email.message
import re

from notifier.bounces.families.common import header
from notifier.bounces.report import BouncedRecipient

__all__ = ["detect", "read"]

_BULLET = re.compile(r"^ ?\* ?", re.M)


def detect(msg: email.message.Message, body: str) -> bool:
    return (
        header(msg, "From").lower().endswith("<mailer-daemon@googlemail.com>")
        and header(msg, "Subject").startswith("Delivery Status Notification")
        and "@googlegroups.com" in header(msg, "X-Failed-Recipients").lower()
    )


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    if not r.address.endswith("@googlegroups.com"):
        return None
    notice = body.split("----- Original message -----", 1)[0]
    return "rejected" if len(_BULLET.findall(notice)) == 4 else "on_hold"
