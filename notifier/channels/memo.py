"""One channel decision per kind of row, not per person (the send plan's gate, issue 15).

A million-row list holds a few hundred distinct combinations of what the channel rules read; the
decision (notifier.channels.decide) is a pure function of them, so it is made once per
combination. The key holds every column the rules read: by value where the value is read
(place, data categories, the yes/no columns, consent scope, primary channel), by presence where
only presence is (names and address lines), and consent as "held or not" (a date is one per
person). Rows are as the ledger stores them: values stripped, empty cells absent
(notifier.lists.recipients); two rows with one key cannot be decided differently
(tests/test_channels_memo.py checks it against the rules on their own).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from notifier.channels.columns import NEXT_OF_KIN_COLUMNS, POSTAL_COLUMNS
from notifier.channels.decide import Channel, ChannelDecision
from notifier.channels.policy import ChannelPolicy

__all__ = ["DecisionMemo", "Outcome", "decision_key"]

MAX_KEYS = 20_000  # combinations remembered: a list where every row differs costs decisions, not memory
_BY_VALUE = (
    "country",
    "region",
    "postal_country",
    "postal_region",
    "next_of_kin_country",  # a US next-of-kin address needs a region and a postcode
    "deceased",
    "mailbox_provided_by_us",
    "prior_business_relationship",
    "consent_scope",
    "primary_channel",
)
_BY_PRESENCE = ("first_name", "last_name", *POSTAL_COLUMNS, *NEXT_OF_KIN_COLUMNS)
_NO_CONSENT = frozenset({"", "no", "none", "withdrawn"})  # columns.has_consent


def decision_key(view: Mapping[str, Any]) -> Hashable | None:
    """What the channel rules read from ``view``; None when a value cannot be a key."""
    get = view.get
    exposed = get("exposed")
    key = (
        tuple(exposed) if exposed else (),
        tuple([get(c) for c in _BY_VALUE]),
        tuple([bool(get(c)) for c in _BY_PRESENCE]),
        str(get("consent", "")).strip().lower() in _NO_CONSENT,
        bool(get("email")),
    )
    try:
        hash(key)
    except TypeError:  # a value no list cell holds (a list where text belongs)
        return None
    return key


@dataclass(frozen=True, slots=True)
class Outcome:
    """A row's decision, its jurisdiction, and whether it is a compromised mailbox we provide."""

    decision: ChannelDecision
    jurisdiction: str
    never_email: bool


class DecisionMemo:
    """``policy``'s answers for rows, decided once per :func:`decision_key`."""

    def __init__(self, policy: ChannelPolicy, *, limit: int = MAX_KEYS) -> None:
        self.policy = policy
        self._seen: dict[Hashable, Outcome] = {}
        self._limit = limit
        self.decided = 0  # rows the rules decided (the others were remembered)

    def outcome(self, view: Mapping[str, Any]) -> Outcome:
        key = decision_key(view)
        if key is not None:
            found = self._seen.get(key)
            if found is not None:
                return found
        policy = self.policy
        decision = policy.decide(view)
        # Email is never decided for a compromised mailbox, so only the others need the check.
        never = decision.channel is not Channel.EMAIL and policy.never_email(view)
        out = Outcome(decision, policy.jurisdiction(view), never)
        self.decided += 1
        if key is not None and len(self._seen) < self._limit:
            self._seen[key] = out
        return out
