"""Substitute notice: which jurisdictions' triggers are met, with the counts; the website notice
and media statement from notify.toml's facts only; the posting clocks in the deadline planner."""

from __future__ import annotations

import csv
import io
import json

from notifier.compliance.substitute import PlaceCounts, evaluate, load_substitute_rules

from .conftest import Campaign
from .test_channels import MIXED, mixed

# Vocabulary, not personal data: category codes, place codes and the evidence columns' keywords.
NOT_PERSONAL = {
    "exposed",
    "country",
    "region",
    "consent_scope",
    "primary_channel",
    "mailbox_provided_by_us",
    "prior_business_relationship",
    "postal_country",
    "postal_region",
}


def personal_values() -> set[str]:
    rows = list(csv.DictReader(io.StringIO(MIXED)))
    return {v for row in rows for k, v in row.items() if k not in NOT_PERSONAL and v}


def test_insufficient_contact_triggers_with_the_hand_count(campaign: Campaign) -> None:
    """New York (one resident with no lawful channel) and Germany (one) are triggered; California,
    where everyone has a channel, is not."""
    c = mixed(campaign)
    result = c.notify("substitute", "--segment", "affected", "--json")
    assert result.code == 0, result.err
    found = {f["rule"]: f for f in json.loads(result.out)["findings"]}
    ny = {t["trigger"]: t for t in found["SUB-US-NY"]["triggers"]}
    assert found["SUB-US-NY"]["applies"] and ny["insufficient_contact"]["value"] == 1
    assert found["SUB-US-NY"]["people"] == 2
    assert found["SUB-GDPR"]["applies"]  # Jo: our mailbox, password leaked, no address
    assert not found["SUB-US-CA"]["applies"]
    assert {t["trigger"]: t["value"] for t in found["SUB-US-CA"]["triggers"]}["insufficient_contact"] == 0


def test_cost_trigger_counts_letters_times_their_price() -> None:
    """The cost trigger is letters to mail times the price of one, over the rule's threshold."""
    vt = [r for r in load_substitute_rules()[1] if r.id == "SUB-US-VT"]
    counts = PlaceCounts()
    counts.people[("US", "US-VT")] = 30
    counts.letters[("US", "US-VT")] = 21
    under = evaluate(vt, counts, cost_per_letter=476.0)[0]  # 9,996 <= 10,000
    over = evaluate(vt, counts, cost_per_letter=477.0)[0]  # 10,017 > 10,000
    assert not under.applies and over.applies
    assert over.triggers[0].value == 21 * 477.0


def test_people_trigger_is_more_than_the_threshold() -> None:
    """Colorado's count trigger is more than 250,000 residents, not 250,000 itself."""
    co = [r for r in load_substitute_rules()[1] if r.id == "SUB-US-CO"]
    counts = PlaceCounts()
    counts.people[("US", "US-CO")] = 250_000
    assert not evaluate(co, counts, cost_per_letter=1.0)[0].applies
    counts.people[("US", "US-CO")] = 250_001
    assert evaluate(co, counts, cost_per_letter=1.0)[0].applies


def test_hipaa_rule_only_for_a_hipaa_incident() -> None:
    """HIPAA's substitute notice (10 or more unreachable) is weighed only when the incident is HIPAA's."""
    counts = PlaceCounts()
    counts.people[("US", "US-OH")] = 50
    counts.insufficient[("US", "US-OH")] = 10
    rules = load_substitute_rules()[1]
    assert "SUB-HIPAA" not in {f.rule.id for f in evaluate(rules, counts, cost_per_letter=1.0)}
    hipaa = {f.rule.id: f for f in evaluate(rules, counts, cost_per_letter=1.0, flags=frozenset({"hipaa"}))}
    assert hipaa["SUB-HIPAA"].applies and hipaa["SUB-HIPAA"].rule.phone_days == 90


def test_documents_hold_no_personal_data(campaign: Campaign) -> None:
    """Neither the website notice nor the media statement contains any personal value of the list."""
    c = mixed(campaign)
    c.notify("substitute", "--segment", "affected", "--output", "pub")
    web = (c.root / "pub" / "web-notice.html").read_text(encoding="utf-8")
    media = (c.root / "pub" / "media-statement.txt").read_text(encoding="utf-8")
    assert "Notice of Data Breach" in web and "What Happened" in web
    values = personal_values()
    assert len(values) > 40
    for value in values:
        assert value not in web, value
        assert value not in media, value


def test_web_notice_escapes_html_from_the_facts(campaign: Campaign) -> None:
    """Markup in notify.toml's facts is shown as text in the web notice, never run."""
    c = mixed(campaign)
    c.edit_config('name = "Example Shop"', 'name = "Example <script>alert(1)</script> Shop"')
    c.edit_config('legal_name = "Example Shop Ltd."\n', "")
    c.notify("substitute", "--segment", "affected")
    web = (c.root / "substitute" / "web-notice.html").read_text(encoding="utf-8")
    assert "<script>alert" not in web
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in web


def test_posting_dates_follow_the_longest_rule(campaign: Campaign) -> None:
    """The notice says from when and until when it is posted: 30 days for the state rules."""
    c = mixed(campaign)
    data = json.loads(c.notify("substitute", "--segment", "affected", "--from", "2026-12-01", "--json").out)
    assert data["posted_from"] == "2026-12-01" and data["posted_until"] == "2026-12-31"
    web = (c.root / "substitute" / "web-notice.html").read_text(encoding="utf-8")
    assert "01 December 2026" in web and "31 December 2026" in web


def test_posted_starts_the_posting_deadline(campaign: Campaign) -> None:
    """After `substitute posted`, the planner shows until when California's posting must stay up."""
    c = mixed(campaign)
    before = json.loads(c.notify("deadlines", "--segment", "affected", "--json").out)
    assert "CA-SUB-POST" not in {o["id"] for o in before["obligations"]}
    c.notify("send", "--segment", "affected", "--yes")  # makes the ledger
    result = c.notify(
        "substitute", "posted", "--at", "2026-12-01T10:00+01:00", "--url", "https://x.example/n"
    )
    assert result.code == 0, result.err
    after = {
        o["id"]: o
        for o in json.loads(c.notify("deadlines", "--segment", "affected", "--json").out)["obligations"]
    }
    assert after["CA-SUB-POST"]["due"].startswith("2026-12-31")
    assert after["CA-SUB-POST"]["status"] in {"keep up", "may end"}
    assert "HIPAA-SUB-PHONE" not in after  # not a HIPAA incident
