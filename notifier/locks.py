"""One process at a time: an exclusive lock on a file beside the ledger, naming its holder."""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path

from notifier.errors import LedgerBusyError

__all__ = ["hold_lock"]


def hold_lock(path: Path, busy: str, hint: str) -> int:
    """Lock ``path`` (created 0600) and write who holds it; returns the descriptor to keep open.

    When another process holds it, raises LedgerBusyError with ``busy`` formatted with
    ``{holder}`` (its pid and host)."""
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown process"
        os.close(fd)
        raise LedgerBusyError(busy.format(holder=holder), hint=hint) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}".encode(), 0)
    return fd
