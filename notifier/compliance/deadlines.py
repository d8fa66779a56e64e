"""The deadline planner: from the incident's dates and who lives where, every obligation
with its due time, its clock-start event, whether it is met, and its source.

Rules are data (``rules/deadlines.toml``, versioned, a source beside each). Times are
timezone-aware throughout: "72 hours" is 72 real hours even across a daylight-saving
change, and due times are shown in the campaign's time zone.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

__all__ = ["Filing", "Obligation", "Rule", "load_rules", "plan", "rules_version"]

CLOCKS = ("aware", "discovered", "determined", "first_send", "substitute_posted")
# Clocks started by an event that may never happen (the substitute notice was posted, issue 16):
# a rule on one shows only once it has.
EVENT_CLOCKS = frozenset({"substitute_posted"})


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    regime: str
    kind: str
    what: str
    clock: str
    duration: str  # "72h", "30d", "14bd", "asap"
    countries: frozenset[str]
    regions: frozenset[str]
    min_count: int
    source: str
    requires: str = ""  # an [incident] flag the rule needs, e.g. "hipaa" (HHS); "" = none
    verify: str = ""  # what the reference could not confirm: shown as a warning (VERIFY)

    def population(self, counts: Mapping[tuple[str, str], int]) -> int:
        """Recipients this rule covers, from counts by (country, region)."""
        return sum(
            n
            for (country, region), n in counts.items()
            if country in self.countries or region in self.regions
        )


@dataclass(frozen=True, slots=True)
class Filing:
    """A regulator filing the operator marked done (`notify deadlines done RULE --at --ref`)."""

    at: dt.datetime
    ref: str
    by: str


@dataclass(frozen=True, slots=True)
class Obligation:
    rule: Rule
    people: int
    clock_start: dt.datetime | None  # None: first_send not yet known
    due: dt.datetime | None  # None: "as soon as possible" or waiting for the clock to start
    notified: int  # individuals of this jurisdiction accepted by a server (individual notices)
    on_time: int  # of those, accepted before the due time
    filed: Filing | None = None  # regulator, credit-bureau filings: marked done by the operator

    def status(self, now: dt.datetime) -> str:
        if self.rule.kind == "substitute":  # keep the posting (or the toll-free line) up until due
            return "keep up" if self.due is None or now < self.due else "may end"
        if self.rule.kind == "individuals":
            if self.people and self.on_time >= self.people:
                return "met"
            if self.due is not None and now > self.due:
                return "OVERDUE" if self.notified < self.people else "late"
            return "open"
        if self.filed is not None:
            return "filed late" if self.due is not None and self.filed.at > self.due else "filed"
        if self.due is not None and now > self.due:
            return "OVERDUE?"  # not marked filed: loud until someone files it or marks it done
        return "to do"

    def as_dict(self, now: dt.datetime) -> dict[str, Any]:
        return {
            "id": self.rule.id,
            "regime": self.rule.regime,
            "kind": self.rule.kind,
            "what": self.rule.what,
            "people": self.people,
            "clock": self.rule.clock,
            "duration": self.rule.duration,
            "clock_start": self.clock_start.isoformat() if self.clock_start else None,
            "due": self.due.isoformat() if self.due else None,
            "status": self.status(now),
            "notified": self.notified,
            "notified_on_time": self.on_time,
            "filed": (
                {"at": self.filed.at.isoformat(), "ref": self.filed.ref, "by": self.filed.by}
                if self.filed
                else None
            ),
            "source": self.rule.source,
            "verify": self.rule.verify,
        }


def rules_version() -> str:
    data = tomllib.loads(
        (resources.files("notifier.compliance") / "rules" / "deadlines.toml").read_text(encoding="utf-8")
    )
    return str(data["version"])


def load_rules() -> list[Rule]:
    from notifier.compliance.regulators import deadline_items

    text = (resources.files("notifier.compliance") / "rules" / "deadlines.toml").read_text(encoding="utf-8")
    rules = []
    items = tomllib.loads(text)["deadline"]
    known = {item["id"] for item in items}
    # Regulators and credit bureaus of rules/regulators.toml with no rule here (issue 17).
    items += [item for item in deadline_items() if item["id"] not in known]
    for item in items:
        if item["clock"] not in CLOCKS:
            raise ValueError(f"deadline {item['id']}: unknown clock {item['clock']!r}")
        rules.append(
            Rule(
                id=item["id"],
                regime=item["regime"],
                kind=item["kind"],
                what=item["what"],
                clock=item["clock"],
                duration=item["duration"],
                countries=frozenset(item.get("countries", [])),
                regions=frozenset(item.get("regions", [])),
                min_count=int(item.get("min_count", 1)),
                source=item["source"],
                requires=str(item.get("requires", "")),
                verify=str(item.get("verify", "")),
            )
        )
    return rules


def add_duration(start: dt.datetime, duration: str) -> dt.datetime | None:
    """``start`` plus "72h", "30d" or "14bd"; None for "asap"; "sameday" is the end of the local
    calendar day of ``start`` (a filing due "at the time of" the consumer notice cannot be filed
    the same second the first message leaves: due that very second, it was "OVERDUE?" at once).

    Hours are real elapsed hours (computed in UTC). Days are calendar days on the local
    calendar of ``start`` (same wall-clock time). Business days skip Saturday and Sunday.
    """
    if duration == "asap":
        return None
    if duration == "sameday":
        return dt.datetime.combine(start.date(), dt.time(23, 59, 59), tzinfo=start.tzinfo)
    number, unit = int(duration.rstrip("hdb")), duration.lstrip("0123456789")
    if unit == "h":
        return (start.astimezone(dt.UTC) + dt.timedelta(hours=number)).astimezone(start.tzinfo)
    if unit == "d":
        return _wall(start, start.date() + dt.timedelta(days=number))
    if unit == "bd":
        day, left = start.date(), number
        while left:
            day += dt.timedelta(days=1)
            if day.weekday() < 5:
                left -= 1
        return _wall(start, day)
    raise ValueError(f"unknown duration {duration!r}")


def _wall(start: dt.datetime, day: dt.date) -> dt.datetime:
    """The same wall-clock time as ``start`` on ``day``; with a ZoneInfo zone the UTC offset
    follows daylight saving on that day."""
    return dt.datetime.combine(day, start.timetz().replace(tzinfo=None)).replace(tzinfo=start.tzinfo)


def plan(
    rules: Iterable[Rule],
    *,
    clocks: Mapping[str, dt.datetime | None],
    counts: Mapping[tuple[str, str], int],
    notified: Mapping[tuple[str, str], list[float]],
    tz: dt.tzinfo,
    filings: Mapping[str, Filing] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> list[Obligation]:
    """Every obligation that applies, earliest due first (undated ones last).

    ``clocks`` maps aware/discovered/determined/first_send to aware datetimes;
    ``notified`` maps (country, region) to the accepted-at times of individual notices.
    """
    out = []
    for rule in rules:
        if rule.clock in EVENT_CLOCKS and clocks.get(rule.clock) is None:
            continue  # e.g. no substitute notice posted: nothing to keep up
        if rule.requires and not (flags or {}).get(rule.requires):
            continue  # e.g. HHS only when [incident] hipaa = true
        people = rule.population(counts)
        if people < rule.min_count:
            continue
        start = clocks.get(rule.clock)
        if start is not None:
            start = start.astimezone(tz)
        due = add_duration(start, rule.duration) if start is not None else None
        times = [
            t
            for (country, region), ts in notified.items()
            if country in rule.countries or region in rule.regions
            for t in ts
        ]
        on_time = sum(1 for t in times if due is None or t <= due.timestamp())
        filed = (filings or {}).get(rule.id) if rule.kind != "individuals" else None
        out.append(Obligation(rule, people, start, due, len(times), on_time, filed))
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted(out, key=lambda o: (o.due or far, o.rule.id))
