"""Microsoft Exchange Server 2007 and later on premises ("Undeliverable:" / "Non_remis_:" subject
with a Content-Language header, and none of Office 365's cross-tenant headers): the NDR code on
its "#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##" line names the reason
(Sisimai lib/sisimai/lhost/exchange2007.rb NDRSubject)."""

from __future__ import annotations

import email.message
import re

from notifier.bounces.families.common import header, lines_about
from notifier.bounces.families.verdicts import final
from notifier.bounces.report import BouncedRecipient

__all__ = ["detect", "read"]

_NDR = {
    "RESOLVER.ADR.BadPrimary": "system",  # 550 5.2.0
    "RESOLVER.ADR.RecipNotFound": "user_unknown",  # 550 5.1.1
    "RESOLVER.ADR.ExRecipNotFound": "user_unknown",  # 550 5.1.1
    "RESOLVER.ADR.RecipLimit": "too_many_connections",  # 550 5.5.3 too many recipients
    "RESOLVER.ADR.InvalidInSmtp": "system",  # 550 5.1.0
    "RESOLVER.ADR.Ambiguous": "system",  # 550 5.1.4, 420 4.2.0
    "RESOLVER.RST.AuthRequired": "security",  # 550 5.7.1
    "RESOLVER.RST.NotAuthorized": "rejected",  # 550 5.7.1: our sender may not write to it
    "RESOLVER.RST.RecipSizeLimit": "message_too_big",  # 550 5.2.3
    "QUEUE.Expired": "expired",  # 550 4.4.7
}
_CODE = re.compile(r" ((?:RESOLVER|QUEUE)\.[A-Za-z]+(?:\.\w+)?);")
_SUBJECT = re.compile(r"^(Undeliverable|Non_remis_):")
_LANGUAGE = re.compile(r"^[a-z]{2}(-[A-Z]{2})?$")


def detect(msg: email.message.Message, body: str) -> bool:
    if not _SUBJECT.match(header(msg, "Subject")):
        return False
    if not _LANGUAGE.match(header(msg, "Content-Language")):
        return False
    # Only Office 365 adds these; its reports are another family's.
    return (
        msg.get("X-MS-Exchange-CrossTenant-OriginalArrivalTime") is None
        and msg.get("X-MS-Exchange-CrossTenant-FromEntityHeader") is None
    )


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    text = f" {r.diagnostic}\n{lines_about(body, r.address)}"
    m = _CODE.search(text)
    return final(_NDR.get(m.group(1)) if m else None, r, text)
