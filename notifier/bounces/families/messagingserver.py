"""Sun Java System / Oracle Communications Messaging Server (and PMDF before it): a MIME boundary
"Boundary_(ID_...)" or the subject "Delivery Notification: ...". After "This report relates to a
message you sent with the following header fields:" (a summary of the original, whose "To:" may
be anyone) it gives one record per recipient: "  Recipient address: A", where the address was
rewritten "  Original address: B" (the address that was sent to, and the one reported),
"  Reason: ...", "  Diagnostic code: smtp;550 ...". Its own words: "Illegal host/domain name
found" is a domain that does not exist (Sisimai lib/sisimai/lhost/messagingserver.rb)."""

from __future__ import annotations

import email.message
import re

from notifier.bounces.dsn import classify
from notifier.bounces.families.common import header
from notifier.bounces.families.verdicts import final
from notifier.bounces.mime import address_in
from notifier.bounces.report import BouncedRecipient
from notifier.bounces.statuses import status_in

__all__ = ["RECIPIENTS_OVER_FIELDS", "detect", "read", "recipients"]

# Its own "Original address:" lines name the address we sent to, where its delivery-status
# fields name the rewritten one: the parser takes them over the fields' (same count, in order).
RECIPIENTS_OVER_FIELDS = True

_START = "This report relates to a message you sent with the following header fields:"
# Where the returned original begins (messagingserver.rb Boundaries).
_COPY = re.compile(r"^(?:Content-type:[ \t]*message/rfc822|Return-path:[ \t]*)", re.I | re.M)
_ADDRESS_LINE = re.compile(r"^[ \t]+(Recipient|Original) address:[ \t]*(\S+@\S+)[ \t]*$")
_FIELD = re.compile(r"^[ \t]+(Reason|Diagnostic code|Remote system):[ \t]*(.+)$")
_HOST_UNKNOWN = "Illegal host/domain name found"
# Its delay notice: "Delivery Notification: Delivery has been delayed", "Your message has been
# delayed and is still awaiting delivery to the following recipients:".
_DELAYED = ("Delivery has been delayed", "has been delayed and is still awaiting delivery")


def detect(msg: email.message.Message, body: str) -> bool:
    return "Boundary_(ID_" in header(msg, "Content-Type") or header(msg, "Subject").startswith(
        "Delivery Notification: "
    )


def _records(body: str) -> list[tuple[list[str], dict[str, str]]]:
    """Each recipient record: the addresses it names (the address delivered to, then the one it
    was rewritten from) and its fields."""
    start = body.find(_START)
    if start < 0:
        return []
    end = _COPY.search(body, start)
    out: list[tuple[list[str], dict[str, str]]] = []
    for line in body[start : end.start() if end else len(body)].splitlines():
        m = _ADDRESS_LINE.match(line)
        if m:
            address = address_in(m.group(2))
            if not address:
                continue
            if m.group(1) == "Recipient" or not out:
                out.append(([address], {}))
            else:
                out[-1][0].append(address)  # "Original address:": what the sender wrote
            continue
        f = _FIELD.match(line)
        if f and out:
            out[-1][1].setdefault(f.group(1), f.group(2).strip())
    return out


def _reported(addresses: list[str]) -> str:
    """The address Sisimai reports for a record: the original one where the record gives it."""
    return addresses[-1]


def recipients(msg: email.message.Message, body: str) -> list[BouncedRecipient]:
    notice = f"{header(msg, 'Subject')} {body[:2000]}"
    action = "delayed" if any(d in notice for d in _DELAYED) else "failed"
    out: list[BouncedRecipient] = []
    for addresses, fields in _records(body):
        address = _reported(addresses)
        if any(r.address == address for r in out):
            continue
        dtype, sep, said = fields.get("Diagnostic code", "").partition(";")
        diagnostic = " ".join((said if sep else dtype).split()) or fields.get("Reason", "")
        context = " ".join(f"{k}: {v}" for k, v in fields.items())
        status = status_in(diagnostic)
        reason, hard, code = classify(
            action,
            status,
            diagnostic,
            context,
            dtype.strip().lower() if sep else "smtp",
            domain=address.rpartition("@")[2],
        )
        out.append(BouncedRecipient(address, action, status, code, diagnostic[:300], reason, hard))
    return out


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    fields = next((f for addresses, f in _records(body) if r.address in addresses), None)
    if fields is None:
        return None
    text = " ".join(fields.values())
    return final("host_unknown", r, text) if _HOST_UNKNOWN in text else None
