"""Recording what one bounce says: which message and recipient it is tied to (its VERP token,
provider message id or Message-ID), what it changes (bounced, suppressed), and how it is counted
in the ingest's report. One at a time here (`notify serve`'s SNS events, IMAP); many at a time
in ``notifier.bounces.batch``, with the same answers. The trust rules are in
``notifier.bounces.ingest``'s docstring.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from notifier.bounces.digests import digest_of, legacy_digest
from notifier.bounces.parse import ParsedBounce
from notifier.ledger import BounceEntry, Ledger
from notifier.lists.recipients import dedupe_key
from notifier.lists.suppressions import SharedSuppressions
from notifier.settings import Settings
from notifier.tokens import Tokens

__all__ = [
    "IngestPolicy",
    "IngestReport",
    "Plan",
    "Recorded",
    "UNVERIFIED",
    "account",
    "ingest_policy",
    "plan_for",
    "record",
    "record_digested",
    "unsubscribe_row",
    "verp_of",
]

UNVERIFIED = "names an address we sent to, but carries none of our tokens; nothing changed"


@dataclass
class IngestReport:
    messages: int = 0
    already_seen: int = 0
    recipients: int = 0
    matched: dict[str, int] = field(default_factory=dict)  # by how: verp, provider-id, message-id
    unmatched: list[str] = field(default_factory=list)  # "source: address (kind)"
    unverified: list[str] = field(default_factory=list)  # "source: address (kind)": by address only
    not_bounces: int = 0
    suppressed: int = 0
    unsubscribed: int = 0
    kinds: dict[str, int] = field(default_factory=dict)  # bounce, delay, complaint, delivered, ...

    def merge(self, other: IngestReport) -> None:
        self.messages += other.messages
        self.already_seen += other.already_seen
        self.recipients += other.recipients
        self.not_bounces += other.not_bounces
        self.suppressed += other.suppressed
        self.unsubscribed += other.unsubscribed
        self.unmatched += other.unmatched
        self.unverified += other.unverified
        for mine, theirs in ((self.matched, other.matched), (self.kinds, other.kinds)):
            for k, n in theirs.items():
                mine[k] = mine.get(k, 0) + n


@dataclass(frozen=True)
class Recorded:
    """What :func:`record` did with one message or event."""

    new: bool  # False: recorded before, nothing changed
    ours: bool  # tied to a message this campaign sent (its token, provider id or Message-ID)


@dataclass(frozen=True)
class IngestPolicy:
    soft_threshold: int = 3
    soft_span: float = 86400.0
    shared: SharedSuppressions | None = None

    def share(self, key: str, reason: str) -> None:
        """Add a newly suppressed address to the shared list, when there is one."""
        if self.shared is not None:
            self.shared.add([key], reason)


def ingest_policy(settings: Settings) -> IngestPolicy:
    shared = SharedSuppressions(settings.shared_suppressions) if settings.shared_suppressions else None
    return IngestPolicy(settings.soft_threshold, settings.soft_span, shared)


@dataclass(frozen=True)
class Plan:
    """What one message will record (its entries) and report (``lines``: how each recipient was
    matched, and "source: address (kind)")."""

    kind: str
    entries: list[BounceEntry]
    lines: list[tuple[str, str]]
    not_bounce: bool  # says nothing about delivery
    ours: bool  # tied to a message this campaign sent


def verp_of(ledger: Ledger, tokens: Tokens, parsed: ParsedBounce) -> tuple[int, str] | None:
    """(message row, its recipient's key) when the report came back to a VERP address whose
    token verifies under this campaign's key and names a row of this ledger."""
    row = tokens.parse_return_path(parsed.envelope_to) if parsed.envelope_to else None
    if row is None:
        return None
    key = ledger.recipient_key_of(row)
    return (row, key) if key is not None else None


def _match(
    ledger: Ledger, parsed: ParsedBounce, address: str, verp: tuple[int, str] | None
) -> tuple[int | None, str, str]:
    """(message row or None, recipient key, how): how is verp, provider-id or message-id when
    the report is tied to a message we sent, ``unverified`` when only the address is one we
    sent to, "" when it is nobody's."""
    if verp is not None:
        # The token names the message, and so whom it was for: whatever address the report
        # names (a forwarding target, say), it speaks for that recipient and nobody else.
        return verp[0], verp[1], "verp"
    key = dedupe_key(address)
    # After the VERP token: the provider's message id (SES), then the original Message-ID, each
    # only for the recipient the report names (a Message-ID alone would let one report speak for
    # others).
    if parsed.provider_id and (found := ledger.message_by_queue_id(parsed.provider_id, key)) is not None:
        return found, key, "provider-id"
    if (
        parsed.original_message_id
        and (found := ledger.message_by_message_id(parsed.original_message_id, key)) is not None
    ):
        return found, key, "message-id"
    if ledger.was_sent_to(key):
        return None, key, "unverified"
    return None, key, ""


def plan_for(ledger: Ledger, parsed: ParsedBounce, label: str, verp: tuple[int, str] | None) -> Plan:
    """What a report that is not a mailto: unsubscribe records, given its VERP tie (if any)."""
    if parsed.kind in ("not-bounce", "auto-reply") or not parsed.recipients:
        # Nothing about delivery; kept (with the message it answers, if it carries our token).
        entry = BounceEntry(message=verp[0], matched="verp") if verp else BounceEntry()
        return Plan(parsed.kind, [entry], [], True, verp is not None)
    entries: list[BounceEntry] = []
    lines: list[tuple[str, str]] = []
    for r in parsed.recipients:
        row, key, how = _match(ledger, parsed, r.address, verp)
        lines.append((how, f"{label}: {r.address} ({parsed.kind})"))
        failed = parsed.kind == "bounce" and r.action != "delayed"
        suppress = "complaint" if parsed.kind == "complaint" else r.reason if failed and r.hard else ""
        entries.append(
            BounceEntry(
                address=r.address,
                message=row,
                matched=how,
                reason=r.reason,
                hard=r.hard,
                key=key,
                bounced=failed,
                suppress=suppress,
                soft=failed and not r.hard,
            )
        )
    return Plan(parsed.kind, entries, lines, False, any(e.message is not None for e in entries))


def account(report: IngestReport, plan: Plan, added: int | None) -> bool:
    """Count one recorded message (``added``: the addresses it newly suppressed, None when it
    was recorded before) in ``report``; whether it was new."""
    if added is None:
        report.already_seen += 1
        return False
    report.suppressed += added
    report.kinds[plan.kind] = report.kinds.get(plan.kind, 0) + 1
    if plan.not_bounce:
        report.not_bounces += 1
    for how, line in plan.lines:
        report.recipients += 1
        if how == "unverified":
            report.unverified.append(line)
        elif not how:
            report.unmatched.append(line)
        else:
            report.matched[how] = report.matched.get(how, 0) + 1
    return True


def unsubscribe_row(ledger: Ledger, tokens: Tokens, parsed: ParsedBounce) -> int | None:
    """The message row a mail to the mailto: half of List-Unsubscribe names, when it was
    written to ``unsubscribe+TOKEN@`` with a token of ours for a row of this ledger."""
    local = parsed.envelope_to.partition("@")[0]
    if not local.lower().startswith("unsubscribe+"):
        return None
    row = tokens.parse_unsubscribe_token(local.partition("+")[2])
    return row if row is not None and ledger.recipient_key_of(row) is not None else None


def record(
    ledger: Ledger,
    tokens: Tokens,
    raw: bytes,
    parsed: ParsedBounce,
    label: str,
    report: IngestReport,
    policy: IngestPolicy,
) -> Recorded:
    """Record one parsed message or event, and what it changes, in one ledger transaction."""
    return record_digested(
        ledger, tokens, digest_of(raw, parsed), legacy_digest(raw, parsed), parsed, label, report, policy
    )


def record_digested(
    ledger: Ledger,
    tokens: Tokens,
    digest: str,
    legacy: str,
    parsed: ParsedBounce,
    label: str,
    report: IngestReport,
    policy: IngestPolicy,
) -> Recorded:
    """:func:`record` for a message whose digests were taken already."""
    report.messages += 1
    row = unsubscribe_row(ledger, tokens, parsed)
    if row is not None:
        # The mailto: half of List-Unsubscribe: a person (or their provider) wrote to it.
        if ledger.event_seen((digest, legacy)):
            report.already_seen += 1
            return Recorded(new=False, ours=True)
        # Its own transaction, before the event: a crash in between is repaired by the
        # next ingest (unsubscribing twice changes nothing).
        report.unsubscribed += int(bool(ledger.unsubscribe(row, via="mailto")))
        plan = Plan("unsubscribe", [BounceEntry(message=row, matched="token")], [], False, True)
    else:
        plan = plan_for(ledger, parsed, label, verp_of(ledger, tokens, parsed))
    added = ledger.record_bounce_outcome(
        digest=digest,
        source=label,
        kind=plan.kind,
        entries=plan.entries,
        event_at=parsed.at,
        also_seen_as=[legacy] if legacy != digest else [],
        soft_threshold=policy.soft_threshold,
        soft_span=policy.soft_span,
        on_suppress=policy.share,
    )
    return Recorded(new=account(report, plan, added), ours=plan.ours)
