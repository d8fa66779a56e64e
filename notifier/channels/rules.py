"""Load the channel rules (``compliance/rules/channels.toml`` or a file of the user's own).

Rules are data, versioned, with a source per rule. A rule marked ``verify`` (the sources
disagree, or the statute text was not read) is kept and used, and shows as a warning.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from notifier.errors import ConfigError

__all__ = ["CONDITIONS", "ChannelRules", "JurisdictionRule", "MailboxRule", "load_channel_rules"]

CONDITIONS = frozenset(
    {
        "esign_consent",
        "express_consent",
        "primary_channel_email",
        "has_email_address",
        "prior_business_relationship",
        "business_primarily_internet",
    }
)
# The compromised-mailbox rule when a rules file has no [mailbox] table: as strict as the built-in
# rules, so leaving the table out never weakens it (reference notice-channels §7).
CREDENTIAL_CATEGORIES = ("mailbox_credentials",)
STRICT_CATEGORIES = ("password", "password_hash", "security_questions")
# Facts about us (not about the person), set in notify.toml under [channels] org_facts.
ORG_FACTS = frozenset({"business_primarily_internet"})


@dataclass(frozen=True, slots=True)
class JurisdictionRule:
    id: str
    jurisdiction: str  # "US-NY", "US", "default"
    email_any_of: tuple[str, ...]
    email_all_of: tuple[str, ...]
    log_each_notice: bool
    mailbox_rule: bool
    source: str
    verify: str = ""


@dataclass(frozen=True, slots=True)
class MailboxRule:
    credential_categories: frozenset[str]
    strict_categories: frozenset[str]
    strict_everywhere: bool


@dataclass(frozen=True, slots=True)
class ChannelRules:
    version: str
    path: str
    rules: Mapping[str, JurisdictionRule]  # by jurisdiction
    mailbox: MailboxRule
    org_facts: frozenset[str] = frozenset()
    warnings: tuple[str, ...] = field(default=())

    def for_place(self, region: str, country: str) -> JurisdictionRule:
        """The rule for a person living in ``region`` (ISO 3166-2) / ``country`` (ISO 3166-1)."""
        return self.rules.get(region) or self.rules.get(country) or self.rules["default"]

    def with_org_facts(self, facts: Iterable[str]) -> ChannelRules:
        """These rules, knowing facts about us (e.g. business_primarily_internet).

        Raises ConfigError for a fact these rules do not know.
        """
        chosen = frozenset(facts)
        unknown = sorted(chosen - ORG_FACTS)
        if unknown:
            raise ConfigError(
                f"[channels] org_facts: unknown fact {unknown[0]!r}",
                key="channels.org_facts",
                hint=f"known: {', '.join(sorted(ORG_FACTS))}",
            )
        return replace(self, org_facts=chosen)


def load_channel_rules(path: Path | None = None) -> ChannelRules:
    """The built-in channel rules, or those in ``path``.

    Raises ConfigError naming the file and rule when the data is unusable (unknown condition,
    missing source, two rules for one jurisdiction, no default rule).
    """
    if path is None:
        label = "notifier/compliance/rules/channels.toml"
        text = (resources.files("notifier.compliance") / "rules" / "channels.toml").read_text(
            encoding="utf-8"
        )
    else:
        label = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read the channel rules ({exc.strerror})", path=label) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML ({exc})", path=label) from exc
    return _build(data, label)


def _build(data: Mapping[str, Any], label: str) -> ChannelRules:
    if "version" not in data:
        raise ConfigError("no version", path=label, hint='add version = "YYYY-MM-DD"')
    rules: dict[str, JurisdictionRule] = {}
    warnings: list[str] = []
    for item in data.get("rule", []):
        rule = _rule(item, label)
        if rule.jurisdiction in rules:
            raise ConfigError(
                f"rules {rules[rule.jurisdiction].id} and {rule.id} both cover {rule.jurisdiction}",
                path=label,
            )
        rules[rule.jurisdiction] = rule
        if rule.verify:
            warnings.append(f"{rule.id} (VERIFY): {rule.verify}")
    if "default" not in rules:
        raise ConfigError('no rule with jurisdiction = "default"', path=label)
    box = data.get("mailbox", {})
    mailbox = MailboxRule(
        credential_categories=frozenset(box.get("credential_categories", CREDENTIAL_CATEGORIES)),
        strict_categories=frozenset(box.get("strict_categories", STRICT_CATEGORIES)),
        strict_everywhere=bool(box.get("strict_everywhere", True)),
    )
    return ChannelRules(str(data["version"]), label, rules, mailbox, frozenset(), tuple(warnings))


def _rule(item: Mapping[str, Any], label: str) -> JurisdictionRule:
    rid = str(item.get("id", "?"))
    for key in ("id", "jurisdiction", "source"):
        if not item.get(key):
            raise ConfigError(f"rule {rid}: no {key}", path=label, hint="every rule names its source")
    any_of = tuple(item.get("email_any_of", []))
    all_of = tuple(item.get("email_all_of", []))
    unknown = sorted(set(any_of + all_of) - CONDITIONS)
    if unknown:
        raise ConfigError(
            f"rule {rid}: unknown condition {unknown[0]!r}",
            path=label,
            hint=f"known: {', '.join(sorted(CONDITIONS))}",
        )
    if any_of and all_of:
        raise ConfigError(f"rule {rid}: use email_any_of or email_all_of, not both", path=label)
    return JurisdictionRule(
        id=rid,
        jurisdiction=str(item["jurisdiction"]),
        email_any_of=any_of,
        email_all_of=all_of,
        log_each_notice=bool(item.get("log_each_notice", False)),
        mailbox_rule=bool(item.get("mailbox_rule", False)),
        source=str(item["source"]),
        verify=str(item.get("verify", "")),
    )
