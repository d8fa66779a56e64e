"""The audit trail: an append-only, hash-chained log of everything done to a campaign.

Each entry is (seq, at, user, host, action, details) plus the hash of the previous entry; its
own hash is SHA-256 over all of that. The ledger keeps the newest (count, hash) as the head, in
the same transaction as each append. ``verify`` walks the chain and names every entry that was
edited (its hash no longer matches), deleted (a gap in the sequence), reordered (its previous
hash does not match the entry before it) or cut off the end (fewer entries than the head says).

What it cannot do on its own: someone who can write the ledger file can rebuild the whole chain.
`notify audit verify` prints the head hash; copying it into the incident log (or a ticket, an
email to counsel) from time to time anchors everything before it.

Details hold counts, hashes and identifiers, never message bodies or addresses.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["AuditEntry", "GENESIS", "entry_hash", "file_sha256", "operator", "tree_hashes", "verify"]

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: float
    user: str
    host: str
    action: str
    details: str  # canonical JSON
    prev: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "user": self.user,
            "host": self.host,
            "action": self.action,
            "details": json.loads(self.details),
            "prev": self.prev,
            "hash": self.hash,
        }


def canonical(details: dict[str, Any]) -> str:
    return json.dumps(details, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(seq: int, at: float, user: str, host: str, action: str, details: str, prev: str) -> str:
    text = "\x1f".join((str(seq), repr(at), user, host, action, details, prev))
    return hashlib.sha256(text.encode()).hexdigest()


def operator() -> tuple[str, str]:
    """(operating-system user, host) of whoever runs this process."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return user, socket.gethostname()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def tree_hashes(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` (a notice's templates), by relative path."""
    if not folder.is_dir():
        return {}
    return {str(p.relative_to(folder)): file_sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def verify(entries: Iterable[AuditEntry], head: tuple[int, str] | None) -> list[str]:
    """Every problem with the chain, in order; empty when it is intact."""
    problems: list[str] = []
    expected_seq, prev_hash, count, last = 1, GENESIS, 0, None
    for e in entries:
        count += 1
        if e.seq != expected_seq:
            if e.seq > expected_seq:
                problems.append(f"entries {expected_seq}..{e.seq - 1} are missing (deleted)")
            else:
                problems.append(f"entry {e.seq} is out of order (after {expected_seq - 1})")
        if e.prev != prev_hash:
            problems.append(
                f"entry {e.seq} ({e.action}) does not follow the entry before it: deleted or reordered"
            )
        if entry_hash(e.seq, e.at, e.user, e.host, e.action, e.details, e.prev) != e.hash:
            problems.append(f"entry {e.seq} ({e.action}) was changed after it was written")
        expected_seq, prev_hash, last = e.seq + 1, e.hash, e
    if head is not None:
        head_count, head_hash = head
        if count < head_count or (last is not None and last.seq < head_count):
            problems.append(
                f"the log ends early: the head records {head_count} entries, {count} remain (truncated)"
            )
        elif last is not None and last.hash != head_hash and last.seq == head_count:
            problems.append(f"entry {last.seq} does not match the recorded head hash")
        elif last is None and head_count:
            problems.append(f"the log is empty but the head records {head_count} entries (truncated)")
    return problems
