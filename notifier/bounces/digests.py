"""Every bounce's identity: the digest ``notify bounces ingest`` records it under, so that the
same message read again (from the same store or another) is recognised and changes nothing."""

from __future__ import annotations

import hashlib
import re

from notifier.bounces.report import ParsedBounce

__all__ = ["digest_of", "legacy_digest", "normalised"]

_BLANKS_AT_END = re.compile(rb"[ \t]+\n")
_MBOX_QUOTED = re.compile(rb"^>+(?=From )", re.M)


def normalised(raw: bytes) -> bytes:
    """The message as any store would give it back: LF line ends (a Maildir keeps LF, IMAP
    sends CRLF), no trailing blanks on a line or at the end, mbox ``>From`` quoting undone.
    (C-speed replaces first; the patterns run only where the bytes they change are present.)"""
    text = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if b" \n" in text or b"\t\n" in text:
        text = _BLANKS_AT_END.sub(b"\n", text)
    text = text.rstrip(b" \t\r\n")
    return _MBOX_QUOTED.sub(b"", text) if b">From " in text else text


def digest_of(raw: bytes, parsed: ParsedBounce) -> str:
    """The event's identity: an SNS notification is the same event however often it is
    delivered (its MessageId); mail is its normalised bytes, so one bounce read from two
    stores is one event."""
    if parsed.event_id:
        return hashlib.sha256(b"sns:" + parsed.event_id.encode()).hexdigest()
    return hashlib.sha256(normalised(raw)).hexdigest()


def legacy_digest(raw: bytes, parsed: ParsedBounce) -> str:
    """How earlier versions identified mail (its exact bytes): still recognised as seen."""
    return digest_of(raw, parsed) if parsed.event_id else hashlib.sha256(raw).hexdigest()
