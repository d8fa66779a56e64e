"""One decision per (notice, recipient): email, a letter, or none possible — and why.

Pure: the fields of one list row and the rules in, a :class:`ChannelDecision` out. The order:
1. deceased → a letter to the next of kin (HIPAA 164.404(d)(1)(ii)), else none possible;
2. a compromised mailbox we provide → never email (reference notice-channels §7), a letter if
   we hold an address, else none possible;
3. the jurisdiction's email condition met → email (logged where the rule says, e.g. NY);
4. otherwise a letter if we hold a complete postal address, else none possible.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from notifier.channels.columns import (
    consent_scopes,
    has_address,
    has_consent,
    is_yes,
)
from notifier.channels.rules import ChannelRules, JurisdictionRule

__all__ = [
    "Channel",
    "ChannelDecision",
    "MAILBOX_PREFIX",
    "NEXT_OF_KIN_RULE",
    "decide",
    "jurisdiction_of",
    "mailbox_compromised",
]

NEXT_OF_KIN_RULE = "CH-NOK"
MAILBOX_PREFIX = "MBX-"


class Channel(enum.StrEnum):
    EMAIL = "email"
    POSTAL = "postal"
    NONE = "none-possible"


@dataclass(frozen=True, slots=True)
class ChannelDecision:
    channel: Channel
    rule: str  # the id of the rule that decided it (channels.toml), e.g. CH-US-NY, MBX-US-CA
    reason: str  # plain words, no personal data
    log_required: bool  # every electronic notice to this person is logged, whatever the channel (NY)

    @property
    def may_email(self) -> bool:
        return self.channel is Channel.EMAIL


def jurisdiction_of(fields: Mapping[str, Any]) -> tuple[str, str]:
    """(region, country) where the person lives: the list's region/country, else the postal
    address's (a US postal_region "NY" reads as US-NY)."""
    country = str(fields.get("country", "") or fields.get("postal_country", "")).strip().upper()
    region = str(fields.get("region", "")).strip().upper()
    if not region and fields.get("postal_region") and country:
        raw = str(fields["postal_region"]).strip().upper()
        region = raw if raw.startswith(f"{country}-") else f"{country}-{raw}"
    return region, country


def mailbox_compromised(fields: Mapping[str, Any], rules: ChannelRules, exposed: frozenset[str]) -> str:
    """'' when the address may be emailed; otherwise the id of the mailbox rule that forbids it.

    Statute (CA, DE, NJ, MD, AZ, CT): the login of a mailbox we furnish leaked. Policy (strict):
    any password or security answer leaked and we provide the mailbox, or the prohibition applied
    in every jurisdiction — the attacker may read that mailbox, and a notice there is no notice.
    """
    if not is_yes(fields, "mailbox_provided_by_us"):
        return ""
    box = rules.mailbox
    statutory = bool(exposed & box.credential_categories)
    strict = bool(exposed & box.strict_categories)
    if not (statutory or strict):
        return ""
    region, country = jurisdiction_of(fields)
    rule = rules.for_place(region, country)
    if statutory and rule.mailbox_rule:
        return f"{MAILBOX_PREFIX}{rule.jurisdiction}"
    if rule.mailbox_rule or box.strict_everywhere:
        return f"{MAILBOX_PREFIX}STRICT"
    return ""


def _met(condition: str, fields: Mapping[str, Any], rules: ChannelRules) -> bool:
    if condition == "esign_consent":
        return has_consent(fields) and "esign" in consent_scopes(fields)
    if condition == "express_consent":
        return has_consent(fields) and "express" in consent_scopes(fields)
    if condition == "primary_channel_email":
        return str(fields.get("primary_channel", "")).strip().lower() == "email"
    if condition == "has_email_address":
        return bool(fields.get("email"))
    if condition == "prior_business_relationship":
        return is_yes(fields, "prior_business_relationship")
    if condition == "business_primarily_internet":
        return condition in rules.org_facts
    raise ValueError(f"unknown condition {condition!r}")  # rules.py refuses these on load


def _email_allowed(
    rule: JurisdictionRule, fields: Mapping[str, Any], rules: ChannelRules
) -> tuple[bool, str]:
    if rule.email_all_of:
        missing = [c for c in rule.email_all_of if not _met(c, fields, rules)]
        if missing:
            return False, f"email needs all of: {', '.join(rule.email_all_of)} (missing {', '.join(missing)})"
        return True, f"email allowed: {', '.join(rule.email_all_of)}"
    met = [c for c in rule.email_any_of if _met(c, fields, rules)]
    if met:
        return True, f"email allowed: {met[0]}"
    if not rule.email_any_of:
        return False, "email is never direct notice here"
    return False, f"email needs one of: {', '.join(rule.email_any_of)} (none held)"


def decide(
    fields: Mapping[str, Any], rules: ChannelRules, *, exposed: frozenset[str] | None = None
) -> ChannelDecision:
    """The lawful channel for one person.

    ``fields`` is the list row (as ``Recipient.template_view()`` gives it, with ``email``);
    ``exposed`` is the data categories exposed for this person (None: the row's ``exposed``
    column). Pass the union with the incident's categories when the row does not list them.
    """
    cats = frozenset(fields.get("exposed") or ()) if exposed is None else exposed
    region, country = jurisdiction_of(fields)
    rule = rules.for_place(region, country)
    where = rule.jurisdiction if rule.jurisdiction != "default" else (region or country or "unknown place")
    log = rule.log_each_notice  # NY: every electronic notice is logged, whatever the channel
    if is_yes(fields, "deceased"):
        if has_address(fields, "next_of_kin_"):
            return ChannelDecision(
                Channel.POSTAL, NEXT_OF_KIN_RULE, "deceased: a letter to the next of kin", False
            )
        return ChannelDecision(
            Channel.NONE,
            NEXT_OF_KIN_RULE,
            "deceased and no next-of-kin address: add next_of_kin_* columns",
            log,
        )
    banned = mailbox_compromised(fields, rules, cats)
    if banned:
        why = "the login of a mailbox we provide was exposed: that mailbox is never sent the notice"
        if has_address(fields):
            return ChannelDecision(Channel.POSTAL, banned, f"{why}; a letter instead", log)
        return ChannelDecision(
            Channel.NONE, banned, f"{why}, and no postal address (add postal_* or notify in-session)", False
        )
    allowed, why = _email_allowed(rule, fields, rules)
    if allowed:
        return ChannelDecision(Channel.EMAIL, rule.id, f"{where}: {why}", log)
    if has_address(fields):
        return ChannelDecision(Channel.POSTAL, rule.id, f"{where}: {why}; a letter instead", log)
    return ChannelDecision(Channel.NONE, rule.id, f"{where}: {why}, and no complete postal address", log)
