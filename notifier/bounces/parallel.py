"""Reading many bounces on every core: parsing is pure (bytes in, a ParsedBounce out), so worker
processes parse while this process records what the previous messages said, in their order.

The ledger is written by this process only, message after message exactly as a one-process
ingest would; the workers never touch it. Memory stays flat: at most two windows of messages
are held (one being parsed, one being recorded), whatever the size of the mailbox.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Iterator
from itertools import islice

from notifier.bounces.parse import ParsedBounce, parse_bounce

__all__ = ["WINDOW", "default_processes", "parsed"]

WINDOW = 512  # messages handed to the workers at a time
_CHUNK = 32  # messages per worker task (fewer, larger pickles)


def default_processes() -> int:
    """One parsing process per core this process may run on."""
    return max(1, len(os.sched_getaffinity(0)))


def parsed(
    messages: Iterable[tuple[str, bytes]], processes: int | None = None, *, at_least: int = WINDOW
) -> Iterator[tuple[str, bytes, ParsedBounce]]:
    """(label, raw, what it says) for every message, in order. With more than one process and
    at least ``at_least`` messages, the parsing happens in worker processes."""
    processes = default_processes() if processes is None else processes
    stream = iter(messages)
    first = list(islice(stream, max(at_least, 1)))
    if processes <= 1 or len(first) < at_least:
        for label, raw in first:
            yield label, raw, parse_bounce(raw)
        for label, raw in stream:
            yield label, raw, parse_bounce(raw)
        return
    # Forked workers start at once and inherit the compiled phrase tables; they only parse.
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        window = first
        pending = pool.map_async(parse_bounce, [raw for _, raw in window], _CHUNK)
        while window:
            results = pending.get()
            done, window = window, list(islice(stream, WINDOW))
            if window:
                pending = pool.map_async(parse_bounce, [raw for _, raw in window], _CHUNK)
            for (label, raw), result in zip(done, results, strict=True):
                yield label, raw, result
