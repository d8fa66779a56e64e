"""The stages before anything is sent: import the lists, plan the run, check every render.

    lists ─► ledger.import_list ─► ledger.plan (segment) ─► check every render ─► confirm

Each takes its inputs as arguments; none reads global state. :mod:`notifier.pipeline.deliver`
runs the loop that follows the confirmation.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from notifier.bounces.reasons import HARD_REASONS
from notifier.channels.gate import ChannelGate
from notifier.errors import RenderError
from notifier.ledger import ImportSummary, Ledger, PlanSummary
from notifier.ledger.audit import file_sha256
from notifier.lists.prefetch import read_list_prefetched
from notifier.lists.segments import Segment
from notifier.models import Recipient
from notifier.pipeline.render_groups import RenderGroups
from notifier.render.notice import Notice, RenderFailure

__all__ = ["NEVER_RETRIED", "check_renders", "check_targets", "import_lists", "plan"]

# Failures --retry-failed never sends to again: the address is dead (hard), the provider keeps it
# on its own suppression list, or the person complained. Suppressed people are skipped as well.
NEVER_RETRIED = HARD_REASONS | {"suppressed", "complaint"}
# Render outcomes kept per group: bounded, so a template whose outcome depends on a value that
# differs for everyone (a group per person) costs renders, not memory.
MAX_GROUPS = 20_000


def import_lists(
    ledger: Ledger,
    files: Sequence[Path],
    *,
    check_deliverability: bool = False,
    dns_resolver: Any = None,
) -> list[ImportSummary]:
    """Import each list (skipped when that exact file was imported before)."""
    out = []
    for path in files:
        digest = file_sha256(path) if path.is_file() else ""
        if check_deliverability:
            digest += "+mx"  # a list checked against DNS is a different import
        rows = read_list_prefetched(
            path, check_deliverability=check_deliverability, dns_resolver=dns_resolver
        )
        out.append(ledger.import_list(str(path), digest, rows))
    return out


def plan(
    ledger: Ledger,
    notice: str,
    imports: Sequence[ImportSummary],
    segment: Segment,
    *,
    resend: bool,
    retry_failed: bool = False,
    first_notice: str = "",
    follow_up: bool = False,
    channels: ChannelGate | None = None,
) -> PlanSummary:
    """This run's targets. ``resend``: everyone again, accepted or not; ``retry_failed``: only
    those no server accepted, except dead addresses and suppressed people (NEVER_RETRIED).
    ``channels``: each member's channel is decided and recorded, and only those whose channel
    is email become targets (issue 16)."""

    def include(view: dict[str, Any], where: str) -> bool:
        return segment.matches(view, where=where)

    # A segment of everyone, without channel decisions, is chosen in SQL (no row read into Python).
    matches = None if segment.everyone else include
    chooser = channels.include(matches) if channels is not None else matches
    if channels is not None:  # decisions recorded a plan batch at a time (memory flat in list size)
        channels.record_into(lambda rows: ledger.record_channels(notice, rows))
    summary = ledger.plan(
        notice,
        [i.list_id for i in imports],
        chooser,
        resend=resend,
        retry_failed=retry_failed,
        never_retried=sorted(NEVER_RETRIED),
        first_notice=first_notice,
        follow_up=follow_up,
        ledger_state=segment.reads_ledger,  # channel decisions read the list row only
        shared_key=plan_key(
            notice,
            imports,
            segment,
            resend=resend,
            retry_failed=retry_failed,
            first_notice=first_notice,
            follow_up=follow_up,
            channels=channels is not None,
        ),
    )
    if channels is not None:
        channels.flush()
    return summary


def plan_key(
    notice: str,
    imports: Sequence[ImportSummary],
    segment: Segment,
    *,
    resend: bool,
    retry_failed: bool,
    first_notice: str,
    follow_up: bool,
    channels: bool,
) -> str:
    """What makes two senders' plans the same: the notice, the imported lists (each import is
    one file content), the segment's expression and the options that change who is chosen."""
    what = [notice, sorted(i.list_id for i in imports), segment.name, segment.expression, resend,
            retry_failed, first_notice, follow_up, channels]  # fmt: skip
    return hashlib.sha256(json.dumps(what).encode()).hexdigest()


def check_targets(
    notice: Notice,
    ledger: Ledger,
    *,
    extra: Callable[[Recipient], Mapping[str, Any]] | None = None,
) -> int:
    """:func:`check_renders` over this run's targets to send. When the templates can be grouped
    and no per-recipient facts come beside them, the ledger groups the targets (SQL, no row
    read into Python) and one person of each group is rendered; when a group fails, or the
    groups cannot be formed there, every target is read and checked by check_renders, which
    names the failing list rows. Raises RenderError as check_renders does; else the count."""
    columns = RenderGroups.of(notice.directory).columns() if extra is None else None
    if columns is not None:
        try:
            counted = ledger.target_groups(*columns, limit=MAX_GROUPS)
        except ValueError:  # a field name no JSON path can hold: the slower way
            counted = None
        if counted is not None:
            people = ledger.recipients_by_id([rid for rid, _ in counted])
            if all(notice.check(people[rid].template_view(), None) is None for rid, _ in counted):
                return sum(n for _, n in counted)
    return check_renders(notice, ledger.target_recipients(), extra=extra)


def check_renders(
    notice: Notice,
    targets: Iterable[Recipient],
    *,
    examples: int = 5,
    extra: Callable[[Recipient], Mapping[str, Any]] | None = None,
) -> int:
    """Check that every target's notice renders (``extra``: their per-recipient facts, e.g. the
    offer with a sample code). Raises RenderError (grouped) if any fails, naming the list rows;
    else the count.

    Rendered once per group of recipients that cannot differ in the outcome (render_groups:
    the same fields present, the same values where a value matters, the same variant and
    language), so a million-row list costs one render per group plus a key per row. Every
    recipient of a failing group is counted and named as if rendered on their own."""
    groups = RenderGroups.of(notice.directory)
    outcomes: dict[Hashable, RenderFailure | None] = {}
    failures: dict[tuple[str, str], list[str]] = {}
    counts: dict[tuple[str, str], int] = {}
    n = 0
    for recipient in targets:
        n += 1
        view = recipient.template_view()
        facts = extra(recipient) if extra is not None else None
        group = groups.key(view, facts)
        if group is not None and group in outcomes:
            failure = outcomes[group]
        else:
            failure = notice.check(view, facts)
            if group is not None and len(outcomes) < MAX_GROUPS:
                outcomes[group] = failure
        if failure is None:
            continue
        key = (failure.where, failure.what)
        counts[key] = counts.get(key, 0) + 1
        rows = failures.setdefault(key, [])
        if len(rows) < examples:
            rows.append(f"{recipient.source}:{recipient.line}")
    if failures:
        lines = [
            f"{where}: {what} — {counts[(where, what)]} recipient(s), e.g. list rows {', '.join(rows)}"
            for (where, what), rows in failures.items()
        ]
        total = sum(counts.values())
        raise RenderError(
            f"notice {notice.name!r} does not render for {total} of {n} recipients; nothing was sent",
            lines,
            hint="fill in the missing values in the list, or guard optional ones in the template "
            "with `{% if recipient.COLUMN is defined %}`; then run the same command again",
        )
    return n
