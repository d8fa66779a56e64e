"""Build the letters: batch PDFs of N letters and a manifest, atomically and resumably.

Each batch is printed by a worker process into a temporary file in the output folder; the main
process then, strictly in batch order, renames it into place and records its letters in the
ledger in one transaction. So a build killed at any moment leaves:

- batches recorded in the ledger, whose PDFs are complete and in place;
- perhaps one PDF renamed but not recorded, and temporary files: the next build removes both
  (the PDF's number is the next batch number, and its people are printed again);

and the next build starts after the last recorded batch. Every person is in exactly one
recorded batch. The manifest is written last, from the ledger, by a temporary file and a rename.

Memory stays flat: people are read in list order and at most ``workers + 1`` batches are in
flight; a batch's layout is freed once it is written.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing as mp
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from notifier.errors import NotifierError, TemplateError, UsageError
from notifier.ledger.base import LetterRow
from notifier.letters.eligible import LetterJob, NoLetter
from notifier.letters.geometry import address_lines
from notifier.letters.manifest import write_manifest
from notifier.render.letters import LetterTemplate, PdfPrinter
from notifier.render.notice import RenderFailure

__all__ = ["BuildReport", "LetterStore", "batch_name", "build_letters", "print_batch"]


class LetterStore(Protocol):
    """The ledger's letter methods (notifier.ledger.base.Ledger has them)."""

    def last_letter_batch(self, notice: str) -> int: ...
    def record_letters(self, notice: str, batch: int, rows: Sequence[LetterRow]) -> None: ...
    def letter_rows(self, notice: str) -> Iterator[LetterRow]: ...


@dataclass
class BuildReport:
    built: int = 0
    batches: int = 0
    pages: int = 0
    problems: list[NoLetter] = field(default_factory=list)  # people who got no letter, and why
    manifest: Path | None = None
    seconds: float = 0.0


def batch_name(notice: str, batch: int) -> str:
    return f"{notice}-{batch:05d}.pdf"


_PRINTER: PdfPrinter | None = None
RECYCLE = 20  # batches a printing process prints before a fresh one takes over


def _printer(templates_dir: Path) -> PdfPrinter:
    global _PRINTER
    if _PRINTER is None or _PRINTER.templates_dir != templates_dir:
        _PRINTER = PdfPrinter(templates_dir)
    return _PRINTER


def print_batch(templates_dir: Path, letters: list[str], temp: Path) -> list[int]:
    """In a worker: print ``letters`` into ``temp`` (0600, created new); their page counts."""
    data, pages = _printer(templates_dir).pdf(letters)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return pages


def _watch_parent(parent: int) -> None:
    """In a worker: exit when the build that started us is gone (kill -9 leaves workers
    waiting on their queue for ever otherwise)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def _clean(output: Path, notice: str, last: int) -> None:
    """Remove what a killed build left: temporary files, and batch PDFs the ledger never recorded."""
    pattern = re.compile(rf"^{re.escape(notice)}-(\d{{5}})\.pdf$")
    for path in output.iterdir():
        m = pattern.match(path.name)
        temporary = path.name.startswith(f".{notice}-") and ".tmp" in path.name
        if temporary or (m is not None and int(m.group(1)) > last):
            path.unlink()


def _refuse_missing(store: LetterStore, notice: str, output: Path) -> None:
    """The batches the ledger recorded must be in ``output``: a build into another (or emptied)
    folder would write a manifest naming PDFs that are not there, and print nobody again."""
    missing = sorted({r.file for r in store.letter_rows(notice)} - {p.name for p in output.iterdir()})
    if missing:
        raise UsageError(
            f"{len(missing)} batch PDFs recorded for {notice!r} are not in {output} "
            f"(e.g. {', '.join(missing[:3])})",
            hint="build into the folder the earlier batches went to, or put those files back; the "
            "ledger prints each person once",
        )


def _batches(
    jobs: Iterable[LetterJob | NoLetter],
    template: LetterTemplate,
    size: int,
    report: BuildReport,
    context: Callable[[LetterJob], Mapping[str, Any]] | None,
) -> Iterator[list[tuple[LetterJob, str]]]:
    """Rendered HTML in batches of ``size``; problems (no address, a template or address that
    does not render) go to the report with the person's row."""
    batch: list[tuple[LetterJob, str]] = []
    for job in jobs:
        if isinstance(job, NoLetter):
            report.problems.append(job)
            continue
        try:
            extra = context(job) if context is not None else None
            batch.append((job, template.html(job.view, job.to, extra)))
        except RenderFailure as exc:
            report.problems.append(NoLetter(job.where, f"{exc.where}: {exc.what}"))
            continue
        except NotifierError as exc:  # e.g. no credit-monitoring code issued to them yet
            report.problems.append(NoLetter(job.where, exc.message))
            continue
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def build_letters(
    jobs: Iterable[LetterJob | NoLetter],
    *,
    template: LetterTemplate,
    store: LetterStore,
    notice: str,
    output: Path,
    batch_size: int,
    workers: int,
    progress: Callable[[BuildReport], None] | None = None,
    context: Callable[[LetterJob], Mapping[str, Any]] | None = None,
) -> BuildReport:
    """Print every job's letter into batch PDFs in ``output`` and record them; then write the
    manifest. Raises OSError when the folder cannot be written (what was recorded stays)."""
    started = time.perf_counter()
    output.mkdir(mode=0o700, parents=True, exist_ok=True)
    last = store.last_letter_batch(notice)
    _clean(output, notice, last)
    _refuse_missing(store, notice, output)
    report = BuildReport()
    templates_dir = template.notice.directory.parent
    # Spawned, not forked: a worker must not inherit the build's lock or the ledger's connection,
    # and it ends itself when the build is killed (_watch_parent). A worker is replaced after
    # RECYCLE batches: WeasyPrint's caches grow by a few MB per thousand letters, and 100,000
    # letters must print in the memory 1,000 do (a new worker costs about a second).
    pool = (
        cf.ProcessPoolExecutor(
            max_workers=workers,
            mp_context=mp.get_context("spawn"),
            initializer=_watch_parent,
            initargs=(os.getpid(),),
            max_tasks_per_child=RECYCLE,
        )
        if workers > 1
        else None
    )
    pending: list[tuple[int, list[LetterJob], Path, cf.Future[list[int]]]] = []

    def commit() -> None:
        number, people, temp, future = pending.pop(0)
        try:
            pages = future.result()
        except cf.process.BrokenProcessPool:
            raise NotifierError(
                f"a printing process died while printing batch {number} (out of memory, or killed)",
                hint="run the same command again: it resumes after the last recorded batch; a smaller "
                "[letters] batch_size needs less memory",
            ) from None
        except OSError:
            raise
        except Exception as exc:  # WeasyPrint's own errors: name the batch, keep what is recorded
            raise TemplateError(
                f"batch {number} could not be printed: {type(exc).__name__}: {str(exc)[:200]}",
                hint="check the letter template's CSS and images; the batches recorded so far are kept, "
                "and running the command again resumes",
            ) from None
        name = batch_name(notice, number)
        os.replace(temp, output / name)
        rows, page = [], 1
        for job, count in zip(people, pages, strict=True):
            rows.append(
                LetterRow(
                    notice,
                    job.letter_id,
                    job.key,
                    number,
                    name,
                    page,
                    count,
                    tuple(address_lines(list(job.to.lines))),
                    "next_of_kin" if job.to.next_of_kin else "recipient",
                    job.where,
                )
            )
            page += count
        store.record_letters(notice, number, rows)
        report.built += len(rows)
        report.batches += 1
        report.pages += page - 1
        if progress is not None:
            progress(report)

    try:
        number = last
        for batch in _batches(jobs, template, batch_size, report, context):
            number += 1
            temp = output / f".{notice}-{number:05d}.tmp-{os.getpid()}"
            htmls = [html for _job, html in batch]
            people = [job for job, _html in batch]
            if pool is None:
                future: cf.Future[list[int]] = cf.Future()
                try:
                    future.set_result(print_batch(templates_dir, htmls, temp))
                except Exception as exc:  # reported by commit(), as a worker's would be
                    future.set_exception(exc)
            else:
                future = pool.submit(print_batch, templates_dir, htmls, temp)
            pending.append((number, people, temp, future))
            while len(pending) > workers or (pending and pending[0][3].done()):
                commit()
        while pending:
            commit()
    finally:
        if pool is not None:
            for _n, _p, _t, future in pending:
                future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
            for _n, _p, temp, _f in pending:
                with contextlib.suppress(FileNotFoundError):
                    temp.unlink()
    report.manifest = write_manifest(store.letter_rows(notice), output / f"{notice}-manifest.csv")
    report.seconds = time.perf_counter() - started
    return report
