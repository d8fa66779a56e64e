"""`notify bounces ingest`: read bounce mail and delivery events into the ledger.

Sources: .eml files, mbox files, Maildir folders, saved Amazon SES / SNS JSON files (all read
only: nothing is moved or deleted), and IMAP mailboxes (``notifier.bounces.imap``). `notify serve`
records SNS notifications through the same :func:`record` call.

Trust: a report changes something only when it is tied to a message THIS campaign sent: the
VERP token it was sent back to verifies under the campaign key and names a row of this ledger,
or its provider message id (SES) or original Message-ID is one this campaign sent to the
recipient it names. Anyone can write a bounce naming an address, so a report tied only by
address is recorded as ``unverified`` (message NULL), reported, and changes nothing; one that
names nobody we wrote to is ``unmatched`` and changes nothing either. Another campaign's
bounces in a shared mailbox are therefore never taken for ours.

A tied failed delivery marks the message ``bounced`` (the notice did not reach that person:
they belong on the unreached list); tied hard bounces and complaints also suppress the
recipient's address for later notices, and so do tied soft bounces once
``[bounces] soft_threshold`` of them in a row span ``soft_span``. The event, the state and the
suppressions are written in one transaction, so a crash leaves all or nothing and the next
ingest records it whole. Every event is recorded once by its digest, taken over the message
with its line endings normalised (the same DSN read from a Maildir with LF and over IMAP with
CRLF is one event), so ingesting the same mail again changes nothing.
"""

from __future__ import annotations

import hashlib
import mailbox
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from notifier.bounces.parallel import parsed
from notifier.bounces.parse import ParsedBounce
from notifier.errors import UsageError
from notifier.ledger import BounceEntry, Ledger
from notifier.lists.recipients import dedupe_key
from notifier.lists.suppressions import SharedSuppressions
from notifier.settings import Settings
from notifier.tokens import Tokens

__all__ = [
    "IngestPolicy",
    "IngestReport",
    "Recorded",
    "UNVERIFIED",
    "digest_of",
    "ingest",
    "ingest_policy",
    "messages_in",
    "record",
]

UNVERIFIED = "names an address we sent to, but carries none of our tokens; nothing changed"


@dataclass
class IngestReport:
    messages: int = 0
    already_seen: int = 0
    recipients: int = 0
    matched: dict[str, int] = field(default_factory=dict)  # by how: verp, provider-id, message-id
    unmatched: list[str] = field(default_factory=list)  # "source: address (kind)"
    unverified: list[str] = field(default_factory=list)  # "source: address (kind)": by address only
    not_bounces: int = 0
    suppressed: int = 0
    unsubscribed: int = 0
    kinds: dict[str, int] = field(default_factory=dict)  # bounce, delay, complaint, delivered, ...

    def merge(self, other: IngestReport) -> None:
        self.messages += other.messages
        self.already_seen += other.already_seen
        self.recipients += other.recipients
        self.not_bounces += other.not_bounces
        self.suppressed += other.suppressed
        self.unsubscribed += other.unsubscribed
        self.unmatched += other.unmatched
        self.unverified += other.unverified
        for mine, theirs in ((self.matched, other.matched), (self.kinds, other.kinds)):
            for k, n in theirs.items():
                mine[k] = mine.get(k, 0) + n


@dataclass(frozen=True)
class Recorded:
    """What :func:`record` did with one message or event."""

    new: bool  # False: recorded before, nothing changed
    ours: bool  # tied to a message this campaign sent (its token, provider id or Message-ID)


@dataclass(frozen=True)
class IngestPolicy:
    soft_threshold: int = 3
    soft_span: float = 86400.0
    shared: SharedSuppressions | None = None


def ingest_policy(settings: Settings) -> IngestPolicy:
    shared = SharedSuppressions(settings.shared_suppressions) if settings.shared_suppressions else None
    return IngestPolicy(settings.soft_threshold, settings.soft_span, shared)


def messages_in(source: Path) -> Iterator[tuple[str, bytes]]:
    """(label, raw bytes) for every message in a .eml or .json file, an mbox file or a Maildir."""
    if source.is_dir():
        if not (source / "cur").is_dir() and not (source / "new").is_dir():
            raise UsageError(f"{source} is a folder but not a Maildir (no cur/ or new/)")
        maildir = mailbox.Maildir(source, factory=None, create=False)
        for key in maildir.iterkeys():
            with maildir.get_file(key) as fh:
                yield f"{source}/{key}", fh.read()
        return
    if not source.is_file():
        raise UsageError(f"{source}: no such file or folder")
    head = source.read_bytes()[:5]
    if head == b"From ":
        box = mailbox.mbox(source, create=False)
        try:
            for i, key in enumerate(box.iterkeys()):
                yield f"{source}#{i + 1}", box.get_bytes(key)
        finally:
            box.close()
        return
    yield str(source), source.read_bytes()


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


def _legacy_digest(raw: bytes, parsed: ParsedBounce) -> str:
    """How earlier versions identified mail (its exact bytes): still recognised as seen."""
    return digest_of(raw, parsed) if parsed.event_id else hashlib.sha256(raw).hexdigest()


def _verp(ledger: Ledger, tokens: Tokens, parsed: ParsedBounce) -> tuple[int, str] | None:
    """(message row, its recipient's key) when the report came back to a VERP address whose
    token verifies under this campaign's key and names a row of this ledger."""
    row = tokens.parse_return_path(parsed.envelope_to) if parsed.envelope_to else None
    if row is None:
        return None
    key = ledger.recipient_key_of(row)
    return (row, key) if key is not None else None


def _match(
    ledger: Ledger, parsed: ParsedBounce, address: str, verp: tuple[int, str] | None
) -> tuple[int | None, str, str]:
    """(message row or None, recipient key, how): how is verp, provider-id or message-id when
    the report is tied to a message we sent, ``unverified`` when only the address is one we
    sent to, "" when it is nobody's."""
    if verp is not None:
        # The token names the message, and so whom it was for: whatever address the report
        # names (a forwarding target, say), it speaks for that recipient and nobody else.
        return verp[0], verp[1], "verp"
    key = dedupe_key(address)
    # After the VERP token: the provider's message id (SES), then the original Message-ID, each
    # only for the recipient the report names (a Message-ID alone would let one report speak for
    # others).
    if parsed.provider_id and (found := ledger.message_by_queue_id(parsed.provider_id, key)) is not None:
        return found, key, "provider-id"
    if (
        parsed.original_message_id
        and (found := ledger.message_by_message_id(parsed.original_message_id, key)) is not None
    ):
        return found, key, "message-id"
    if ledger.was_sent_to(key):
        return None, key, "unverified"
    return None, key, ""


def record(
    ledger: Ledger,
    tokens: Tokens,
    raw: bytes,
    parsed: ParsedBounce,
    label: str,
    report: IngestReport,
    policy: IngestPolicy,
) -> Recorded:
    """Record one parsed message or event, and what it changes, in one ledger transaction."""
    report.messages += 1
    digest, legacy = digest_of(raw, parsed), _legacy_digest(raw, parsed)
    local = parsed.envelope_to.partition("@")[0]
    if local.lower().startswith("unsubscribe+"):
        # The mailto: half of List-Unsubscribe: a person (or their provider) wrote to it.
        row = tokens.parse_unsubscribe_token(local.partition("+")[2])
        if row is not None and ledger.recipient_key_of(row) is not None:
            if ledger.event_seen((digest, legacy)):
                report.already_seen += 1
                return Recorded(new=False, ours=True)
            # Its own transaction, before the event: a crash in between is repaired by the
            # next ingest (unsubscribing twice changes nothing).
            report.unsubscribed += int(bool(ledger.unsubscribe(row, via="mailto")))
            new = _write(
                ledger,
                policy,
                report,
                digest,
                legacy,
                label,
                "unsubscribe",
                parsed,
                [BounceEntry(message=row, matched="token")],
            )
            if new:
                report.kinds["unsubscribe"] = report.kinds.get("unsubscribe", 0) + 1
            return Recorded(new=new, ours=True)
    verp = _verp(ledger, tokens, parsed)
    if parsed.kind in ("not-bounce", "auto-reply") or not parsed.recipients:
        # Nothing about delivery; kept (with the message it answers, if it carries our token).
        entry = BounceEntry(message=verp[0], matched="verp") if verp else BounceEntry()
        new = _write(ledger, policy, report, digest, legacy, label, parsed.kind, parsed, [entry])
        if new:
            report.not_bounces += 1
            report.kinds[parsed.kind] = report.kinds.get(parsed.kind, 0) + 1
        return Recorded(new=new, ours=verp is not None)
    entries: list[BounceEntry] = []
    lines: list[tuple[str, str]] = []  # (how, "label: address (kind)")
    for r in parsed.recipients:
        row, key, how = _match(ledger, parsed, r.address, verp)
        lines.append((how, f"{label}: {r.address} ({parsed.kind})"))
        failed = parsed.kind == "bounce" and r.action != "delayed"
        suppress = "complaint" if parsed.kind == "complaint" else r.reason if failed and r.hard else ""
        entries.append(
            BounceEntry(
                address=r.address,
                message=row,
                matched=how,
                reason=r.reason,
                hard=r.hard,
                key=key,
                bounced=failed,
                suppress=suppress,
                soft=failed and not r.hard,
            )
        )
    new = _write(ledger, policy, report, digest, legacy, label, parsed.kind, parsed, entries)
    if new:
        report.kinds[parsed.kind] = report.kinds.get(parsed.kind, 0) + 1
        for how, line in lines:
            report.recipients += 1
            if how == "unverified":
                report.unverified.append(line)
            elif not how:
                report.unmatched.append(line)
            else:
                report.matched[how] = report.matched.get(how, 0) + 1
    return Recorded(new=new, ours=any(e.message is not None for e in entries))


def _write(
    ledger: Ledger,
    policy: IngestPolicy,
    report: IngestReport,
    digest: str,
    legacy: str,
    label: str,
    kind: str,
    parsed: ParsedBounce,
    entries: list[BounceEntry],
) -> bool:
    shared = policy.shared

    def share(key: str, reason: str) -> None:
        if shared is not None:
            shared.add([key], reason)

    added = ledger.record_bounce_outcome(
        digest=digest,
        source=label,
        kind=kind,
        entries=entries,
        event_at=parsed.at,
        also_seen_as=[legacy] if legacy != digest else [],
        soft_threshold=policy.soft_threshold,
        soft_span=policy.soft_span,
        on_suppress=share,
    )
    if added is None:
        report.already_seen += 1
        return False
    report.suppressed += added
    return True


def ingest(
    ledger: Ledger,
    tokens: Tokens,
    sources: list[Path],
    policy: IngestPolicy | None = None,
    processes: int | None = None,
) -> IngestReport:
    """Record every message of ``sources``, in order. Large sources are parsed on every core
    (``processes``, default one per core; 1 parses here), the ledger written here alone."""
    report = IngestReport()
    for source in sources:
        for label, raw, parsed_bounce in parsed(messages_in(source), processes):
            record(ledger, tokens, raw, parsed_bounce, label, report, policy or IngestPolicy())
    return report
