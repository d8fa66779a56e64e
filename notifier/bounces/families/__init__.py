"""Bounce formats that carry their own verdict: mail systems whose reports say why in words,
codes or fields of their own, which settle the reason before the general vocabulary is asked.

Each family is recognised by its report's own headers or diagnostic lines (never by the words we
then read) and
read with the wording table its format publishes, as Sisimai's per-MTA modules carry them
(reference: bounces-and-tracking.md, "Parsers and taxonomies"; Sisimai lib/sisimai/lhost/*.rb).

One module per family, each with ``detect(msg, body)`` (is the report in this format?) and
``read(msg, body, recipient)`` (the reason its table gives, or None); ``ORDER`` is the order
they are tried in: the first family that recognises a report reads it.
"""

from __future__ import annotations

import dataclasses
import email.message
import weakref
from typing import Protocol

from notifier.bounces.families import (
    amavis,
    amazonses,
    amazonworkmail,
    aol,
    apachejames,
    courier,
    domino,
    dragonfly,
    exchange2003,
    exchange2007,
    exim,
    ezweb,
    facebook,
    fml,
    google,
    googlegroups,
    imail,
    kddi,
    mailmarshal,
    mailru,
    mcafee,
    messagelabs,
    messagingserver,
    mfilter,
    mxlogic,
    notes,
    office365,
    opensmtpd,
    postfix,
    powermta,
    qmail,
    receivingses,
    sendgrid,
    sendmail,
    trendmicro,
    v5sendmail,
    verizon,
    x1,
    x3,
    x6,
    yahoo,
    zoho,
)
from notifier.bounces.reasons import is_hard
from notifier.bounces.report import BouncedRecipient

__all__ = [
    "Family",
    "ORDER",
    "family_of",
    "own_names_over_fields",
    "own_recipients",
    "reads_as_plain",
    "with_family_reasons",
]


class Family(Protocol):
    """A report format: each module of this package is one."""

    def detect(self, msg: email.message.Message, body: str) -> bool: ...

    def read(self, msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None: ...


ORDER: tuple[Family, ...] = (
    aol,  # first: Aol's screen-name notices are written by Exchange 2003
    domino,
    exchange2003,
    imail,
    mcafee,
    powermta,
    amazonworkmail,
    googlegroups,
    ezweb,
    facebook,
    # Sisimai lhost modules interscanmss/trendmicro ... zoho: headers first, body markers second.
    trendmicro,
    kddi,
    mailmarshal,
    mailru,
    mxlogic,
    messagelabs,
    messagingserver,
    mfilter,  # before qmail: both say "failure notice"
    notes,
    opensmtpd,
    qmail,
    receivingses,
    amazonses,  # after amazonworkmail and receivingses: both send with SES's headers
    sendgrid,
    v5sendmail,
    verizon,
    x1,
    x3,
    x6,
    yahoo,
    zoho,
    # Sisimai lhost modules activehunter ... gsuite that add to the general reading (the others
    # are read right by it): headers first; google after googlegroups; Exim's looser signs last.
    amavis,
    apachejames,
    courier,
    dragonfly,
    exchange2007,
    fml,
    google,
    exim,
    sendmail,  # after exim: Exim's delay warnings also begin "Warning: "
    office365,  # after exchange2007: Exchange Online NDRs carry its headers too
    postfix,  # last: SendGrid, Zoho and others send its subject too
)


# Asked twice of a plain-text bounce (its recipients, then their reasons): answered once per
# message, body and ORDER.
_SEEN: weakref.WeakKeyDictionary[email.message.Message, tuple[str, tuple[Family, ...], Family | None]] = (
    weakref.WeakKeyDictionary()
)


def family_of(msg: email.message.Message, body: str) -> Family | None:
    """The family module whose format ``msg`` (its notice text ``body``) is in, by its own
    headers or diagnostic lines, or None."""
    seen = _SEEN.get(msg)
    if seen is not None and seen[0] is body and seen[1] is ORDER:
        return seen[2]
    found = next((family for family in ORDER if family.detect(msg, body)), None)
    _SEEN[msg] = (body, ORDER, found)
    return found


def own_recipients(msg: email.message.Message, body: str) -> list[BouncedRecipient]:
    """The failed recipients as the report's own format lists them, where its family reads them
    itself (an optional ``recipients(msg, body)`` in the family's module: Apache James' "RCPT TO:"
    lines, fml's list address), else []. A format whose family lists recipients is a bounce
    even when its subject and sender do not look like one (fml's "NOT MEMBER article from")."""
    family = family_of(msg, body)
    own = getattr(family, "recipients", None)
    return list(own(msg, body)) if own is not None else []


def own_names_over_fields(
    msg: email.message.Message, body: str, fields: list[BouncedRecipient]
) -> list[BouncedRecipient]:
    """``fields`` (a report's delivery-status recipients) with the addresses the format's own
    lines name instead, in order, where its family says those name the address we sent to
    (``RECIPIENTS_OVER_FIELDS``: Messaging Server's "Original address:" beside a rewritten
    Final-Recipient) and they name as many; else ``fields`` as they are."""
    if not fields or not getattr(family_of(msg, body), "RECIPIENTS_OVER_FIELDS", False):
        return fields
    own = own_recipients(msg, body)
    if len(own) != len(fields):
        return fields
    return [dataclasses.replace(r, address=o.address) for r, o in zip(fields, own, strict=True)]


def reads_as_plain(msg: email.message.Message, body: str) -> bool:
    """Whether the format's own lines say only who bounced (``NAMES_RECIPIENTS_ONLY``: Exchange
    2003's "ADDRESS on DATE"), each then read as the plain text around it reads."""
    return bool(getattr(family_of(msg, body), "NAMES_RECIPIENTS_ONLY", False))


def with_family_reasons(
    msg: email.message.Message, body: str, recipients: list[BouncedRecipient]
) -> list[BouncedRecipient]:
    """``recipients`` with the reason (and hard/soft) the report's own format gives, where it
    gives one; the others as they were."""
    family = family_of(msg, body)
    if family is None:
        return recipients
    out = []
    for r in recipients:
        reason = family.read(msg, body, r) if r.action in ("failed", "delayed") else None
        if reason is None or reason == r.reason or (reason == "on_hold" and r.reason not in ("other", "")):
            # "On hold" from a format says only that its words were unclear: a status code or
            # words the general reading placed still say more.
            out.append(r)
            continue
        klass = r.reply_code[:1] or r.status[:1] or "5"
        out.append(dataclasses.replace(r, reason=reason, hard=is_hard(reason, klass)))
    return out
