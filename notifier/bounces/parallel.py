"""Reading many bounces on every core: reading a message, parsing it and taking its digests is
pure (a file or bytes in, a :class:`Prepared` out), so worker processes do it while this process
records what the previous messages said, in their order.

The ledger is written by this process only; the workers never touch it. A Maildir's messages
travel to the workers as paths (each worker reads its own files) and come back as digests and
the parsed values, never the raw mail: little to copy between processes. Memory stays flat: at
most two windows of messages are held (one being parsed, one being recorded), whatever the size
of the mailbox.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from notifier.bounces.digests import digest_of, legacy_digest
from notifier.bounces.parse import ParsedBounce, parse_bounce
from notifier.errors import UsageError

__all__ = ["AT_LEAST", "Message", "Prepared", "WINDOW", "default_processes", "prepare", "prepared"]

WINDOW = 2048  # messages handed to the workers at a time
AT_LEAST = 512  # fewer messages than this are parsed here (starting workers would cost more)
_CHUNK = 64  # messages per worker task (fewer, larger pickles)

Message = tuple[str, "bytes | Path"]  # (label, the raw message or the file that holds it)


@dataclass(frozen=True, slots=True)
class Prepared:
    """One message, ready to record: where it came from, its identity and what it says."""

    label: str
    digest: str
    legacy: str  # the digest earlier versions recorded (its exact bytes)
    parsed: ParsedBounce


def default_processes() -> int:
    """One parsing process per core this process may run on."""
    return max(1, len(os.sched_getaffinity(0)))


def prepare(message: Message) -> Prepared:
    """Read (when given a file), parse and identify one message. Raises UsageError when the
    file cannot be read."""
    label, source = message
    if isinstance(source, Path):
        try:
            raw = source.read_bytes()
        except OSError as exc:
            raise UsageError(
                f"{label}: cannot read this message ({exc.strerror or exc})",
                hint="a mail client may have moved it while it was being read: run the same command "
                "again (what was recorded stays recorded, nothing is recorded twice)",
            ) from None
    else:
        raw = source
    parsed = parse_bounce(raw)
    return Prepared(label, digest_of(raw, parsed), legacy_digest(raw, parsed), parsed)


def _prepare_in_worker(message: Message) -> Prepared | str:
    """:func:`prepare` in a worker: an error comes back as its message (our errors carry a
    hint that does not survive the trip between processes)."""
    try:
        return prepare(message)
    except UsageError as exc:
        return f"{exc}\n{exc.hint}"


def prepared(
    messages: Iterable[Message], processes: int | None = None, *, at_least: int = AT_LEAST
) -> Iterator[Prepared]:
    """Every message prepared, in order. With more than one process and at least ``at_least``
    messages, the reading and parsing happen in worker processes. Raises UsageError when a
    message cannot be read."""
    processes = default_processes() if processes is None else processes
    stream = iter(messages)
    first = list(islice(stream, max(at_least, 1)))
    if processes <= 1 or len(first) < at_least:
        for message in first:
            yield prepare(message)
        for message in stream:
            yield prepare(message)
        return
    # Forked workers start at once and inherit the compiled phrase tables; they only parse.
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        window = first
        pending = pool.map_async(_prepare_in_worker, window, _CHUNK)
        while window:
            results = pending.get()
            window = list(islice(stream, WINDOW))
            if window:
                pending = pool.map_async(_prepare_in_worker, window, _CHUNK)
            for result in results:
                if isinstance(result, str):
                    what, _, hint = result.partition("\n")
                    raise UsageError(what, hint=hint)
                yield result
