"""Who must be offered free credit monitoring, which offer they get, and whether the notice
says so (issue 17).

Rules are data (``rules/offers.toml``, versioned, a source beside each): per jurisdiction and
exposed category, the minimum months. The choice is pure: a recipient's template view, the
campaign's ``[offers.NAME]`` and its facts in, an :class:`OfferChoice` out. `notify send`
issues codes from it, the templates show it and `notify lint` checks it.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from notifier.models import Rendered
from notifier.settings import Offer

__all__ = [
    "MINORS",
    "OfferChoice",
    "Requirement",
    "SAMPLE_CODE",
    "choose",
    "is_minor",
    "load_requirements",
    "offer_problem",
    "offer_rule_items",
    "offers_rules_version",
    "requirements_for",
]

DEFAULT_POOL, MINORS = "default", "minors"
# What a preview, `notify check`'s sample and `notify lint` show instead of a real code: a code
# is the recipient's secret and goes only into their own message.
SAMPLE_CODE = "SAMPLE-CODE-0000"
_TRUE = frozenset({"1", "y", "yes", "true", "minor", "x"})


@dataclass(frozen=True, slots=True)
class Requirement:
    id: str
    severity: str  # ERROR, or WARN for what the reference marks VERIFY
    regions: frozenset[str]
    exposed: frozenset[str]
    min_months: int
    needs_source: bool
    what: str
    source: str


@dataclass(frozen=True, slots=True)
class OfferChoice:
    """The offer one recipient gets, from which pool, and the rules that asked for it."""

    offer: Offer
    pool: str
    required: tuple[Requirement, ...]

    @property
    def min_months(self) -> int:
        return max((r.min_months for r in self.required), default=0)


def _data() -> dict[str, Any]:
    text = (resources.files("notifier.compliance") / "rules" / "offers.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def offers_rules_version() -> str:
    return str(_data()["version"])


@functools.cache
def load_requirements() -> tuple[Requirement, ...]:
    return tuple(
        Requirement(
            id=item["id"],
            severity=item["severity"],
            regions=frozenset(item["regions"]),
            exposed=frozenset(item["exposed"]),
            min_months=int(item["min_months"]),
            needs_source=bool(item.get("needs_source", False)),
            what=item["what"],
            source=item["source"],
        )
        for item in _data()["requirement"]
    )


def offer_rule_items() -> list[dict[str, Any]]:
    """The offer rules in content.toml's shape, for `notify lint` (check "offer", and the
    "forbid" words such as a waiver for Massachusetts)."""
    items: list[dict[str, Any]] = []
    for r in load_requirements():
        items.append(
            {
                "id": r.id,
                "severity": r.severity,
                "applies": sorted(r.regions),
                "exposed": sorted(r.exposed),
                "check": "offer",
                "min_months": r.min_months,
                "needs_source": r.needs_source,
                "what": r.what,
                "source": r.source,
            }
        )
    for f in _data().get("forbid", []):
        items.append(
            {
                "id": f["id"],
                "severity": f["severity"],
                "applies": list(f["regions"]),
                "check": "forbid",
                "patterns": list(f["patterns"]),
                "what": f["what"],
                "source": f["source"],
            }
        )
    return items


def we_were_source(facts: Mapping[str, Any]) -> bool:
    incident = facts.get("incident") or {}
    return bool(incident.get("we_were_source", True))


def requirements_for(view: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Requirement]:
    """The offer rules that apply to this recipient (their region and exposed categories)."""
    region = str(view.get("region") or "").upper()
    exposed = set(view.get("exposed") or ())
    return [
        r
        for r in load_requirements()
        if region in r.regions and r.exposed & exposed and (not r.needs_source or we_were_source(facts))
    ]


def is_minor(view: Mapping[str, Any]) -> bool:
    """The list's ``minor`` column says so (yes, true, 1, ...): a code from the minors' pool."""
    return str(view.get("minor") or "").strip().lower() in _TRUE


def choose(
    view: Mapping[str, Any], offers: Mapping[str, Offer], facts: Mapping[str, Any]
) -> OfferChoice | None:
    """The offer this recipient gets, or None. Someone the rules cover gets the shortest offer
    that is long enough (the longest there is when none is: lint says it falls short); someone
    they do not cover gets an offer only if it is for ``who = "everyone"`` and something of
    theirs was exposed."""
    if not offers or not view.get("exposed"):
        return None
    required = tuple(requirements_for(view, facts))
    candidates: Sequence[Offer] = (
        list(offers.values()) if required else [o for o in offers.values() if o.who == "everyone"]
    )
    if not candidates:
        return None
    need = max((r.min_months for r in required), default=0)
    enough = [o for o in candidates if o.months >= need]
    offer = min(enough, key=lambda o: o.months) if enough else max(candidates, key=lambda o: o.months)
    return OfferChoice(offer, MINORS if is_minor(view) else DEFAULT_POOL, required)


def offer_problem(
    params: Mapping[str, Any], rendered: Rendered, facts: Mapping[str, Any], view: Mapping[str, Any]
) -> str:
    """Lint check "offer": what is wrong with this recipient's offer, or "". The notice was
    rendered with the offer the recipient would get (code: SAMPLE_CODE)."""
    if params.get("needs_source") and not we_were_source(facts):
        return ""
    minimum = int(params["min_months"])
    choice = choose(view, facts.get("offers") or {}, facts)
    if choice is None:
        return (
            f"no offer is configured: add an [offers.NAME] table of at least {minimum} months to "
            "notify.toml and import its codes (`notify offers import FILE --offer NAME`)"
        )
    if choice.offer.months < minimum:
        return (
            f"the offer {choice.offer.name!r} runs {choice.offer.months} months, less than the "
            f"{minimum} required: add a longer offer"
        )
    shown = SAMPLE_CODE in rendered.text and choice.offer.url in rendered.text
    if not shown:
        return (
            f"the notice does not show the offer {choice.offer.name!r} (its code and enrolment URL): "
            "add the offer block ({% if offer is defined %} ... offer.code ... offer.url) to the template"
        )
    return ""
