"""`notify bounces ingest`: read bounce mail into the ledger.

Sources: .eml files, mbox files and Maildir folders (read only: nothing is moved or
deleted). Each reported recipient is matched to its (notice, recipient) row by the VERP
token the bounce was sent to, else the original Message-ID, else the address (its most
recent notice). Hard bounces mark the message ``bounced`` and suppress the address;
complaints suppress it; soft bounces and delays are recorded. Every message is recorded
once by its digest, so ingesting the same mail again changes nothing; unmatched ones are
kept and reported.
"""

from __future__ import annotations

import hashlib
import mailbox
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .bounces import parse_bounce
from .errors import UsageError
from .ledger import SqliteLedger
from .recipients import dedupe_key
from .tokens import Tokens

__all__ = ["IngestReport", "ingest", "messages_in"]


@dataclass
class IngestReport:
    messages: int = 0
    already_seen: int = 0
    recipients: int = 0
    matched: dict[str, int] = field(default_factory=dict)  # by how: verp, message-id, address
    unmatched: list[str] = field(default_factory=list)  # "source: address (kind)"
    not_bounces: int = 0
    suppressed: int = 0


def messages_in(source: Path) -> Iterator[tuple[str, bytes]]:
    """(label, raw bytes) for every message in a .eml file, an mbox file or a Maildir."""
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


def _match(
    ledger: SqliteLedger, tokens: Tokens, envelope_to: str, message_id: str, address: str
) -> tuple[int | None, str]:
    row = tokens.parse_return_path(envelope_to) if envelope_to else None
    if row is not None and ledger.query("SELECT 1 FROM messages WHERE id=?", (row,)):
        return row, "verp"
    if message_id:
        found = ledger.query(
            "SELECT m.id FROM messages m JOIN recipients r ON r.id=m.recipient_id "
            "WHERE m.message_id=? AND r.key=?",
            (message_id, dedupe_key(address)),
        )
        if found:
            return int(found[0][0]), "message-id"
    found = ledger.query(
        "SELECT m.id FROM messages m JOIN recipients r ON r.id=m.recipient_id WHERE r.key=? "
        "AND m.sent_at IS NOT NULL ORDER BY m.sent_at DESC LIMIT 1",
        (dedupe_key(address),),
    )
    return (int(found[0][0]), "address") if found else (None, "")


def ingest(ledger: SqliteLedger, tokens: Tokens, sources: list[Path]) -> IngestReport:
    report = IngestReport()
    for source in sources:
        for label, raw in messages_in(source):
            report.messages += 1
            digest = hashlib.sha256(raw).hexdigest()
            if ledger.query("SELECT 1 FROM bounce_events WHERE digest=? LIMIT 1", (digest,)):
                report.already_seen += 1
                continue
            parsed = parse_bounce(raw)
            if parsed.kind in ("not-bounce", "auto-reply", "delivered") or not parsed.recipients:
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
                )
                continue
            for r in parsed.recipients:
                report.recipients += 1
                row, how = _match(ledger, tokens, parsed.envelope_to, parsed.original_message_id, r.address)
                if row is None:
                    report.unmatched.append(f"{label}: {r.address} ({parsed.kind})")
                else:
                    report.matched[how] = report.matched.get(how, 0) + 1
                suppress = r.hard or parsed.kind == "complaint"
                ledger.record_bounce(
                    digest=digest,
                    source=label,
                    kind=parsed.kind,
                    address=r.address,
                    message=row,
                    matched=how,
                    reason=r.reason,
                    hard=r.hard,
                )
                if row is not None and r.hard and parsed.kind == "bounce":
                    ledger.mark_bounced(row, reason=r.reason)
                if suppress:
                    reason = "complaint" if parsed.kind == "complaint" else r.reason
                    report.suppressed += ledger.suppress(
                        [dedupe_key(r.address)], reason=reason, source="bounce"
                    )
    return report
