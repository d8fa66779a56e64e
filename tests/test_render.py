"""Rendering: the built-in notice says what the law asks, safely, and fast CSS inlining is exact."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from notifier.campaign import builtin_templates
from notifier.pipeline.campaign import notice_context
from notifier.render.notice import RenderFailure, inline_css, load_notice, preinline
from notifier.settings import load

from .conftest import Campaign

CA_HEADINGS = [  # CA-02, in this order
    "What Happened",
    "What Information Was Involved",
    "What We Are Doing",
    "What You Can Do",
    "For More Information",
]


class _Headings(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, str]] = []
        self._current: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("h1", "h2", "title"):
            self._current = tag
            self.tags.append((tag, ""))

    def handle_endtag(self, tag: str) -> None:
        self._current = None

    def handle_data(self, data: str) -> None:
        if self._current:
            tag, text = self.tags[-1]
            self.tags[-1] = (tag, text + data)


def notice_for(campaign: Campaign):  # type: ignore[no-untyped-def]
    settings = load(campaign.config)
    return load_notice(
        settings.templates_dir,
        "breach-notice",
        notice_context(settings, "breach-notice", today=dt.date(2026, 11, 21)),
    )


RECIPIENT = {
    "email": "ben@example.org",
    "first_name": "Ben",
    "country": "US",
    "region": "US-CA",
    "exposed": ["email", "password_hash"],
}


def test_builtin_notice_has_the_california_title_and_headings_in_order(campaign: Campaign) -> None:
    """CA-01, CA-02: title 'Notice of Data Breach', then the five headings in order."""
    rendered = notice_for(campaign).render(RECIPIENT)
    parser = _Headings()
    parser.feed(rendered.html)
    assert ("h1", "Notice of Data Breach") in parser.tags
    h2 = [t for tag, t in parser.tags if tag == "h2"]
    # California allows "Other Important Information" just before the last heading.
    assert h2 == [*CA_HEADINGS[:4], "Other Important Information", CA_HEADINGS[4]]
    text_headings = [line.title() for line in rendered.text.splitlines() if line.isupper() and line.strip()]
    assert text_headings[0] == "Notice Of Data Breach"
    assert [h.lower() for h in text_headings[1:] if h.lower() != "other important information"] == [
        h.lower() for h in CA_HEADINGS
    ]


def test_builtin_notice_covers_the_gdpr_and_california_content(campaign: Campaign) -> None:
    """Nature (GDPR-04), own categories (GEN-02), consequences (GDPR-02), measures (GDPR-03),
    steps (GEN-04), DPO (GDPR-01), contact (GEN-01), notice date (CA-05), dates (GEN-03),
    law-enforcement sentence (CA-06), password advice (GEN-11), phishing warning (GEN-12)."""
    text = notice_for(campaign).render(RECIPIENT).text
    assert "unauthorised person signed in" in text
    assert "- your email address" in text and "- your password" in text
    assert "- your postal address" not in text  # only this recipient's categories
    assert "You may receive fake emails" in text
    assert "two-factor authentication" in text
    assert "Dana Example" in text and "dpo@example.com" in text
    assert "privacy@example.com" in text and "+1 800 555 0100" in text
    # A Californian reads dates as Americans write them, times in Pacific time (issue 17).
    assert "Date of this notice: November 21, 2026" in text
    assert "discovered it on November 18, 2026" in text
    assert "not delayed by a law enforcement investigation" in text
    assert "Change your password and security questions" in text
    assert "We will never ask for your password" in text


def test_credit_bureau_and_agency_contacts_go_where_the_law_asks(campaign: Campaign) -> None:
    """CA-07 (SSN or licence numbers), CO-01 and every US resident: credit bureaus, the FTC,
    fraud alerts and freezes; NY-01: New York's agencies for New York residents only."""
    notice = notice_for(campaign)
    german = {"email": "a@example.de", "country": "DE", "exposed": ["email"]}
    assert "Equifax" not in notice.render(german).text
    assert "Equifax: 1-800-685-1111" in notice.render({**german, "exposed": ["ssn"]}).text
    us = notice.render(RECIPIENT).text
    assert "Equifax: 1-800-685-1111" in us and "1-877-438-4338" in us and "security freeze" in us
    assert "ag.ny.gov" not in us
    assert "ag.ny.gov" in notice.render({**RECIPIENT, "region": "US-NY"}).text


def test_font_sizes_never_go_below_10pt(campaign: Campaign) -> None:
    """CA-03: every inlined font-size is at least 13.33px (10pt)."""
    html = notice_for(campaign).render(RECIPIENT).html
    sizes = [float(s) for s in re.findall(r"font-size:\s*([\d.]+)px", html)]
    assert sizes and min(sizes) >= 13.33


def test_html_is_autoescaped(campaign: Campaign) -> None:
    """A name holding markup is shown as text, not run as HTML."""
    rendered = notice_for(campaign).render({**RECIPIENT, "first_name": "<script>alert(1)</script>"})
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;" in rendered.html
    assert "Dear <script>alert(1)</script>," in rendered.text  # the text part is plain text


def test_unknown_data_category_is_an_error_not_a_blank(campaign: Campaign) -> None:
    with pytest.raises(RenderFailure, match="no plain-words label for data category 'loyalty_id'"):
        notice_for(campaign).render({**RECIPIENT, "exposed": ["loyalty_id"]})


def test_inlining_the_template_once_equals_inlining_every_message(campaign: Campaign) -> None:
    """The fast path (CSS inlined into the template source) produces the same HTML as
    premailer run on each rendered message, for varied recipients."""
    notice = notice_for(campaign)
    assert notice.inlined_once
    slow = load_notice(notice.directory.parent, "breach-notice", notice.context, fast_html=False)
    for exposed in (["email"], ["email", "ssn", "password_hash"], [], ["name", "phone", "date_of_birth"]):
        person = {**RECIPIENT, "exposed": exposed, "first_name": "Zoë & <Co>"}
        fast_html = notice.render(person).html
        slow_html = slow.render(person).html
        assert _normalise(fast_html) == _normalise(slow_html)


def _normalise(html: str) -> str:
    return re.sub(r"\s+", " ", html).strip()


def test_templates_that_cannot_be_inlined_once_fall_back_safely() -> None:
    """A Jinja tag inside a class attribute would defeat pre-inlining: it is refused."""
    assert preinline('<style>.a{color:red}</style><p class="{{ c }}">x</p>') is None
    assert preinline('<style>.a{color:red}</style><p class="a">{{ x }}</p>') is not None
    assert 'style="color:red"' in inline_css('<style>.a{color:red}</style><p class="a">x</p>')


def test_every_builtin_notice_has_all_three_parts() -> None:
    for notice in Path(builtin_templates()).iterdir():
        assert {p.name for p in notice.iterdir()} >= {"subject.txt", "body.html", "body.txt"}
