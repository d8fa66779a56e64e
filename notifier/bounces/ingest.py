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

Files and folders are read, parsed and identified on every core (``notifier.bounces.parallel``)
and recorded here a batch at a time (``notifier.bounces.batch``): one transaction per batch, so a
crash leaves each batch all or nothing, with the same answers recording them one by one gives.
"""

from __future__ import annotations

import contextlib
import mailbox
import os
from collections.abc import Iterator
from pathlib import Path

from notifier.bounces.batch import BatchRecorder
from notifier.bounces.digests import digest_of
from notifier.bounces.parallel import Message, prepared
from notifier.bounces.recording import (
    UNVERIFIED,
    IngestPolicy,
    IngestReport,
    Recorded,
    ingest_policy,
    record,
)
from notifier.errors import UsageError
from notifier.ledger import Ledger
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


def messages_in(source: Path) -> Iterator[Message]:
    """(label, message) for every message in a .eml or .json file, an mbox file or a Maildir:
    a Maildir's messages as their files (read where they are parsed), the others as bytes."""
    if source.is_dir():
        if not (source / "cur").is_dir() and not (source / "new").is_dir():
            raise UsageError(f"{source} is a folder but not a Maildir (no cur/ or new/)")
        yield from _maildir(source)
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


def _maildir(source: Path) -> Iterator[Message]:
    """A Maildir's messages in the order (and under the labels) ``mailbox.Maildir`` lists them
    (cur/, then new/; the key is the file name up to its ":" info; a key in both is listed where
    cur/ has it, with new/'s file), without its per-message look-ups."""
    files: dict[str, Path] = {}
    for sub in ("cur", "new"):
        folder = source / sub
        if not folder.is_dir():
            continue
        for entry in os.listdir(folder):
            path = folder / entry
            if not path.is_dir():
                files[entry.split(mailbox.Maildir.colon)[0]] = path
    for key, path in files.items():
        yield f"{source}/{key}", path


def ingest(
    ledger: Ledger,
    tokens: Tokens,
    sources: list[Path],
    policy: IngestPolicy | None = None,
    processes: int | None = None,
) -> IngestReport:
    """Record every message of ``sources``, in order, a batch per transaction. Large sources
    are read and parsed on every core (``processes``, default one per core; 1 parses here),
    the ledger written here alone. Raises UsageError for a source that is not there or not
    mail; what was read before a failure is recorded."""
    report = IngestReport()
    recorder = BatchRecorder(ledger, tokens, report, policy or IngestPolicy())
    try:
        for source in sources:
            for item in prepared(messages_in(source), processes):
                recorder.add(item)
    except BaseException:
        # Whatever was read before the failure is recorded (the next ingest skips it); if the
        # ledger itself failed, the next ingest records it all.
        with contextlib.suppress(Exception):
            recorder.flush()
        raise
    recorder.flush()
    return report
