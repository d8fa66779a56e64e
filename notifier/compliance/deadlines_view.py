"""`notify deadlines`: gather the inputs for the planner and show its answer."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TextIO
from zoneinfo import ZoneInfo

from notifier.compliance.deadlines import Filing, Obligation, Rule, load_rules, plan, rules_version
from notifier.errors import ConfigError, UsageError, did_you_mean
from notifier.ledger import open_ledger
from notifier.lists import audience
from notifier.lists.audience import Member
from notifier.lists.segments import Segment, resolve
from notifier.settings import Settings

__all__ = [
    "Deadlines",
    "SUBSTITUTE_POSTED",
    "deadline_report",
    "mark_done",
    "parse_filed_at",
    "write_deadlines",
]

SUBSTITUTE_POSTED = "SUB-POSTED"  # the filings entry `notify substitute posted` writes (issue 16)


def _clocks(settings: Settings) -> dict[str, dt.datetime | None]:
    incident = settings.facts.get("incident", {})
    discovered = incident.get("discovered")
    if discovered is None:
        raise ConfigError(
            "[incident] discovered is missing: every legal clock starts from it",
            path=str(settings.path),
            hint="add  discovered = 2026-11-18T09:30:00+01:00  (with its UTC offset) under [incident]",
        )
    return {
        "discovered": discovered,
        "aware": incident.get("aware", discovered),
        "determined": incident.get("determined", discovered),
        "first_send": None,
    }


@dataclass(frozen=True, slots=True)
class Deadlines:
    """The planner's answer and whom it counted."""

    obligations: list[Obligation]
    tz: ZoneInfo
    basis: str  # who the people counts are, in words
    people: int
    # People by (country, region), and when a server accepted each one's notice (regulators).
    counts: Mapping[tuple[str, str], int] = field(default_factory=dict)
    notified: Mapping[tuple[str, str], list[float]] = field(default_factory=dict)


def _basis(
    settings: Settings, notice: str, segment: Segment | None, members: list[Member]
) -> tuple[str, list[Member]]:
    """Who the legal clocks are about. An explicit ``--segment``: its members. Otherwise the
    people the notice was actually planned for (sent, bounced, failed, suppressed: each was
    affected), and before anything was sent the campaign's ``affected`` segment when it has one.
    Counting the whole list would count people with nothing exposed, and an obligation would stay
    "open" after everyone affected was told."""
    if segment is not None:
        return f"segment {segment.name!r}", members
    planned = [m for m in members if m.state.state]
    if planned:
        return f"the recipients of {notice!r} so far", planned
    if "affected" in settings.segments:
        chosen = resolve("affected", settings.segments, path=str(settings.path), lines=settings.segment_lines)
        return "segment 'affected' (nothing sent yet)", [
            m for m in members if chosen.matches(m.view, where=m.where)
        ]
    return "every recipient of the lists (nothing sent yet; define an 'affected' segment)", members


def deadline_report(
    settings: Settings, notice: str, segment: Segment | None = None, *, lists: audience.Lists | None = None
) -> Deadlines:
    """The planner's answer for the audience (notifier.lists.audience) of ``notice``: people by
    country and region, when a server accepted their notice, and the filings marked done.
    ``lists``: the campaign's lists already read (the console holds them), else read here."""
    tz = ZoneInfo(settings.timezone)
    clocks = _clocks(settings)
    lists = lists if lists is not None else audience.read_lists(settings.list_files)
    first = audience.first_notice_of(settings, notice)
    everyone = resolve("all", {})
    with audience.open_reader(settings) as reader:
        found = list(audience.members(lists, segment or everyone, reader, notice=notice, first_notice=first))
        basis, chosen = _basis(settings, notice, segment, found)
        accepted: dict[str, float] = {}
        filings: dict[str, Filing] = {}
        if reader is not None:
            keys = [m.recipient.key for m in chosen]
            for start in range(0, len(keys), audience.BATCH):
                accepted.update(reader.accepted_at(notice, keys[start : start + audience.BATCH]))
            filings = {
                rule: Filing(dt.datetime.fromtimestamp(at, dt.UTC), ref, by)
                for rule, (at, ref, by) in reader.filings().items()
            }
    counts: dict[tuple[str, str], int] = defaultdict(int)
    notified: dict[tuple[str, str], list[float]] = defaultdict(list)
    for m in chosen:
        place = (str(m.view.get("country", "")), str(m.view.get("region", "")))
        counts[place] += 1
        if m.recipient.key in accepted:
            notified[place].append(accepted[m.recipient.key])
    if accepted:
        clocks["first_send"] = dt.datetime.fromtimestamp(min(accepted.values()), dt.UTC)
    # The substitute notice went up (`notify substitute posted`): its posting and phone clocks start.
    posted = filings.get(SUBSTITUTE_POSTED)
    clocks["substitute_posted"] = posted.at if posted is not None else None
    obligations = plan(
        load_rules(),
        clocks=clocks,
        counts=counts,
        notified=notified,
        tz=tz,
        filings=filings,
        flags=settings.facts.get("incident", {}),
    )
    return Deadlines(obligations, tz, basis, len(chosen), dict(counts), dict(notified))


def parse_filed_at(value: str, tz: ZoneInfo) -> dt.datetime:
    """``--at`` of `notify deadlines done`: ISO 8601, its UTC offset or else the campaign's zone.
    Raises UsageError naming the expected form."""
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"--at {value!r} is not a date and time",
            hint="write it as 2026-12-01T10:00+01:00 (ISO 8601, with its UTC offset)",
        ) from None
    return when if when.tzinfo is not None else when.replace(tzinfo=tz)


def mark_done(settings: Settings, rule_id: str, at: dt.datetime, ref: str) -> Rule:
    """Record that the regulator filing ``rule_id`` was made at ``at`` (reference ``ref``), in the
    campaign ledger, audited. Raises UsageError for an unknown rule or one about individuals
    (those are met by sending, not by a mark)."""
    rules = {r.id: r for r in load_rules()}
    rule = rules.get(rule_id)
    if rule is None:
        raise UsageError(
            f"no deadline rule called {rule_id!r}",
            hint=did_you_mean(rule_id, list(rules)) or f"the rules are: {', '.join(sorted(rules))}",
        )
    if rule.kind == "individuals":
        raise UsageError(
            f"{rule_id} is met by notifying people, not by a mark",
            hint="send the notice; `notify deadlines` counts who a server accepted it for",
        )
    ledger = open_ledger(settings)
    try:
        ledger.mark_filed(rule.id, at.timestamp(), ref)
    finally:
        ledger.close()
    return rule


def _left(due: dt.datetime, now: dt.datetime) -> str:
    seconds = (due - now).total_seconds()
    days, rest = divmod(int(abs(seconds)), 86400)
    span = f"{days}d {rest // 3600}h" if days else f"{rest // 3600}h {rest % 3600 // 60}m"
    return f"{span} left" if seconds >= 0 else f"{span} ago"


def write_deadlines(report: Deadlines, now: dt.datetime, out: TextIO, *, as_json: bool) -> None:
    obligations, tz = report.obligations, report.tz
    if as_json:
        json.dump(
            {
                "rules_version": rules_version(),
                "timezone": str(tz),
                "now": now.isoformat(),
                "counted": report.basis,
                "people": report.people,
                "obligations": [o.as_dict(now) for o in obligations],
            },
            out,
            indent=2,
        )
        out.write("\n")
        return
    out.write(f"Deadlines (rules {rules_version()}, times in {tz}) — earliest first\n")
    out.write(f"Counting {report.people} people: {report.basis}\n\n")
    for o in obligations:
        status = o.status(now)
        loud = status.upper().startswith("OVERDUE")
        if o.due is not None:
            when = f"due {o.due.astimezone(tz):%a %d %b %Y %H:%M %Z} ({_left(o.due, now)})"
        elif o.rule.duration == "asap":
            when = "as soon as possible (no fixed deadline)"
        else:
            when = "clock starts with the first notice sent"
        mark = "!!" if loud else "  "
        out.write(f"{mark} {status:<9} {o.rule.id:<9} {o.rule.what} — {o.people} people\n")
        out.write(f"   {'':<9} {'':<9} {when}; clock: {o.rule.clock} + {o.rule.duration}\n")
        if o.rule.kind == "individuals":
            out.write(
                f"   {'':<9} {'':<9} notified {o.notified} of {o.people}"
                f"{f', {o.on_time} on time' if o.due else ''}\n"
            )
        elif o.filed is not None:
            out.write(
                f"   {'':<9} {'':<9} filed {o.filed.at.astimezone(tz):%a %d %b %Y %H:%M %Z}"
                f"{f', ref {o.filed.ref}' if o.filed.ref else ''} (marked by {o.filed.by})\n"
            )
        out.write(f"   {'':<9} {'':<9} source: {o.rule.source}\n")
        if o.rule.verify:
            out.write(f"   {'':<9} {'':<9} VERIFY (a warning, not confirmed): {o.rule.verify}\n")
    if any(o.status(now).upper().startswith("OVERDUE") for o in obligations):
        out.write("\n!! Overdue obligations above: act now, and record the reasons for any delay.\n")
    if any(o.rule.kind not in ("individuals", "substitute") and o.filed is None for o in obligations):
        out.write(
            "\nMark a regulator filing done when it is made:  "
            'notify deadlines done RULE --at 2026-12-01T10:00+01:00 --ref "THEIR-REFERENCE"\n'
        )
