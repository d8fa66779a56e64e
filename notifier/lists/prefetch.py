"""Reading a large list on the machine's other core while the ledger writes the rows already read.

A million-row import spends about as long parsing and checking the CSV (notifier.lists.recipients)
as writing the ledger; both on one core, the import takes their sum. Here a child process runs
:func:`read_list` and sends the rows back in batches as plain tuples (fields as JSON text, which
the parent reads with orjson far faster than it could unpickle objects), so the parent only
rebuilds each row and writes it: the import takes about the longer of the two.

The rows, their order, their line numbers, rejects and warnings are exactly read_list's. Small
lists (below PREFETCH_BYTES), lists checked against DNS (the resolver stays in this process), and
any list while no core is free (the load average) are read here as before. A list that cannot
be used at all (missing, empty, no email column) raises ListError here, before the child starts.
The pipe holds a few batches at most, so memory stays flat; if this process dies, the child's
next write fails and it exits.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import orjson

from notifier.errors import ListError
from notifier.lists.recipients import read_list
from notifier.models import ListRow, Recipient, Reject

__all__ = ["PREFETCH_BYTES", "read_list_prefetched"]

PREFETCH_BYTES = 8_000_000  # about 50,000 rows of a typical list; below, a child costs more than it saves
BATCH = 2000  # rows per message on the pipe


def read_list_prefetched(
    path: Path, *, check_deliverability: bool = False, dns_resolver: Any = None
) -> Iterator[ListRow]:
    """:func:`read_list`'s rows, read by a child process when the list is large.

    Raises ListError as read_list does (a child that fails later: ListError naming the list).
    """
    rows = read_list(path, check_deliverability=check_deliverability, dns_resolver=dns_resolver)
    first = next(rows, None)  # the header is checked here: ListError comes from this process
    if first is None:
        return
    if check_deliverability or path.stat().st_size < PREFETCH_BYTES or not _core_free():
        yield first
        yield from rows
        return
    rows.close()
    yield from _from_child(path)


def _core_free() -> bool:
    """Whether another core is idle: the child costs about a third more CPU in all (the rows
    cross a pipe), which only pays when it runs beside the ledger's writes, not in turn with
    them (measured: at a load of 6 on 2 cores, the import took 1.8x as long with the child)."""
    try:
        load = os.getloadavg()[0]
    except OSError:  # no load average on this system: assume the machine is ours
        return True
    return load < (os.cpu_count() or 1) - 1


def _from_child(path: Path) -> Iterator[ListRow]:
    # fork: the child starts at once with everything imported; it touches nothing it inherits but
    # the list file, and multiprocessing ends it with os._exit (no inherited handle is closed).
    ctx = multiprocessing.get_context("fork")
    ours, theirs = ctx.Pipe(duplex=False)
    child = ctx.Process(
        target=_produce, args=(str(path), theirs, ours), daemon=True, name="notify-list-reader"
    )
    child.start()
    theirs.close()
    source = str(path)
    try:
        while True:
            try:
                batch = ours.recv()
            except EOFError:
                raise ListError(
                    f"{path}: the process reading the list stopped (exit code {child.exitcode})",
                    hint="run the same command again; if it keeps stopping, check the file and free memory",
                ) from None
            if isinstance(batch, str):
                if batch:
                    raise ListError(
                        f"{path}: could not be read: {batch}", hint="check the file, then run again"
                    )
                return
            for item in batch:
                yield _row(source, item)
    finally:
        ours.close()
        child.join(5)
        if child.is_alive():
            child.kill()
            child.join()


def _row(source: str, item: tuple[Any, ...]) -> ListRow:
    if item[0]:  # a recipient: (1, email, key, line, fields, smtputf8, warnings)
        _, email, key, line, fields, utf8, warnings = item
        return ListRow(Recipient(email, key, source, line, orjson.loads(fields), utf8), None, warnings)
    _, line, reason, kind, raw, email, fields = item
    loaded = orjson.loads(fields) if fields is not None else None
    return ListRow(None, Reject(source, line, reason, kind, raw, email, loaded))


def _produce(path: str, out: Connection, reader: Connection) -> None:
    """The child: read_list's rows as tuples, a batch at a time; then "" (done) or the error.
    ``reader``: the parent's end, inherited by the fork: closed first, so that when the parent
    dies nobody holds it and the next write fails (BrokenPipeError) instead of waiting forever."""
    reader.close()
    batch: list[tuple[Any, ...]] = []
    try:
        for row in read_list(Path(path)):
            r, j = row.recipient, row.reject
            if r is not None:
                batch.append((1, r.email, r.key, r.line, orjson.dumps(r.fields), r.smtputf8, row.warnings))
            elif j is not None:
                fields = orjson.dumps(j.fields) if j.fields is not None else None
                batch.append((0, j.line, j.reason, j.kind, j.raw, j.email, fields))
            if len(batch) >= BATCH:
                out.send(batch)
                batch = []
        out.send(batch)
        out.send("")
    except BrokenPipeError:  # the importer is gone: nothing to tell
        return
    except Exception as exc:  # told to the importer, which raises ListError naming the list
        out.send(f"{type(exc).__name__}: {exc}")
    finally:
        out.close()
