"""A suppression list shared by several campaigns (``[bounces] shared_suppressions``).

A plain text file, one address per line with its reason and time (tab-separated), created
0600 and only ever appended to under an exclusive lock, so campaigns on one machine can share
it safely. Each campaign copies it into its own ledger before planning a send, and appends to
it whenever a hard bounce, a complaint or `notify suppress add` suppresses an address.

:func:`suppress` and :func:`unsuppress` are `notify suppress add/remove`: the campaign's ledger
and the shared file change together.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from email_validator import EmailNotValidError, validate_email

from notifier.errors import UsageError
from notifier.ledger import Ledger
from notifier.lists.recipients import dedupe_key
from notifier.settings import Settings

__all__ = ["SharedSuppressions", "suppress", "unsuppress"]

_REMOVED = "removed"


class SharedSuppressions:
    def __init__(self, path: Path) -> None:
        self.path = path

    def add(self, keys: Iterable[str], reason: str) -> None:
        lines = [
            f"{k}\t{reason}\t{dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}\n"
            for k in keys
            if k and "\t" not in k and "\n" not in k
        ]
        if not lines:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, "".join(lines).encode())
        finally:
            os.close(fd)

    def remove(self, keys: Iterable[str]) -> None:
        self.add(keys, _REMOVED)

    def entries(self) -> dict[str, str]:
        """address key -> reason (the latest line wins; a removal takes the address off)."""
        if not self.path.exists():
            return {}
        out: dict[str, str] = {}
        with self.path.open(encoding="utf-8") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_SH)
            for line in fh:
                key, _, rest = line.rstrip("\n").partition("\t")
                if key and not key.startswith("#"):
                    out[key] = rest.partition("\t")[0] or "shared"
        return {k: r for k, r in out.items() if r != _REMOVED}


def _shared(settings: Settings) -> SharedSuppressions | None:
    return SharedSuppressions(settings.shared_suppressions) if settings.shared_suppressions else None


def _key(address: str) -> str | None:
    """The list's key for ``address`` (as the list reader makes it), or None if it is none."""
    try:
        return dedupe_key(validate_email(address.strip(), check_deliverability=False).normalized)
    except EmailNotValidError:
        return None


def suppress(settings: Settings, ledger: Ledger, addresses: Sequence[str], reason: str) -> tuple[int, int]:
    """Suppress ``addresses`` (audited by the ledger); returns (added, already there).

    Every address is checked first: a typo such as a missing @ would otherwise sit on the list
    matching nobody, while the person meant stays reachable. Nothing changes if one is wrong.
    """
    keys = [_key(a) for a in addresses]
    bad = [a for a, k in zip(addresses, keys, strict=True) if k is None]
    if bad:
        shown = ", ".join(repr(a) for a in bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise UsageError(
            f"not an email address: {shown}; nothing was suppressed",
            hint="give whole addresses, e.g. notify suppress add someone@example.com",
        )
    valid = [k for k in keys if k is not None]
    added = ledger.suppress(valid, reason=reason, source="manual")
    shared = _shared(settings)
    if shared is not None:
        shared.add(valid, reason)
    return added, len(valid) - added


def unsuppress(settings: Settings, ledger: Ledger, addresses: Sequence[str]) -> int:
    """Take ``addresses`` off the list; returns how many were on it. Not refused when malformed:
    whatever is on the list (say, from an older version) must be removable."""
    keys = [_key(a) or dedupe_key(a.strip()) for a in addresses]
    removed = ledger.unsuppress(keys)
    shared = _shared(settings)
    if shared is not None:
        shared.remove(keys)
    return removed
