"""`notify`: parse the arguments, look the command up in :data:`DISPATCH`, run its handler,
and turn every error into a message and an exit code. No business logic here.

Exit codes: 0 success; 1 the job ran but something needs attention (recipients
failed or were rejected); 2 usage or configuration error.
"""

from __future__ import annotations

import logging
import os
import select
import sys
import tempfile
import traceback
from collections.abc import Sequence
from typing import TextIO

from notifier import __version__
from notifier.cli.commands import (
    audit,
    bounces,
    channels,
    check,
    deadlines,
    digest,
    dkim,
    init,
    letters,
    lint,
    lists,
    offers,
    preview,
    regulators,
    report,
    schedule,
    send,
    serve,
    status,
    substitute,
    suppress,
)
from notifier.cli.options import Handler, known_notice
from notifier.cli.parser import build, command_of
from notifier.errors import Aborted, NotifierError

__all__ = ["DISPATCH", "main", "run"]

# The command as typed -> the function that runs it.
DISPATCH: dict[str, Handler] = {
    "init": init.init,
    "lists check": lists.check,
    "send": send.send,
    "check": check.check,
    "check spf": check.spf,
    "preview": preview.preview,
    "schedule": schedule.create,
    "schedule list": schedule.list_schedules,
    "schedule cancel": schedule.cancel,
    "schedule confirm": schedule.confirm,
    "run-due": schedule.run_due,
    "worker": schedule.worker,
    "audit verify": audit.verify,
    "audit export": audit.export,
    "serve": serve.serve,
    "lint": lint.lint,
    "deadlines": deadlines.deadlines,
    "digest": digest.digest,
    "regulators": regulators.show,
    "regulators draft": regulators.draft,
    "offers": offers.show,
    "offers import": offers.import_file,
    "offers report": offers.report,
    "channels": channels.channels,
    "channels log": channels.log,
    "substitute": substitute.substitute,
    "substitute posted": substitute.posted,
    "letters build": letters.build,
    "letters returned": letters.returned,
    "dkim keygen": dkim.keygen,
    "bounces parse": bounces.parse,
    "bounces ingest": bounces.ingest_sources,
    "suppress add": suppress.add,
    "suppress remove": suppress.remove,
    "suppress list": suppress.show,
    "status": status.status,
    "report": report.report,
}


def run(argv: Sequence[str] | None = None, *, stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    """Run one command; returns its exit code. Errors are printed, not raised."""
    out = out or sys.stdout
    stdin = stdin or sys.stdin
    args = build().parse_args(argv)
    _configure_logging()
    try:
        known_notice(args)
        return DISPATCH[command_of(args)](args, out, stdin)
    except Aborted as exc:
        # The person said no at a prompt: a choice, not an error (exit 0).
        out.write("\nCancelled, nothing sent.\n")
        if exc.hint:
            sys.stderr.write(f"notify: what to do: {exc.hint}\n")
        return exc.exit_code
    except NotifierError as exc:
        sys.stderr.write(f"notify: error: {exc.message}\n")
        if exc.hint:
            sys.stderr.write(f"notify: what to do: {exc.hint}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("notify: interrupted\n")
        return 130
    except OSError as exc:
        if isinstance(exc, BrokenPipeError) and _reader_gone(out):
            raise  # `notify report | head`: main() ends quietly
        # Disk full, permissions, a vanished file: what was recorded so far stays recorded.
        where = f" ({exc.filename})" if exc.filename else ""
        sys.stderr.write(f"notify: error: {exc.strerror or exc}{where}\n")
        sys.stderr.write("notify: what to do: fix the cause and run the same command again; it resumes\n")
        return 1


class _StderrHandler(logging.Handler):
    """Writes to whatever sys.stderr is at the time (it may be replaced after set-up)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except (OSError, ValueError):
            self.handleError(record)


def _configure_logging() -> None:
    """Our own progress lines on stderr; other libraries stay at their defaults."""
    log = logging.getLogger("notifier")
    if not log.handlers:
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("notify: %(message)s"))
        log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def _reader_gone(stream: TextIO) -> bool:
    """True when ``stream`` is a pipe whose reader has left (`notify report | head`), as opposed
    to a broken connection elsewhere, which is a real error."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):  # a StringIO, a closed stream
        return False
    if not hasattr(select, "poll"):
        return True
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(events & select.POLLERR for _, events in poller.poll(0))


def _internal_error(exc: BaseException) -> int:
    """A bug, not a user mistake: one short line, and the traceback in a private file.

    Tracebacks may quote list values, so they go to a 0600 file (mkstemp), never to the
    terminal or a log. NOTIFY_DEBUG=1 re-raises instead, for tests and bug hunting.
    """
    sys.stderr.write(f"notify: internal error ({type(exc).__name__}): this is a bug in notify.\n")
    try:
        fd, name = tempfile.mkstemp(prefix="notify-internal-error-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(f"notify {__version__}\n")
            traceback.print_exception(exc, file=fh)
    except OSError:
        sys.stderr.write("notify: what to do: run it again with NOTIFY_DEBUG=1 to see the details\n")
    else:
        sys.stderr.write(
            f"notify: the details are in {name} (private, 0600): please attach it to a bug report. "
            "What was recorded so far stays recorded.\n"
        )
    return 1


def main() -> None:
    try:
        code = run()
        sys.stdout.flush()  # a reader that left shows here, inside the guard, not at exit
    except BrokenPipeError:
        # `notify report | head`: the reader took what it wanted. Not an error; and point
        # stdout at /dev/null so the interpreter's own final flush does not complain.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        # Whatever was cut short (a half-read ledger cursor) is cleaned up as this frame goes;
        # nothing it could say then helps a reader who has left.
        sys.unraisablehook = lambda _unraisable: None
        code = 0
    except Exception as exc:
        if os.environ.get("NOTIFY_DEBUG"):
            raise
        code = _internal_error(exc)
    sys.exit(code)
