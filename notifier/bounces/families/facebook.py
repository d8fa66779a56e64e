"""Facebook's own MTA (From "Facebook <mailer-daemon@mx.facebook.com>", Subject "Sorry, your
message could not be delivered"): its reply carries a response code, AREA-P1 (permanent) or
AREA-T1 (temporary), and each code names the reason (postmaster.facebook.com/response_codes, as
Sisimai lib/sisimai/lhost/facebook.rb ReFailures lists them, 5.x). Where this table says what
the general table of Facebook's codes (rhost/facebook) says otherwise, a bounce from Facebook
itself is read with this one: POL-P7 is the content refused, POL-P3/P4 and POL-T1..T3 Facebook
refusing our server's mail, MSG-P3 the content, DNS-P3/DNS-T2 our sender refused."""

from __future__ import annotations

import email.message
import re

from notifier.bounces.families.common import header
from notifier.bounces.families.verdicts import final
from notifier.bounces.report import BouncedRecipient

__all__ = ["CODES", "detect", "read"]

_CODE = re.compile(r"\b([A-Z]{3})-([A-Z])(\d)\b")
# Sisimai's order: the first reason that lists a code wins (POL-P7 is listed twice).
_TABLE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("user_unknown", ("RCP-P1", "INT-P1", "INT-P3", "INT-P4")),
    ("filtered", ("RCP-P2", "RCP-P3")),
    ("message_too_big", ("MSG-P1", "INT-P2")),
    ("content_error", ("MSG-P2", "MSG-P3", "POL-P6", "POL-P7")),
    ("security", ("POL-P1", "POL-P2", "POL-P5", "POL-P7")),
    ("not_accept", ("POL-P3", "POL-P4", "POL-T1", "POL-T2", "POL-T3")),
    ("rejected", ("DNS-P1", "DNS-P2", "DNS-T1", "DNS-P3", "DNS-T2")),
    ("system", ("CON-T1",)),
    ("too_many_connections", ("CON-T3",)),
    ("suspended", ("RCP-T4",)),
    # RCP-T1, MSG-T1, CON-T2, CON-T4: "undefined", left to the general reading.
)
# Built from the end, so that the first reason listing a code is the one kept.
CODES: dict[str, str] = {code: reason for reason, codes in reversed(_TABLE) for code in codes}


def detect(msg: email.message.Message, body: str) -> bool:
    return header(msg, "From") == "Facebook <mailer-daemon@mx.facebook.com>" and (
        header(msg, "Subject") == "Sorry, your message could not be delivered"
    )


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    m = _CODE.search(r.diagnostic)
    if m is None:
        return None
    code = f"{m.group(1)}-{m.group(2)}{m.group(3)}"
    verdict = CODES.get(code)
    if verdict is None and m.group(1) == "INT" and m.group(2) == "T":
        verdict = "system"  # Facebook's own temporary trouble
    return final(verdict, r, r.diagnostic)
