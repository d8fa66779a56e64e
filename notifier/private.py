"""Files we write that hold people's data: private (0600) from the first byte.

An existing file is made 0600 before anything is written to it (a report written over an older
0644 export must not stay readable by others), and a symbolic link in its place is refused
rather than followed.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from notifier.errors import UsageError

__all__ = ["private_text"]


@contextlib.contextmanager
def private_text(path: Path) -> Iterator[TextIO]:
    """Open ``path`` for writing text (truncated), mode 0600. Raises UsageError naming the file
    when it cannot be written or is a symbolic link."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        why = "it is a symbolic link" if exc.errno == errno.ELOOP else exc.strerror
        raise UsageError(
            f"cannot write {path}: {why}", hint="choose a plain file in a folder only you can read"
        ) from None
    try:
        os.fchmod(fd, 0o600)
    except OSError:
        os.close(fd)
        raise
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        yield fh
