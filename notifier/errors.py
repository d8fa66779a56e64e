"""The one error tree of notifier.

Every error a user can see is a :class:`NotifierError`. Each says what went wrong
(naming the file, line, key, recipient row or record) and, in ``hint``, what to do.
The CLI prints both and exits with ``exit_code``: 2 for usage and configuration
problems, 1 for a job that could not run or finish as asked.

    NotifierError
    ├── ConfigError            notify.toml unreadable, unknown key, wrong type      (exit 2)
    ├── UsageError             a command asked for something that does not exist    (exit 2)
    │   └── UnknownSegmentError
    ├── ListError              a list file cannot be read at all (missing, no email column)
    ├── TemplateError          a notice's templates are missing or do not compile
    │   └── RenderError        templates failed for some recipients (grouped report)
    ├── SegmentError           a segment expression failed for a recipient
    ├── LedgerError            the ledger cannot be opened or is in use
    │   ├── LedgerDamaged      the file is not a notify ledger, or is damaged          (exit 2)
    │   └── LedgerBusyError    another `notify send` holds this campaign
    ├── ChecksFailed           `notify send` found FAILs in the pre-send checks
    ├── TransportError         the transport cannot be used at all
    │   ├── TransportConfigError   bad URL, TLS required but unavailable, AUTH in clear
    │   ├── TransportUnavailable   cannot connect or log in when the run starts
    │   └── RelayRefused           the relay refused every recent recipient alike: our problem
    └── Aborted                the user declined the confirmation prompt            (exit 0)
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "Aborted",
    "ChecksFailed",
    "ConfigError",
    "LedgerBusyError",
    "LedgerDamaged",
    "LedgerError",
    "ListError",
    "NotifierError",
    "RelayRefused",
    "RenderError",
    "SegmentError",
    "TemplateError",
    "TransportConfigError",
    "TransportError",
    "TransportUnavailable",
    "UnknownSegmentError",
    "UsageError",
    "did_you_mean",
]


class NotifierError(Exception):
    """Base of every error notifier reports to a user."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class ConfigError(NotifierError):
    """notify.toml (or an environment setting) is missing, malformed or holds a wrong value."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        path: str = "",
        line: int | None = None,
        key: str = "",
        hint: str = "",
    ) -> None:
        where = path + (f":{line}" if line else "")
        super().__init__(f"{where}: {message}" if where else message, hint=hint)
        self.path = path
        self.line = line
        self.key = key


class UsageError(NotifierError):
    """The command line asked for something that does not exist or does not fit together."""

    exit_code = 2


class UnknownSegmentError(UsageError):
    """A segment name that is neither built in nor defined in [segments]."""


class ListError(NotifierError):
    """A list file cannot be read at all. Problems with single rows are rejects, not errors."""


class TemplateError(NotifierError):
    """A notice's templates are missing or do not compile."""


class RenderError(TemplateError):
    """Templates failed for some recipients; nothing was sent.

    ``failures`` holds one line per distinct problem (template, line, what failed,
    how many recipients, their first list rows).
    """

    def __init__(self, message: str, failures: list[str], *, hint: str = "") -> None:
        super().__init__(message + "\n" + "\n".join("  " + f for f in failures), hint=hint)
        self.failures = failures


class SegmentError(NotifierError):
    """A segment expression could not be evaluated for a recipient."""


class LedgerError(NotifierError):
    """The ledger cannot be opened, or holds data this version cannot read."""


class LedgerDamaged(LedgerError):
    """The ledger file is not a notify ledger (a wrong path) or is damaged: restore a backup."""

    exit_code = 2


class LedgerBusyError(LedgerError):
    """Another `notify send` is running on the same campaign ledger."""


class ChecksFailed(NotifierError):
    """Sender authentication or message checks failed, so nothing was sent."""


class TransportError(NotifierError):
    """The transport cannot be used at all (as opposed to one message failing)."""


class TransportConfigError(TransportError):
    """The transport URL or its security settings are wrong."""

    exit_code = 2


class TransportUnavailable(TransportError):
    """The transport could not be reached or refused our login when the run started."""


class RelayRefused(TransportError):
    """The relay (or the receivers behind it) gave every recent recipient the same refusal about
    us: our reputation or set-up. The run stopped; nobody was marked failed for it."""

    def __init__(self, message: str, *, hint: str = "", summary: dict[str, object] | None = None) -> None:
        super().__init__(message, hint=hint)
        self.summary = summary or {}  # the run's figures, for the ledger's record of the run


class Aborted(NotifierError):
    """The user answered no at a confirmation prompt.

    Not a failure: the user chose, nothing was sent, so the exit code is 0 and the CLI
    says "Cancelled, nothing sent" rather than "error".
    """

    exit_code = 0


def did_you_mean(name: str, names: Iterable[str]) -> str:
    """``"did you mean 'affected'?"`` for the closest of ``names`` to a mistyped ``name``, or ""."""
    close = difflib.get_close_matches(name, list(names), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else ""
