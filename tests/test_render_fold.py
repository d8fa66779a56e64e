"""Campaign facts folded into the compiled templates change nothing a recipient reads (issue 15)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from notifier.campaign import builtin_templates
from notifier.models import Rendered
from notifier.render.notice import Notice, RenderFailure, load_notice

FACTS: dict[str, Any] = {
    "org": {"name": "Shop & <Co>", "legal_name": "Shop Ltd", "website": "shop.example"},
    "incident": {
        "reference": "INC-1",
        "what_happened": 'Someone "copied" <b>data</b>.',
        "occurred": dt.date(2026, 10, 1),
        "discovered": dt.date(2026, 10, 3),
        "law_enforcement_delay": False,
        "likely_consequences": ["phishing", "fraud & <theft>"],
        "what_we_are_doing": ["resetting"],
        "what_you_can_do": ["watch"],
    },
    "contact": {"phone": "+1 800 555 0100", "email": "help@shop.example"},
    "dpo": {"name": "D. P. O.", "email": "dpo@shop.example"},
    "notice": {"name": "breach-notice", "date": dt.date(2026, 11, 21), "reference": "INC-1"},
}

PEOPLE = [
    {"email": "a@example.org", "first_name": "Zoë & <Co>", "country": "US", "region": "US-MA",
     "exposed": ["email", "ssn", "password_hash"]},
    {"email": "b@example.org", "country": "DE", "locale": "de-DE", "exposed": ["email"]},
    {"email": "c@example.org", "first_name": "Ana", "country": "ES", "locale": "es", "exposed": []},
    {"email": "d@example.org", "first_name": "Luc", "country": "FR", "locale": "fr", "exposed": ["phone"]},
]  # fmt: skip


def _unfolded(notice: Notice, person: dict[str, Any]) -> Rendered:
    """The render as it was before folding: the templates compiled from their files."""
    parts, ctx = notice._select(person)
    assert parts.html_fast is not None
    subject = " ".join(parts.subject.render(ctx).split())
    return Rendered(subject=subject, html=parts.html_fast.render(ctx), text=parts.text.render(ctx))


def test_every_language_and_variant_of_the_builtin_notice_renders_the_same_folded() -> None:
    """For each language pack and jurisdiction variant, the folded templates give the exact
    subject, HTML and text the templates compiled from their files give."""
    notice = load_notice(builtin_templates(), "breach-notice", FACTS)
    assert all(all(t is not None for t in p.folded) for p in notice._parts.values())
    for person in PEOPLE:
        assert notice.render(person) == _unfolded(notice, person)


def _notice(tmp_path: Path, text: str, context: dict[str, Any]) -> Notice:
    folder = tmp_path / "n"
    folder.mkdir(exist_ok=True)
    (folder / "subject.txt").write_text("Hello {{ org.name }}", encoding="utf-8")
    (folder / "body.html").write_text("<p>{{ org.name }}</p>", encoding="utf-8")
    (folder / "body.txt").write_text(text, encoding="utf-8")
    return load_notice(tmp_path, "n", context)


def test_a_template_that_sets_a_facts_name_keeps_its_own_value(tmp_path: Path) -> None:
    """A fact's name the template assigns itself is not folded: the template's value wins."""
    notice = _notice(
        tmp_path, "{% for org in [{'name': 'loop'}] %}{{ org.name }}{% endfor %} {{ org.name }}", FACTS
    )
    assert notice.render({"email": "a@example.org"}).text == "loop Shop & <Co>"


def test_a_missing_fact_still_stops_the_render_naming_it(tmp_path: Path) -> None:
    """A fact the template uses but notify.toml lacks is still an error that names it."""
    notice = _notice(tmp_path, "Ref {{ incident.nothing_here }}", FACTS)
    with pytest.raises(RenderFailure, match=r"incident\.nothing_here is missing"):
        notice.render({"email": "a@example.org"})


def test_html_facts_are_escaped_once_as_before(tmp_path: Path) -> None:
    """A fact folded into the HTML part is escaped exactly once; the text part keeps it raw."""
    notice = _notice(tmp_path, "{{ org.name }}", FACTS)
    rendered = notice.render({"email": "a@example.org"})
    assert "<p>Shop &amp; &lt;Co&gt;</p>" in rendered.html
    assert rendered.text == "Shop & <Co>" and rendered.subject == "Hello Shop & <Co>"


def test_a_per_recipient_value_under_a_facts_name_is_used_not_the_folded_one(tmp_path: Path) -> None:
    """Per-recipient facts passed beside the recipient (as offers are) win over folded ones."""
    notice = _notice(tmp_path, "{{ org.name }}", FACTS)
    rendered = notice.render({"email": "a@example.org"}, {"org": {"name": "Their own"}})
    assert rendered.text == "Their own"


def test_whether_a_fact_is_defined_is_answered_as_before(tmp_path: Path) -> None:
    """`is defined` / `is undefined` on a campaign fact gives what it gave at render time: set
    facts are defined, facts notify.toml leaves out are not."""
    text = (
        "{% if incident.reference is defined %}ref{% endif %}"
        "{% if incident.contained is defined %}contained{% endif %}"
        "{% if incident.contained is undefined %} open{% endif %}"
        "{% if incident.occurred is defined %} dated{% endif %}"
    )
    notice = _notice(tmp_path, text, FACTS)
    assert notice.render({"email": "a@example.org"}).text == "ref open dated"
