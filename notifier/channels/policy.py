"""The campaign's channel policy: the rules it uses (built in, or [channels] rules), facts about
us, whether `send` applies them, and the incident's categories for rows that list none.

The preview, `notify channels`, the evidence pack and the send plan all decide through
:func:`policy_for`, so they cannot disagree about anyone's channel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from notifier.channels.decide import ChannelDecision, decide, jurisdiction_of, mailbox_compromised
from notifier.channels.rules import ChannelRules, load_channel_rules
from notifier.settings import Settings

__all__ = ["ChannelPolicy", "DEFAULT_COST_PER_LETTER", "policy_for"]

# Print and First-Class postage for a one-sheet letter, an estimate for the substitute-notice
# cost trigger when [channels] cost_per_letter is not set (USD; set your mail house's price).
DEFAULT_COST_PER_LETTER = 1.0


@dataclass(frozen=True, slots=True)
class ChannelPolicy:
    rules: ChannelRules
    apply: bool  # False: `send` emails the whole segment as before (loudly), decisions are shown only
    incident_categories: frozenset[str]
    cost_per_letter: float

    def decide(self, view: Mapping[str, Any]) -> ChannelDecision:
        """The decision for one person (``view``: a list row with ``email``, as a segment sees it)."""
        return decide(view, self.rules, exposed=self.categories(view))

    def categories(self, view: Mapping[str, Any]) -> frozenset[str]:
        """The person's exposed categories: their row's, else the incident's."""
        own = view.get("exposed") or ()
        return frozenset(own) if own else self.incident_categories

    def never_email(self, view: Mapping[str, Any]) -> bool:
        """Their address is a compromised mailbox we provide: never sent the notice (reference §7)."""
        return bool(mailbox_compromised(view, self.rules, self.categories(view)))

    @staticmethod
    def jurisdiction(view: Mapping[str, Any]) -> str:
        region, country = jurisdiction_of(view)
        return region or country or "unknown"


def policy_for(settings: Settings) -> ChannelPolicy:
    """The policy of this campaign. Raises ConfigError for an unusable rules file or org fact."""
    cfg = settings.channels
    path = cfg.get("rules")
    rules = load_channel_rules(settings.root / str(path) if path else None)
    rules = rules.with_org_facts(cfg.get("org_facts", []))
    return ChannelPolicy(
        rules=rules,
        apply=bool(cfg.get("apply", True)),
        incident_categories=frozenset(settings.facts.get("incident", {}).get("data_categories", [])),
        cost_per_letter=float(cfg.get("cost_per_letter", DEFAULT_COST_PER_LETTER)),
    )
