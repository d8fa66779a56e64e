"""Notice content rules per jurisdiction: the built-in notice meets every ERROR rule; a
deliberately incomplete one fails with the right rule IDs."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping

import pytest

from notifier.compliance.lint import jurisdictions, lint_message, load_content_rules, reading_grade
from notifier.pipeline.campaign import notice_context, recipient_context
from notifier.render.notice import DEFAULT_CATEGORIES, load_notice
from notifier.settings import load

from .conftest import Campaign

PEOPLE = {
    "EU GDPR": {"country": "DE", "exposed": ["email", "name", "password_hash"]},
    "UK GDPR": {"country": "GB", "exposed": ["email", "phone"]},
    "California": {"country": "US", "region": "US-CA", "exposed": ["email", "ssn", "password_hash"]},
    "New York": {"country": "US", "region": "US-NY", "exposed": ["email", "name"]},
    "Texas": {"country": "US", "region": "US-TX", "exposed": ["email", "drivers_license"]},
    "Florida": {"country": "US", "region": "US-FL", "exposed": ["email", "postal_address"]},
    "Washington": {"country": "US", "region": "US-WA", "exposed": ["email", "date_of_birth"]},
    "Colorado": {"country": "US", "region": "US-CO", "exposed": ["email", "security_questions"]},
}


OFFER = (
    '\n[offers.monitoring]\nvendor = "Experian"\nproduct = "IdentityWorks"\nmonths = 24\nenrol_days = 90\n'
    'url = "https://www.experianidworks.com/credit"\n'
)


def _lint(campaign: Campaign, person: Mapping[str, object]) -> list[tuple[str, str, str]]:
    # The California and Massachusetts people have their SSN exposed: the law requires a
    # monitoring offer in their notice (CA-08, MA-04; issue 17), so the campaign has one.
    if "[offers.monitoring]" not in campaign.config.read_text(encoding="utf-8"):
        campaign.config.write_text(campaign.config.read_text(encoding="utf-8") + OFFER, encoding="utf-8")
    settings = load(campaign.config)
    context = notice_context(settings, "breach-notice", today=dt.date(2026, 11, 21))
    notice = load_notice(settings.templates_dir, "breach-notice", context)
    view = {"email": "p@example.com", "first_name": "Pat", **person}
    broken = lint_message(
        load_content_rules(),
        notice.render(view, recipient_context(settings, view)),
        context,
        view,
        categories={**DEFAULT_CATEGORIES, **context["categories"]},
    )
    return [(r.id, r.severity, problem) for r, problem in broken]


@pytest.mark.parametrize("jurisdiction", list(PEOPLE))
def test_the_builtin_notice_meets_every_error_rule(campaign: Campaign, jurisdiction: str) -> None:
    errors = [b for b in _lint(campaign, PEOPLE[jurisdiction]) if b[1] == "ERROR"]
    assert errors == []


def test_an_incomplete_notice_fails_with_the_right_rule_ids(campaign: Campaign) -> None:
    """No 'What We Are Doing', no DPO, no law-enforcement sentence: GEN-05, GDPR-01, GDPR-03,
    CA-02 and CA-06 are named for the people they concern."""
    text = campaign.root / "templates" / "breach-notice" / "body.txt"
    html = campaign.root / "templates" / "breach-notice" / "body.html"

    def without_dpo(source: str) -> str:
        return "\n".join(line for line in source.splitlines() if "Data Protection Officer" not in line)

    text.write_text(
        without_dpo(text.read_text())
        .replace("WHAT WE ARE DOING", "OUR RESPONSE")
        .replace("law enforcement", "police"),
        encoding="utf-8",
    )
    html.write_text(
        without_dpo(html.read_text()).replace("What We Are Doing", "Our Response"), encoding="utf-8"
    )
    campaign.edit_config('[dpo]\nname = "Dana Example"\nemail = "dpo@example.com"\n', "")
    german = {rule for rule, sev, _ in _lint(campaign, PEOPLE["EU GDPR"]) if sev == "ERROR"}
    assert german == {"GEN-05", "GDPR-01", "GDPR-03"}
    californian = {rule for rule, sev, _ in _lint(campaign, PEOPLE["California"]) if sev == "ERROR"}
    assert californian == {"GEN-05", "CA-02", "CA-06"}


def test_notify_lint_groups_findings_with_counts_and_examples(campaign: Campaign) -> None:
    text = campaign.root / "templates" / "breach-notice" / "body.txt"
    text.write_text(text.read_text().replace("law enforcement", "police"), encoding="utf-8")
    result = campaign.notify("lint", "--json")
    assert result.code == 1
    findings = {f["id"]: f for f in json.loads(result.out)["findings"]}
    assert findings["CA-06"]["recipients"] == 1 and findings["CA-06"]["jurisdictions"] == ["US-CA"]
    assert findings["CA-06"]["examples"][0].endswith("subscribers.csv:3")
    ok = campaign.notify("lint")
    assert "ERROR CA-06" in ok.out


def test_jurisdictions_know_the_eu_and_the_uk() -> None:
    assert jurisdictions({"country": "IE"}) == {"IE", "EU"}
    assert jurisdictions({"country": "GB"}) == {"GB", "UK"}
    assert jurisdictions({"country": "US", "region": "US-MA"}) == {"US", "US-MA"}


def test_reading_grade_rewards_short_plain_sentences() -> None:
    plain = "We lost your email address. We are sorry. Change your password now."
    dense = (
        "Notwithstanding the aforementioned circumstances, unauthorised exfiltration of "
        "personally identifiable information necessitated comprehensive organisational remediation."
    )
    assert reading_grade(plain) < 6 < reading_grade(dense)


def test_massachusetts_residents_get_their_variant(campaign: Campaign) -> None:
    """MA-01..03: the US-MA variant leaves out the nature of the breach and states the
    right to a police report and to a free security freeze; the default notice would not."""
    settings = load(campaign.config)
    context = notice_context(settings, "breach-notice", today=dt.date(2026, 11, 21))
    notice = load_notice(settings.templates_dir, "breach-notice", context)
    person = {"email": "m@example.com", "country": "US", "region": "US-MA", "exposed": ["email", "ssn"]}
    assert notice.variant_for(person) == "US-MA" and "US-MA" in notice.variants
    text = notice.render(person).text
    assert "unauthorised person signed in" not in text  # the nature of the breach stays out
    assert "police report" in text and "free of charge" in text
    assert {r for r, sev, _ in _lint(campaign, person) if sev == "ERROR"} == set()
    assert notice.variant_for({"country": "US", "region": "US-CA"}) == "default"


def test_links_images_and_size_are_checked(campaign: Campaign) -> None:
    html = campaign.root / "templates" / "breach-notice" / "body.html"
    html.write_text(
        html.read_text().replace(
            "</body>",
            '<a href="http://example.com/help">help</a><img src="https://example.com/x.png"></body>',
        ),
        encoding="utf-8",
    )
    found = {rule: problem for rule, _, problem in _lint(campaign, PEOPLE["EU GDPR"])}
    assert "http://example.com/help" in found["HTML-LINKS"]
    assert "x.png" in found["HTML-ALT"]
    assert "HTML-SIZE" not in found
