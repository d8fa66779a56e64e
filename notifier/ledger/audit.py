"""The audit trail: an append-only log of everything done to a campaign, authenticated with a
key the ledger never holds.

Each entry is (seq, at, user, host, action, details) plus the hash of the previous entry; its
own ``hash`` is HMAC-SHA256 under the campaign's *audit key* over all of that, so the entries
form a chain that only the key holder can extend or rewrite. The ledger keeps the newest
(count, hash) as the head, with its own HMAC, in the same transaction as each append.

The audit key is not in the ledger on purpose: whoever can write the ledger (a PostgreSQL
administrator, anyone holding a copy of the SQLite file) must not be able to forge entries.
It comes from ``NOTIFY_AUDIT_KEY`` or from ``.notify/audit.key`` beside notify.toml (created
0600 when the ledger is made). The token key (``ledger.secret()``) is stored in the ledger, so
it cannot serve here.

``verify`` walks the chain and names every entry edited, deleted (a gap), reordered, added
without the key, cut off the end, a head removed or forged, and a log emptied or rebuilt without
the key. Someone who *has* the key can rebuild the log; the head hash an operator wrote down
elsewhere (``notify audit verify --head HASH``) catches that too.

Entries written by notify before entries were keyed carry a plain SHA-256 (``entry_hash``); they
are reported as legacy, and vouched for by the first keyed entry after them.

Details hold counts, hashes and identifiers, never message bodies or addresses.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import hashlib
import hmac
import json
import os
import secrets
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from notifier.errors import ConfigError

__all__ = [
    "AuditEntry",
    "AuditKey",
    "GENESIS",
    "Head",
    "KEY_ENV",
    "Verdict",
    "entry_hash",
    "entry_mac",
    "file_sha256",
    "head_mac",
    "key_id",
    "operator",
    "tree_hashes",
    "verify",
]

GENESIS = "0" * 64
KEY_ENV = "NOTIFY_AUDIT_KEY"
# Whatever writes the first entry of a ledger: the log starts here, so an empty log, or one
# that starts after the ledger's own recorded activity, was deleted.
CREATE, UPGRADE = "ledger.create", "ledger.upgrade"


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


@dataclass(frozen=True)
class Head:
    """The newest entry as of the last append: count, its hash, and an HMAC over both
    ("" when an older notify wrote it)."""

    count: int
    hash: str
    mac: str = ""


def canonical(details: dict[str, Any]) -> str:
    return json.dumps(details, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _text(seq: int, at: float, user: str, host: str, action: str, details: str, prev: str) -> bytes:
    return "\x1f".join((str(seq), repr(at), user, host, action, details, prev)).encode()


def entry_hash(seq: int, at: float, user: str, host: str, action: str, details: str, prev: str) -> str:
    """The unkeyed hash older notify builds wrote; anyone can compute it, so it proves nothing
    on its own."""
    return hashlib.sha256(_text(seq, at, user, host, action, details, prev)).hexdigest()


def entry_mac(
    key: bytes, seq: int, at: float, user: str, host: str, action: str, details: str, prev: str
) -> str:
    message = b"notify-audit-entry-v1\x1f" + _text(seq, at, user, host, action, details, prev)
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def head_mac(key: bytes, count: int, digest: str) -> str:
    return hmac.new(key, f"notify-audit-head-v1\x1f{count}\x1f{digest}".encode(), hashlib.sha256).hexdigest()


def key_id(key: bytes) -> str:
    """A short name for a key that gives nothing of it away (kept in the ledger, so a sender
    with another key is refused before it writes entries nobody can verify)."""
    return hmac.new(key, b"notify-audit-key-id", hashlib.sha256).hexdigest()[:16]


class AuditKey:
    """Where one campaign's audit key comes from: ``NOTIFY_AUDIT_KEY``, else a 0600 file.

    ``scratch``: a throwaway ledger (a check, a preview, a dry-run copy): use the key file if
    there is one, else a random key held in memory; never create a file, never refuse.
    """

    def __init__(
        self, path: Path, *, environ: Mapping[str, str] | None = None, scratch: bool = False
    ) -> None:
        self.path = path
        self.scratch = scratch
        self._env = (os.environ if environ is None else environ).get(KEY_ENV, "")

    @property
    def source(self) -> str:
        return KEY_ENV if self._env else str(self.path)

    def _from_env(self) -> bytes:
        text = self._env.strip()
        if len(text) < 32:
            raise ConfigError(
                f"{KEY_ENV} is shorter than 32 characters",
                hint="use a long random value: `python -c 'import secrets; print(secrets.token_hex(32))'`",
            )
        try:
            return bytes.fromhex(text) if len(text) % 2 == 0 else text.encode()
        except ValueError:
            return text.encode()

    def _from_file(self) -> bytes | None:
        try:
            text = self.path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"cannot read the audit key {self.path}: {getattr(exc, 'strerror', None) or exc}",
                hint="it must be readable by whoever runs notify (and nobody else: 0600)",
            ) from None
        try:
            key = bytes.fromhex(text)
        except ValueError:
            key = b""
        if len(key) < 16:
            raise ConfigError(
                f"the audit key {self.path} is not a key notify wrote (64 hex digits expected)",
                hint="restore it from your backup; without it the audit log cannot be verified or extended",
            )
        return key

    def _create(self) -> bytes:
        """A new random key, written 0600 in one step so a concurrent notify reads either
        nothing or the whole key (link refuses to overwrite a key another process made)."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        try:
            os.write(fd, (secrets.token_bytes(32).hex() + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, self.path)
        except FileExistsError:
            pass
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        key = self._from_file()
        assert key is not None
        return key

    def for_writing(self, *, may_create: bool) -> tuple[bytes, str]:
        """(key, where it came from: environment, existing, created or scratch)."""
        if self._env:
            return self._from_env(), "environment"
        try:
            key = self._from_file()
        except ConfigError:
            if self.scratch:
                return secrets.token_bytes(32), "scratch"
            raise
        if key is not None:
            return key, "existing"
        if self.scratch:
            return secrets.token_bytes(32), "scratch"
        if not may_create:
            raise self._missing("this campaign's audit log is keyed, but the key is not here")
        return self._create(), "created"

    def for_reading(self) -> bytes:
        if self._env:
            return self._from_env()
        key = self._from_file()
        if key is None:
            raise self._missing("the audit key is missing")
        return key

    def _missing(self, what: str) -> ConfigError:
        return ConfigError(
            f"{what}: {self.path} does not exist and {KEY_ENV} is not set",
            hint=f"restore {self.path} (made 0600 beside notify.toml with the ledger) from your backup, "
            f"or set {KEY_ENV}; every machine that writes this campaign's ledger needs the same key",
        )


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


@dataclass
class Verdict:
    """What ``verify`` found: problems mean the log was altered (exit 1); warnings do not."""

    entries: int = 0
    keyed: int = 0
    head: str = ""  # hash of the last entry: what an operator writes down
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    anchor: int | None = None  # the entry whose hash the operator recorded (--head)

    @property
    def intact(self) -> bool:
        return not self.problems


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="seconds")


def _span(seqs: list[int]) -> str:
    return f"entry {seqs[0]}" if len(seqs) == 1 else f"entries {seqs[0]}..{seqs[-1]}"


def verify(
    entries: Iterable[AuditEntry],
    head: Head | None,
    key: bytes,
    *,
    stored_key_id: str | None = None,
    activity: Mapping[str, Any] | None = None,
    recorded: str | None = None,
) -> Verdict:
    """Check the log against ``key``. ``activity`` (counts of the ledger's lists, runs and
    messages, and ``first_at``, the earliest of them) cross-checks a log emptied or restarted;
    ``recorded`` is a head hash the operator wrote down earlier."""
    v = Verdict()
    expected_seq, prev_hash, last = 1, GENESIS, None
    legacy: list[int] = []  # unkeyed entries before the first keyed one
    first: AuditEntry | None = None
    first_keyed: AuditEntry | None = None
    for e in entries:
        v.entries += 1
        first = first or e
        if e.seq != expected_seq:
            if e.seq > expected_seq:
                v.problems.append(f"entries {expected_seq}..{e.seq - 1} are missing (deleted)")
            else:
                v.problems.append(f"entry {e.seq} is out of order (after {expected_seq - 1})")
        if e.prev != prev_hash:
            v.problems.append(
                f"entry {e.seq} ({e.action}) does not follow the entry before it: deleted or reordered"
            )
        fields = (e.seq, e.at, e.user, e.host, e.action, e.details, e.prev)
        if hmac.compare_digest(entry_mac(key, *fields), e.hash):
            v.keyed += 1
            first_keyed = first_keyed or e
        elif hmac.compare_digest(entry_hash(*fields), e.hash):
            if first_keyed is None:
                legacy.append(e.seq)
            else:
                v.problems.append(
                    f"entry {e.seq} ({e.action}) was not written with the campaign's audit key: "
                    "added or rewritten by someone without it"
                )
        else:
            v.problems.append(f"entry {e.seq} ({e.action}) was changed after it was written")
        if recorded and e.hash.startswith(recorded):
            v.anchor = e.seq  # the chain checks above vouch for every entry after it
        expected_seq, prev_hash, last = e.seq + 1, e.hash, e
    v.head = last.hash if last else ""
    act = dict(activity or {})
    if last is None:
        names = {"lists": "list import(s)", "runs": "run(s)", "messages": "message(s)"}
        used = ", ".join(f"{act[k]} {name}" for k, name in names.items() if act.get(k))
        v.problems.append(
            "the log is empty: every ledger starts with a keyed ledger.create entry, so the log "
            "was emptied" + (f" (the ledger still records {used})" if used else "")
        )
    elif first_keyed is None:
        v.problems.append(
            f"no entry carries this campaign's audit key ({v.entries} entries): the log was rebuilt "
            "by someone without the key, or this is not the campaign's key"
        )
    else:
        details = json.loads(first_keyed.details) if first_keyed.action == UPGRADE else {}
        origin, first_at = details.get("key", ""), act.get("first_at")
        if first_keyed.action == UPGRADE and origin == "existing":
            v.problems.append(
                f"entry {first_keyed.seq} keyed a log the key had never signed although the key "
                "already existed: the log was rebuilt or emptied without the key before it"
            )
        elif legacy and first_keyed.action != UPGRADE:
            v.problems.append(
                f"{_span(legacy)} carry no key although keyed entries follow: "
                "the log was rebuilt without the key"
            )
        elif legacy:
            caveat = f", but {KEY_ENV} was set before: check they are as you remember"
            v.warnings.append(
                f"{_span(legacy)} were written by an older notify, before entries were keyed; "
                f"keyed entry {first_keyed.seq} ({UPGRADE}) vouches for them from then on"
                + (caveat if origin == "environment" else "")
            )
        elif (
            first_keyed.action == UPGRADE
            and int(details.get("from", 0)) >= 2
            and first_at is not None
            and first_at < first_keyed.at
        ):
            v.problems.append(
                f"the ledger records activity from {_iso(first_at)} but the log starts at its upgrade "
                f"({_iso(first_keyed.at)}) with nothing before it: the older entries were deleted"
            )
        if first is not None and first.action == CREATE and first_at is not None and first_at < first.at:
            v.problems.append(
                f"the ledger records activity from {_iso(first_at)}, before the log's first entry "
                f"({CREATE} at {_iso(first.at)}): the earlier entries were deleted and the log restarted"
            )
    if head is None:
        if last is not None:
            v.problems.append("the head record is missing (removed): the end of the log is unvouched")
    else:
        if head.mac:
            if not hmac.compare_digest(head_mac(key, head.count, head.hash), head.mac):
                v.problems.append("the head record was rewritten by someone without the campaign's audit key")
        elif first_keyed is not None:
            v.problems.append("the head record carries no key: rewritten by someone without it")
        if last is None:
            if head.count:
                v.problems.append(f"the head records {head.count} entries but none remain (deleted)")
        elif last.seq < head.count:
            v.problems.append(
                f"the log ends early: the head records {head.count} entries, {last.seq} remain (truncated)"
            )
        elif last.seq > head.count:
            v.problems.append(
                f"entries {head.count + 1}..{last.seq} come after the head: added without moving it"
            )
        elif last.hash != head.hash:
            v.problems.append(f"entry {last.seq} does not match the head record")
    if stored_key_id is not None and stored_key_id != key_id(key):
        v.problems.append(
            f"the ledger says its log is keyed with key {stored_key_id}, this key is {key_id(key)}: "
            f"either {KEY_ENV} or the key file is not this campaign's, or the ledger was altered"
        )
    if recorded and v.anchor is None:
        v.problems.append(
            f"the log no longer reaches the head you recorded ({recorded[:16]}...): "
            "it was rebuilt or cut back since"
        )
    return v
