"""Substitute notice: which jurisdictions let (or make) you replace direct notice with a website
posting and media, and the counts that trigger it.

Rules are data (``rules/substitute.toml``, versioned, a source per rule; ``verify`` items are
warnings). The counts come from the same channel decisions `notify channels` and `send` use:
people with no lawful channel, or whose email failed and who have no postal address, have
insufficient contact information; the cost of direct notice is the letters to print and mail.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from notifier.channels.audience import decided_members
from notifier.channels.columns import postal_address
from notifier.channels.decide import Channel
from notifier.channels.policy import policy_for
from notifier.errors import ConfigError
from notifier.lists import audience
from notifier.lists.segments import Segment
from notifier.models import segment_view
from notifier.settings import Settings

__all__ = [
    "Finding",
    "PlaceCounts",
    "SubstituteRule",
    "Trigger",
    "evaluate",
    "gather",
    "load_substitute_rules",
]

_FAILED = frozenset({"bounced", "failed", "invalid", "suppressed"})


@dataclass(frozen=True, slots=True)
class SubstituteRule:
    id: str
    regions: frozenset[str]
    countries: frozenset[str]
    needs: str
    cost_over: float | None
    people_over: int | None
    insufficient_contact: int | None  # at least this many without usable contact information
    parts: tuple[str, ...]
    post_days: int
    phone_days: int
    source: str
    verify: str = ""

    def covers(self, country: str, region: str) -> bool:
        return region in self.regions or country in self.countries


@dataclass
class PlaceCounts:
    """Per (country, region): residents, letters to print, residents without usable contact."""

    people: Counter[tuple[str, str]] = field(default_factory=Counter)
    letters: Counter[tuple[str, str]] = field(default_factory=Counter)
    insufficient: Counter[tuple[str, str]] = field(default_factory=Counter)

    def total(self, counter: Counter[tuple[str, str]], rule: SubstituteRule) -> int:
        return sum(n for (country, region), n in counter.items() if rule.covers(country, region))


@dataclass(frozen=True, slots=True)
class Trigger:
    name: str  # cost, people, insufficient_contact
    value: float
    threshold: float
    met: bool

    def words(self) -> str:
        if self.name == "cost":
            return f"direct-notice cost ${self.value:,.0f} (more than ${self.threshold:,.0f} triggers it)"
        if self.name == "people":
            return f"{self.value:,.0f} residents to notify (more than {self.threshold:,.0f} triggers it)"
        return f"{self.value:,.0f} without usable contact (at least {self.threshold:,.0f} triggers it)"


@dataclass(frozen=True, slots=True)
class Finding:
    rule: SubstituteRule
    people: int
    triggers: tuple[Trigger, ...]

    @property
    def applies(self) -> bool:
        return any(t.met for t in self.triggers)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule.id,
            "applies": self.applies,
            "people": self.people,
            "triggers": [
                {"trigger": t.name, "value": t.value, "threshold": t.threshold, "met": t.met}
                for t in self.triggers
            ],
            "parts": list(self.rule.parts),
            "post_days": self.rule.post_days,
            "phone_days": self.rule.phone_days,
            "source": self.rule.source,
            "verify": self.rule.verify,
        }


def load_substitute_rules() -> tuple[str, list[SubstituteRule]]:
    """(version, rules) of the built-in substitute-notice rules. Raises ConfigError when unusable."""
    label = "notifier/compliance/rules/substitute.toml"
    data = tomllib.loads(
        (resources.files("notifier.compliance") / "rules" / "substitute.toml").read_text("utf-8")
    )
    rules = []
    for item in data.get("rule", []):
        if not item.get("id") or not item.get("source") or not item.get("parts"):
            raise ConfigError(f"rule {item.get('id', '?')}: needs id, source and parts", path=label)
        rules.append(
            SubstituteRule(
                id=str(item["id"]),
                regions=frozenset(item.get("regions", [])),
                countries=frozenset(item.get("countries", [])),
                needs=str(item.get("needs", "")),
                cost_over=float(item["cost_over"]) if "cost_over" in item else None,
                people_over=int(item["people_over"]) if "people_over" in item else None,
                insufficient_contact=int(item["insufficient_contact"])
                if "insufficient_contact" in item
                else None,
                parts=tuple(item["parts"]),
                post_days=int(item.get("post_days", 30)),
                phone_days=int(item.get("phone_days", 0)),
                source=str(item["source"]),
                verify=str(item.get("verify", "")),
            )
        )
    return str(data["version"]), rules


def evaluate(
    rules: Iterable[SubstituteRule],
    counts: PlaceCounts,
    *,
    cost_per_letter: float,
    flags: frozenset[str] = frozenset(),
) -> list[Finding]:
    """A finding for every rule that covers someone (and whose ``needs`` flag is set)."""
    out = []
    for rule in rules:
        if rule.needs and rule.needs not in flags:
            continue
        people = counts.total(counts.people, rule)
        if not people:
            continue
        triggers = []
        if rule.cost_over is not None:
            cost = counts.total(counts.letters, rule) * cost_per_letter
            triggers.append(Trigger("cost", cost, rule.cost_over, cost > rule.cost_over))
        if rule.people_over is not None:
            triggers.append(Trigger("people", people, rule.people_over, people > rule.people_over))
        if rule.insufficient_contact is not None:
            short = counts.total(counts.insufficient, rule)
            triggers.append(
                Trigger(
                    "insufficient_contact",
                    short,
                    rule.insufficient_contact,
                    short >= rule.insufficient_contact,
                )
            )
        out.append(Finding(rule, people, tuple(triggers)))
    return out


def gather(settings: Settings, segment: Segment, *, notice: str) -> PlaceCounts:
    """Residents, letters and people without usable contact, per place, for ``segment``: from the
    channel decisions, the ledger's email outcomes, and the list rows that could not be used."""
    counts = PlaceCounts()
    policy = policy_for(settings)
    for member, decision in decided_members(settings, segment, notice=notice, policy=policy):
        place = _place(member.view)
        counts.people[place] += 1
        if decision.channel is Channel.POSTAL:
            counts.letters[place] += 1
        email_failed = decision.channel is Channel.EMAIL and member.state.state in _FAILED
        if decision.channel is Channel.NONE or (email_failed and postal_address(member.view) is None):
            counts.insufficient[place] += 1
    # Rows rejected from the lists (an unusable address) the segment would take: unreachable by
    # email; reachable only if they hold a postal address.
    lists = audience.read_lists(settings.list_files)
    for fields, where in lists.rejected_fields:
        if fields is None:
            continue
        view = segment_view(fields, "")
        if not _in_segment(segment, view, where):
            continue
        place = _place(view)
        counts.people[place] += 1
        if postal_address(view) is None:
            counts.insufficient[place] += 1
        else:
            counts.letters[place] += 1
    return counts


def _in_segment(segment: Segment, view: dict[str, Any], where: str) -> bool:
    try:
        return segment.matches(view, where=where)
    except Exception:  # a row we cannot read fully still counts (as the plan does)
        return True


def _place(view: Mapping[str, Any]) -> tuple[str, str]:
    region = str(view.get("region", ""))
    country = str(view.get("country", "")) or region[:2]
    return country, region
