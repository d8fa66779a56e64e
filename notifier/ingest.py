"""`notify bounces ingest`: read bounce mail and delivery events into the ledger.

Sources: .eml files, mbox files, Maildir folders, saved Amazon SES / SNS JSON files (all read
only: nothing is moved or deleted), and IMAP mailboxes (``notifier.imapsource``). `notify serve`
records SNS notifications through the same :func:`record` call.

Each reported recipient is matched to its (notice, recipient) row by the VERP token the bounce
was sent to, else the provider's message id (SES), else the original Message-ID, else the
address (its most recent notice). A failed delivery marks the message ``bounced`` (the notice
did not reach that person: they belong on the unreached list); hard bounces and complaints
also suppress the address for later notices, and so do soft bounces once
``[bounces] soft_threshold`` of them in a row span ``soft_span``. Every event is recorded once
by its digest, so ingesting the same mail again changes nothing; unmatched ones are kept and
reported.
"""

from __future__ import annotations

import hashlib
import mailbox
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .bounces import ParsedBounce, parse_bounce
from .errors import UsageError
from .ledger import SqliteLedger
from .recipients import dedupe_key
from .settings import Settings
from .suppressions import SharedSuppressions
from .tokens import Tokens

__all__ = ["IngestPolicy", "IngestReport", "digest_of", "ingest", "ingest_policy", "messages_in", "record"]


@dataclass
class IngestReport:
    messages: int = 0
    already_seen: int = 0
    recipients: int = 0
    matched: dict[str, int] = field(default_factory=dict)  # by how: verp, provider-id, message-id, address
    unmatched: list[str] = field(default_factory=list)  # "source: address (kind)"
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
        for mine, theirs in ((self.matched, other.matched), (self.kinds, other.kinds)):
            for k, n in theirs.items():
                mine[k] = mine.get(k, 0) + n


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


def digest_of(raw: bytes, parsed: ParsedBounce) -> str:
    """The event's identity: an SNS notification is the same event however often it is
    delivered (its MessageId); mail is its bytes."""
    if parsed.event_id:
        return hashlib.sha256(b"sns:" + parsed.event_id.encode()).hexdigest()
    return hashlib.sha256(raw).hexdigest()


_ROW = "SELECT m.id FROM messages m JOIN recipients r ON r.id=m.recipient_id "
# After the VERP token: the provider's message id (SES), then the original Message-ID.
_BY_ID = (
    ("provider-id", _ROW + "WHERE m.queue_id=? AND r.key=?"),
    ("message-id", _ROW + "WHERE m.message_id=? AND r.key=?"),
)


def _match(
    ledger: SqliteLedger, tokens: Tokens, parsed: ParsedBounce, address: str
) -> tuple[int | None, str]:
    row = tokens.parse_return_path(parsed.envelope_to) if parsed.envelope_to else None
    if row is not None and ledger.query("SELECT 1 FROM messages WHERE id=?", (row,)):
        return row, "verp"
    key = dedupe_key(address)
    for (how, sql), value in zip(_BY_ID, (parsed.provider_id, parsed.original_message_id), strict=True):
        if value:
            found = ledger.query(sql, (value, key))
            if found:
                return int(found[0][0]), how
    found = ledger.query(
        _ROW + "WHERE r.key=? AND m.sent_at IS NOT NULL ORDER BY m.sent_at DESC LIMIT 1", (key,)
    )
    return (int(found[0][0]), "address") if found else (None, "")


def _suppress(
    ledger: SqliteLedger, policy: IngestPolicy, address: str, reason: str, report: IngestReport
) -> None:
    report.suppressed += ledger.suppress([dedupe_key(address)], reason=reason, source="bounce")
    if policy.shared is not None:
        policy.shared.add([dedupe_key(address)], reason)


def record(
    ledger: SqliteLedger,
    tokens: Tokens,
    raw: bytes,
    parsed: ParsedBounce,
    label: str,
    report: IngestReport,
    policy: IngestPolicy,
) -> bool:
    """Record one parsed message or event; False when it was recorded before (nothing changes)."""
    report.messages += 1
    digest = digest_of(raw, parsed)
    if ledger.query("SELECT 1 FROM bounce_events WHERE digest=? LIMIT 1", (digest,)):
        report.already_seen += 1
        return False
    report.kinds[parsed.kind] = report.kinds.get(parsed.kind, 0) + 1
    local = parsed.envelope_to.partition("@")[0]
    if local.lower().startswith("unsubscribe+"):
        # The mailto: half of List-Unsubscribe: a person (or their provider) wrote to it.
        row = tokens.parse_unsubscribe_token(local.partition("+")[2])
        if row is not None:
            report.unsubscribed += int(bool(ledger.unsubscribe(row, via="mailto")))
            ledger.record_bounce(
                digest=digest,
                source=label,
                kind="unsubscribe",
                address="",
                message=row,
                matched="token",
                reason="",
                hard=False,
                event_at=parsed.at,
            )
            return True
    if parsed.kind in ("not-bounce", "auto-reply") or not parsed.recipients:
        report.not_bounces += 1
        ledger.record_bounce(
            digest=digest,
            source=label,
            kind=parsed.kind,
            address="",
            message=None,
            matched="",
            reason="",
            hard=False,
            event_at=parsed.at,
        )
        return True
    for r in parsed.recipients:
        report.recipients += 1
        row, how = _match(ledger, tokens, parsed, r.address)
        if row is None:
            report.unmatched.append(f"{label}: {r.address} ({parsed.kind})")
        else:
            report.matched[how] = report.matched.get(how, 0) + 1
        ledger.record_bounce(
            digest=digest,
            source=label,
            kind=parsed.kind,
            address=r.address,
            message=row,
            matched=how,
            reason=r.reason,
            hard=r.hard,
            event_at=parsed.at,
        )
        if parsed.kind == "bounce" and r.action != "delayed":
            if row is not None:
                ledger.mark_bounced(row, reason=r.reason)
            if r.hard:
                _suppress(ledger, policy, r.address, r.reason, report)
            else:
                count, span = ledger.soft_streak(r.address)
                if count >= policy.soft_threshold and span >= policy.soft_span:
                    _suppress(ledger, policy, r.address, "soft_bounces", report)
        elif parsed.kind == "complaint":
            _suppress(ledger, policy, r.address, "complaint", report)
    return True


def ingest(
    ledger: SqliteLedger, tokens: Tokens, sources: list[Path], policy: IngestPolicy | None = None
) -> IngestReport:
    report = IngestReport()
    for source in sources:
        for label, raw in messages_in(source):
            record(ledger, tokens, raw, parse_bounce(raw), label, report, policy or IngestPolicy())
    return report
