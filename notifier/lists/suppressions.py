"""A suppression list shared by several campaigns (``[bounces] shared_suppressions``).

A plain text file, one address per line with its reason and time (tab-separated), created
0600 and only ever appended to under an exclusive lock, so campaigns on one machine can share
it safely. Each campaign copies it into its own ledger before planning a send, and appends to
it whenever a hard bounce, a complaint or `notify suppress add` suppresses an address.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from collections.abc import Iterable
from pathlib import Path

__all__ = ["SharedSuppressions"]

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
