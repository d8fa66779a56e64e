"""McAfee Email Appliance (X-NAI-Header "Modified by McAfee"): "550 Unknown user ADDRESS", "User
(ADDRESS) unknown.", "No such user" (Sisimai lib/sisimai/lhost/mcafee.rb)."""

from __future__ import annotations

import email.message
import re

from notifier.bounces.families.common import header, lines_about
from notifier.bounces.report import BouncedRecipient

__all__ = ["detect", "read"]

_MCAFEE_UNKNOWN = re.compile(
    r" user \(.+@.+\) unknown\. |550 unknown user [^ ]+@[^ ]+|550 <.+?@.+?>\.+ user not exist|no such user",
    re.I,
)


def detect(msg: email.message.Message, body: str) -> bool:
    return header(msg, "X-NAI-Header").startswith("Modified by McAfee ")


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    text = f" {r.diagnostic} \n{lines_about(body, r.address)}"
    return "user_unknown" if _MCAFEE_UNKNOWN.search(text) else None
