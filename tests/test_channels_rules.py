"""The channel rules as data and the evidence columns: each decision from the rules, values the
rules cannot read named by `notify lists check` with file:line, a rules file of one's own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from notifier.channels.columns import check_fields, postal_address
from notifier.channels.decide import Channel, decide
from notifier.channels.rules import load_channel_rules
from notifier.errors import ConfigError

from .conftest import Campaign
from .test_channels import mixed

RULES = load_channel_rules()


def test_every_rule_names_its_source_and_verify_items_are_warnings() -> None:
    """Each built-in rule has a source; each one marked VERIFY shows up as a warning naming it."""
    assert all(r.source for r in RULES.rules.values())
    verify = {r.id for r in RULES.rules.values() if r.verify}
    assert verify and all(any(w.startswith(f"{rid} (VERIFY)") for w in RULES.warnings) for rid in verify)


def test_rules_without_a_source_are_refused(tmp_path: Path) -> None:
    """A rule without a source is a configuration error naming the file and the rule."""
    path = tmp_path / "mine.toml"
    path.write_text('version = "1"\n[[rule]]\nid = "X"\njurisdiction = "default"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"mine.toml: rule X: no source"):
        load_channel_rules(path)


def test_unknown_condition_is_refused(tmp_path: Path) -> None:
    """A condition the decider does not know is an error naming it, not a silent 'never'."""
    path = tmp_path / "mine.toml"
    path.write_text(
        'version = "1"\n[[rule]]\nid = "X"\njurisdiction = "default"\nsource = "s"\n'
        'email_any_of = ["esing_consent"]\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="unknown condition 'esing_consent'"):
        load_channel_rules(path)


def test_new_york_logs_whatever_the_channel() -> None:
    """Every New Yorker's decision requires the log, so any email that does reach them is logged."""
    with_consent = decide(
        {"email": "a@x.example", "region": "US-NY", "consent": "ref:F1", "consent_scope": "express"}, RULES
    )
    without = decide({"email": "a@x.example", "region": "US-NY"}, RULES)
    assert with_consent.channel is Channel.EMAIL and with_consent.log_required
    assert without.channel is Channel.NONE and without.log_required


def test_withdrawn_consent_is_no_consent() -> None:
    """consent = withdrawn does not count as E-SIGN consent."""
    d = decide(
        {"email": "a@x.example", "region": "US-CA", "consent": "withdrawn", "consent_scope": ""}, RULES
    )
    assert d.channel is Channel.NONE


def test_business_primarily_online_lets_maryland_use_email() -> None:
    """Maryland allows email when we do business primarily online ([channels] org_facts)."""
    fields = {"email": "a@x.example", "region": "US-MD"}
    assert decide(fields, RULES).channel is Channel.NONE
    assert decide(fields, RULES.with_org_facts(["business_primarily_internet"])).channel is Channel.EMAIL


def test_unknown_org_fact_is_refused() -> None:
    """An org fact the rules do not know is a configuration error listing the known ones."""
    with pytest.raises(ConfigError, match="unknown fact 'business_primarly_internet'"):
        RULES.with_org_facts(["business_primarly_internet"])


def test_deceased_person_gets_a_letter_to_the_next_of_kin() -> None:
    """A deceased person's notice is a letter to the next of kin; without their address, none possible."""
    base = {"email": "a@x.example", "region": "US-CA", "deceased": "yes"}
    kin = {
        "next_of_kin_name": "Sam Doe",
        "next_of_kin_line1": "2 Pine Rd",
        "next_of_kin_city": "Fresno",
        "next_of_kin_region": "CA",
        "next_of_kin_postcode": "93650",
        "next_of_kin_country": "US",
    }
    assert decide({**base, **kin}, RULES).channel is Channel.POSTAL
    assert decide({**base, **kin}, RULES).rule == "CH-NOK"
    assert decide(base, RULES).channel is Channel.NONE


def test_postal_address_block_by_country() -> None:
    """The address block reads as each country's post expects; an incomplete address is None."""
    us = {
        "first_name": "Ana",
        "last_name": "Lopez",
        "postal_line1": "1 Main St",
        "postal_city": "Austin",
        "postal_region": "TX",
        "postal_postcode": "73301",
        "postal_country": "US",
    }
    assert postal_address(us, home_country="US") == ["Ana Lopez", "1 Main St", "Austin TX 73301"]
    de = {
        "postal_name": "Jo Ng",
        "postal_line1": "Hauptstr. 5",
        "postal_city": "Berlin",
        "postal_postcode": "10115",
        "postal_country": "DE",
    }
    assert postal_address(de) == ["Jo Ng", "Hauptstr. 5", "10115 Berlin", "DE"]
    assert postal_address({**us, "postal_postcode": ""}) is None


def test_unreadable_evidence_values_are_named() -> None:
    """A typo in an evidence column is a problem in plain words, never read as 'no'."""
    problems = check_fields(
        {
            "consent": "yes please",
            "consent_scope": "esgin",
            "primary_channel": "fax",
            "mailbox_provided_by_us": "yse",
            "postal_line1": "1 Main St",
        }
    )
    text = " | ".join(problems)
    for word in ("consent 'yes please'", "'esgin'", "'fax'", "'yse'", "incomplete address"):
        assert word in text


def test_lists_check_names_the_row_of_an_unknown_value(campaign: Campaign) -> None:
    """`notify lists check` fails (exit 1) and names file:line and the value."""
    c = mixed(campaign)
    text = (c.root / "lists" / "subscribers.csv").read_text(encoding="utf-8").replace(",express,", ",exprss,")
    c.write_list(text)
    result = c.notify("lists", "check")
    assert result.code == 1
    assert "subscribers.csv:5: consent_scope 'exprss' is not one of: esign, express" in result.out


def test_own_rules_file_changes_the_decision(campaign: Campaign) -> None:
    """[channels] rules = a file of one's own: its rules decide instead of the built-in ones."""
    c = mixed(campaign)
    (c.root / "mine.toml").write_text(
        'version = "ours-1"\n[[rule]]\nid = "OURS"\njurisdiction = "default"\nsource = "counsel memo 12"\n'
        'email_any_of = ["has_email_address"]\n',
        encoding="utf-8",
    )
    c.config.write_text(
        c.config.read_text(encoding="utf-8") + '\n[channels]\nrules = "mine.toml"\n', encoding="utf-8"
    )
    data = json.loads(c.notify("channels", "--segment", "affected", "--json").out)
    assert data["rules_version"] == "ours-1"
    # Everyone has an address; only the two compromised mailboxes we provide are not emailed.
    assert data["by_channel"] == {"email": 8, "postal": 1, "none-possible": 1}
