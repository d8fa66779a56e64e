"""Microsoft Office 365 / Exchange Online NDRs ("Undeliverable:", X-MS-Exchange-* headers, a
Received or Message-ID of *.prod.outlook.com / *.outbound.protection.outlook.com; two signs):
its own enhanced status codes name the reason (Sisimai lib/sisimai/lhost/office365.rb StatusList,
from Microsoft's "Email non-delivery reports in Office 365"), and "unknown recipient or mailbox
unavailable -> <a>" names RCPT.

The codes settle a reply whose words the general reading could not place; words it did place
(a blocklist, a PTR, DMARC...) say more than the code's family. Left out: 5.4.1 (Microsoft's own
page says the recipient does not exist in the organisation, which the general reading finds),
5.7.510 (an IPv6 refusal is not a domain that accepts no mail) and 5.7.25 (a missing PTR)."""

from __future__ import annotations

import email.message
import re

from notifier.bounces.families.common import lines_about
from notifier.bounces.families.verdicts import head, header_names, reread
from notifier.bounces.reasons import status_in
from notifier.bounces.report import BouncedRecipient

__all__ = ["detect", "read"]

_STATUS = (
    (re.compile(r"4\.4\.7|4\.4\.316|5\.4\.316"), "expired"),
    (re.compile(r"[45]\.4\.312|5\.4\.6"), "network"),
    (re.compile(r"4\.7\.26|5\.7\.509|5\.7\.512"), "security"),
    (re.compile(r"4\.7\.[56]\d\d|4\.7\.8[5-9]\d|5\.7\.50[67]|5\.7\.60[6-9]|5\.7\.6[1-4]\d"), "blocked"),
    (re.compile(r"5\.6\.11"), "content_error"),
    (re.compile(r"5\.7\.1|5\.7\.1[23]|5\.7\.124|5\.7\.13[3-6]|5\.7\.511"), "rejected"),
    (re.compile(r"5\.7\.50[1-3]"), "spam_detected"),
    (re.compile(r"5\.7\.50[45]"), "filtered"),
    (re.compile(r"5\.7\.508|5\.7\.7[0-4]\d"), "too_many_connections"),
)
_PLACED_NOTHING = frozenset({"", "other", "on_hold", "security", "system"})
_RCPT = re.compile(r"unknown recipient or mailbox unavailable ->.+@", re.I)
_OUTLOOK = (".outbound.protection.outlook.com", ".prod.outlook.com")
_HEADERS = frozenset(
    {
        "x-ms-exchange-message-is-ndr",
        "x-microsoft-antispam-prvs",
        "x-exchange-antispam-report-test",
        "x-exchange-antispam-report-cfa-test",
        "x-ms-exchange-crosstenant-originalarrivaltime",
        "x-ms-exchange-crosstenant-fromentityheader",
        "x-ms-exchange-transport-crosstenantheadersstamped",
    }
)


def detect(msg: email.message.Message, body: str) -> bool:
    signs = int("Undeliverable:" in head(msg, "Subject"))
    signs += sum(1 for h in _HEADERS.intersection(header_names(msg)) if head(msg, h))
    if signs >= 2:
        return True
    signs += int(any(host in head(msg, "Message-ID") for host in _OUTLOOK))
    if signs != 1:
        return signs >= 2  # none yet: the Received lines alone cannot make two
    received = (str(v) for v in msg.get_all("Received") or ())
    return signs + int(any(host in v for v in received for host in _OUTLOOK)) >= 2


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    text = f"{r.diagnostic}\n{lines_about(body, r.address)}"
    if _RCPT.search(text):
        return reread(r, "RCPT", text)
    if r.reason not in _PLACED_NOTHING:
        return None
    status = r.status if r.status and not r.status.endswith(".0.0") else status_in(text)
    return next((reason for rx, reason in _STATUS if rx.fullmatch(status)), None)
