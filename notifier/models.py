"""Typed values passed between the stages of the pipeline."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Envelope",
    "LedgerState",
    "ListRow",
    "Outcome",
    "Recipient",
    "Reject",
    "Rendered",
    "State",
    "Verdict",
    "merge_duplicate",
    "segment_view",
]


class State(enum.StrEnum):
    """The state of one (notice, recipient) pair in the ledger."""

    PENDING = "pending"  # planned, not yet attempted (or released after a clean stop)
    SENDING = "sending"  # handed to the transport; a hard kill leaves it here
    SENT = "sent"  # the server accepted it (2xx after DATA)
    DEFERRED = "deferred"  # temporary failure, will be retried until the retry window closes
    FAILED = "failed"  # permanent failure (5xx) or the retry window closed
    BOUNCED = "bounced"  # accepted, then bounced (set by bounce handling)
    INVALID = "invalid"  # the list row could not be used (bad address, malformed row)
    SUPPRESSED = "suppressed"  # skipped: on the suppression list


class Verdict(enum.StrEnum):
    """What a transport attempt means for the message."""

    ACCEPTED = "accepted"
    TEMPORARY = "temporary"  # 4xx, connection lost, timeout: retry later
    PERMANENT = "permanent"  # 5xx: never retried (reference: bounces-and-tracking, "Never retry a 5xx")


@dataclass(frozen=True, slots=True)
class Recipient:
    """One valid person from a list, as templates and segments see them.

    ``fields`` holds every non-empty column (known and custom); empty cells are left
    out so that a template using them fails loudly instead of printing a blank.
    """

    email: str  # normalised address to send to (ASCII form when the local part allows)
    key: str  # de-duplication key (normalised, local part lower-cased)
    source: str  # list file
    line: int  # first physical line of the row in that file
    fields: dict[str, Any]
    smtputf8: bool = False

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2].lower()

    def template_view(self) -> dict[str, Any]:
        """The mapping a template sees as ``recipient`` (and a segment, before any ledger state)."""
        return segment_view(self.fields, self.email)


@dataclass(frozen=True, slots=True)
class Reject:
    """A list row that cannot be used, kept with where it came from and why."""

    source: str
    line: int
    reason: str
    kind: str  # "invalid" (bad address) | "malformed" (row shape) | "duplicate" (merged, a warning)
    raw: str
    email: str = ""
    fields: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Rendered:
    """A notice rendered for one recipient: exactly what goes into the MIME parts."""

    subject: str
    html: str
    text: str


@dataclass(frozen=True, slots=True)
class Envelope:
    mail_from: str
    rcpt_to: str
    smtputf8: bool = False


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one attempt, as the ledger records it."""

    verdict: Verdict
    code: int | None
    text: str
    queue_id: str = ""
    at: float = 0.0
    # The SMTP command the reply answered ("MAIL", "RCPT", "DATA"; "" when unknown): the same
    # words mean a dead address at RCPT and a content filter after DATA.
    command: str = ""
    # The message data was sent in full but no reply came (connection lost, timeout): the
    # server may have accepted it, so a resend is possibly a duplicate.
    possibly_delivered: bool = False

    @property
    def accepted(self) -> bool:
        return self.verdict is Verdict.ACCEPTED


@dataclass(frozen=True, slots=True)
class ListRow:
    """One row's result: a recipient (maybe with warnings) or a reject."""

    recipient: Recipient | None
    reject: Reject | None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LedgerState:
    """What the ledger knows about one person, as segments see it. Empty before any send."""

    first_notice: str = ""  # their state for the campaign's first notice ("" when never planned)
    state: str = ""  # their state for the notice being asked about ("" when never planned)
    complained: bool = False  # a complaint tied to a message we sent them
    unsubscribed: bool = False  # opted out of follow-ups
    suppressed: str = ""  # the suppression-list reason, "" when not suppressed


def merge_duplicate(
    first: dict[str, Any], second: dict[str, Any], first_line: int
) -> tuple[dict[str, Any] | None, str]:
    """A second row for the same person in one list: the first row is kept, but the person is told
    about every data category either row lists (a breach notice must not under-report).

    Returns the first row's fields with the extra ``exposed`` categories added (None when there
    are none) and the reason the duplicate is reported with. The ledger import and the audience's
    reading of the lists both merge with this, so their counts agree.
    """
    have = first.get("exposed", [])
    extra = [c for c in second.get("exposed", []) if c not in have]
    reason = f"same address as line {first_line}; merged into that row"
    if not extra:
        return None, reason
    return {**first, "exposed": [*have, *extra]}, f"{reason} (added exposed: {', '.join(extra)})"


def segment_view(fields: dict[str, Any], email: str, state: LedgerState | None = None) -> dict[str, Any]:
    """The ONE mapping a segment expression sees as ``recipient``: the list row's fields plus the
    ledger state. Here (not in lists/ or ledger/) because the ledger's plan and the audience both
    build it and the ledger must not import lists: a second copy is how `unsubscribed` came to be
    always false in the preview."""
    st = state or LedgerState()
    view = dict(fields)
    view["email"] = email
    view.setdefault("exposed", [])
    view["first_notice"] = st.first_notice
    view["complained"] = st.complained
    view["unsubscribed"] = st.unsubscribed
    view["suppressed"] = bool(st.suppressed)
    view["bounced"] = st.first_notice == State.BOUNCED.value
    return view
