"""`notify deadlines`: gather the inputs for the planner and show its answer."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from notifier.compliance.deadlines import Obligation, load_rules, plan, rules_version
from notifier.errors import ConfigError
from notifier.ledger import SqliteLedger, ledger_exists, open_ledger
from notifier.lists.segments import Segment
from notifier.pipeline import deliver as pipeline
from notifier.settings import Settings

__all__ = ["deadline_report", "write_deadlines"]


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


def _counts(settings: Settings, notice: str, segment: Segment) -> dict[tuple[str, str], int]:
    """People of the segment by (country, region), read from the lists as `send` reads them."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    with tempfile.TemporaryDirectory(prefix="notify-deadlines-") as tmp:
        ledger = SqliteLedger(Path(tmp) / "count.sqlite")
        try:
            imports = pipeline.import_lists(ledger, settings.list_files)
            pipeline.plan(ledger, notice, imports, segment, resend=False)
            for country, region, n in ledger.query(
                "SELECT COALESCE(json_extract(r.fields, '$.country'), ''), "
                "COALESCE(json_extract(r.fields, '$.region'), ''), count(*) FROM run_targets t "
                "JOIN messages m ON m.id = t.id JOIN recipients r ON r.id = m.recipient_id GROUP BY 1, 2"
            ):
                counts[(country, region)] += n
        finally:
            ledger.close()
    return counts


def _notified(settings: Settings, notice: str) -> tuple[dict[tuple[str, str], list[float]], float | None]:
    """Accepted-at times of the notice, by (country, region), and the first of them."""
    out: dict[tuple[str, str], list[float]] = defaultdict(list)
    if not ledger_exists(settings):
        return out, None
    ledger = open_ledger(settings)
    try:
        for country, region, sent_at in ledger.query(
            "SELECT COALESCE(json_extract(r.fields, '$.country'), ''), "
            "COALESCE(json_extract(r.fields, '$.region'), ''), m.sent_at FROM messages m "
            "JOIN recipients r ON r.id = m.recipient_id "
            "WHERE m.notice = ? AND m.state IN ('sent', 'bounced') AND m.sent_at IS NOT NULL",
            (notice,),
        ):
            out[(country, region)].append(float(sent_at))
    finally:
        ledger.close()
    first = min((t for ts in out.values() for t in ts), default=None)
    return out, first


def deadline_report(
    settings: Settings, notice: str, segment: Segment, *, counts: dict[tuple[str, str], int] | None = None
) -> tuple[list[Obligation], ZoneInfo]:
    """The planner's answer; ``counts`` (people by country and region) when the caller has them."""
    tz = ZoneInfo(settings.timezone)
    clocks = _clocks(settings)
    notified, first = _notified(settings, notice)
    if first is not None:
        clocks["first_send"] = dt.datetime.fromtimestamp(first, dt.UTC)
    if counts is None:
        counts = _counts(settings, notice, segment)
    return plan(load_rules(), clocks=clocks, counts=counts, notified=notified, tz=tz), tz


def _left(due: dt.datetime, now: dt.datetime) -> str:
    seconds = (due - now).total_seconds()
    days, rest = divmod(int(abs(seconds)), 86400)
    span = f"{days}d {rest // 3600}h" if days else f"{rest // 3600}h {rest % 3600 // 60}m"
    return f"{span} left" if seconds >= 0 else f"{span} ago"


def write_deadlines(
    obligations: list[Obligation], tz: ZoneInfo, now: dt.datetime, out: TextIO, *, as_json: bool
) -> None:
    if as_json:
        json.dump(
            {
                "rules_version": rules_version(),
                "timezone": str(tz),
                "now": now.isoformat(),
                "obligations": [o.as_dict(now) for o in obligations],
            },
            out,
            indent=2,
        )
        out.write("\n")
        return
    out.write(f"Deadlines (rules {rules_version()}, times in {tz}) — earliest first\n\n")
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
        out.write(f"   {'':<9} {'':<9} source: {o.rule.source}\n")
    if any(o.status(now).upper().startswith("OVERDUE") for o in obligations):
        out.write("\n!! Overdue obligations above: act now, and record the reasons for any delay.\n")
    out.write("\nRegulator filings are not visible to notify: tick them off in your own records.\n")
