"""Notices in the recipient's language (issue 17): the choice, the packs, the content rules in
each language, dates in the recipient's language and time zone, the report's language column."""

from __future__ import annotations

import csv
import datetime as dt
import email
import email.policy
import io
import json
from email.message import EmailMessage
from typing import Any

import pytest

from notifier.pipeline.campaign import notice_context
from notifier.render.locale import LanguagePolicy, format_when
from notifier.render.notice import load_notice
from notifier.settings import load

from .conftest import Campaign
from .smtpsink import Sink

LIST = """id,email,first_name,last_name,locale,country,region,exposed
L1,lucia@example.com,Lucía,Ramírez,es-US,US,US-CA,email;password_hash
L2,mathieu@example.org,Mathieu,Tremblay,,CA,CA-QC,email;name
L3,jonas@example.net,Jonas,Gruber,de-AT,AT,,email;name
L4,mei@example.com,Mei,Lin,zh-TW,US,US-NY,email;name
L5,sam@example.org,Sam,Jones,,US,US-TX,email;name
"""


def _messages(sink: Sink) -> dict[str, EmailMessage]:
    out = {}
    for r in sink.received:
        msg = email.message_from_bytes(r.data, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        out[r.rcpt_to] = msg
    return out


def _text(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def _html(msg: EmailMessage) -> str:
    part = msg.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def _lint(campaign: Campaign) -> tuple[int, list[dict[str, Any]]]:
    result = campaign.notify("lint", "--json")
    return result.code, json.loads(result.out)["findings"]


def test_spanish_and_french_notices_arrive_in_their_language_through_smtp(
    campaign: Campaign, sink: Sink
) -> None:
    """Each person's notice reaches a real SMTP server in the language their locale (or, for
    Québec, their jurisdiction) asks for; a locale with no pack gets the notice's own language."""
    campaign.write_list(LIST)
    result = campaign.notify("send", "--segment", "all", "--transport", sink.url, "--yes")
    assert result.code == 0, result.err
    got = _messages(sink)
    spanish = _text(got["lucia@example.com"])
    assert got["lucia@example.com"]["Subject"].startswith("Aviso de filtración de datos")
    assert "QUÉ SUCEDIÓ / WHAT HAPPENED" in spanish  # California's statutory heading kept beside it
    assert "Cambie su contraseña" in spanish
    assert "Fecha de este aviso: 21 de noviembre de 2026" in spanish
    assert "- su dirección de correo electrónico" in spanish
    french = _text(got["mathieu@example.org"])
    assert got["mathieu@example.org"]["Subject"].startswith("Avis de violation de données")
    assert "CE QUE NOUS FAISONS" in french and "/ WHAT WE ARE DOING" not in french
    assert "Date de cet avis : 21 novembre 2026" in french
    assert '<html lang="fr">' in _html(got["mathieu@example.org"])
    assert "WAS WIR UNTERNEHMEN" in _text(got["jonas@example.net"])
    assert _text(got["mei@example.com"]).startswith("NOTICE OF DATA BREACH")
    assert _text(got["sam@example.org"]).startswith("NOTICE OF DATA BREACH")


def test_the_spanish_and_french_packs_meet_every_content_rule(campaign: Campaign) -> None:
    """`notify lint` holds the Spanish and French notices to the same rules, in their language:
    no ERROR for anyone, and the Spanish Californian's notice passes CA-01/CA-02."""
    campaign.write_list(LIST)
    code, findings = _lint(campaign)
    assert [f for f in findings if f["severity"] == "ERROR"] == []
    assert code == 0


def test_a_pack_missing_a_required_heading_fails_lint_for_its_readers_only(campaign: Campaign) -> None:
    """Remove the Spanish "What we are doing" heading: GEN-05 names the Spanish reader's row,
    and nobody else's."""
    campaign.write_list(LIST)
    for part in ("body.html", "body.txt"):
        path = campaign.root / "templates" / "breach-notice" / "lang" / "es" / part
        text = path.read_text(encoding="utf-8")
        path.write_text(
            text.replace("Qué estamos haciendo", "Nuestra respuesta").replace(
                "QUÉ ESTAMOS HACIENDO", "NUESTRA RESPUESTA"
            ),
            encoding="utf-8",
        )
    code, findings = _lint(campaign)
    gen05 = [f for f in findings if f["id"] == "GEN-05"]
    assert code == 1
    assert len(gen05) == 1 and gen05[0]["recipients"] == 1
    assert gen05[0]["examples"][0].endswith("subscribers.csv:2")


def test_a_spanish_californian_notice_without_the_english_statutory_headings_fails(
    campaign: Campaign,
) -> None:
    """California's headings are statutory English text: a Spanish notice that drops
    "What Happened" from beside "Qué sucedió" fails CA-02 for the Californian."""
    campaign.write_list(LIST)
    for part in ("body.html", "body.txt"):
        path = campaign.root / "templates" / "breach-notice" / "lang" / "es" / part
        text = path.read_text(encoding="utf-8")
        path.write_text(
            text.replace(" / What Happened", "").replace(" / WHAT HAPPENED", ""), encoding="utf-8"
        )
    _code, findings = _lint(campaign)
    assert {f["id"] for f in findings if f["severity"] == "ERROR"} == {"CA-02"}


def test_an_unreviewed_pack_warns_until_reviewed_by_and_reviewed_at_are_set(campaign: Campaign) -> None:
    """`notify lint` warns about a language pack nobody signed off, and stops once its pack.toml
    names the reviewer and the date."""
    campaign.write_list(LIST)
    _code, findings = _lint(campaign)
    review = {f["what"]: f for f in findings if f["id"] == "LANG-REVIEW"}
    assert review["a reviewed es translation of 'breach-notice'"]["severity"] == "WARN"
    assert review["a reviewed es translation of 'breach-notice'"]["recipients"] == 1
    pack = campaign.root / "templates" / "breach-notice" / "lang" / "es" / "pack.toml"
    pack.write_text(
        'language = "es"\nreviewed_by = "Ana Ortiz"\nreviewed_at = 2026-11-30\n', encoding="utf-8"
    )
    _code, findings = _lint(campaign)
    whats = {f["what"] for f in findings if f["id"] == "LANG-REVIEW"}
    assert "a reviewed es translation of 'breach-notice'" not in whats
    assert "a reviewed fr translation of 'breach-notice'" in whats


def test_a_locale_without_a_pack_and_untranslated_facts_are_warned(campaign: Campaign) -> None:
    """GEN-09 names the reader whose language (zh-TW) has no pack; LANG-FACTS names the
    campaign facts still only in English inside the Spanish notice, until they are translated."""
    campaign.write_list(LIST)
    _code, findings = _lint(campaign)
    gen09 = next(f for f in findings if f["id"] == "GEN-09")
    assert gen09["recipients"] == 1 and gen09["examples"][0].endswith("subscribers.csv:5")
    facts = next(f for f in findings if f["id"] == "LANG-FACTS" and "in es" in f["what"])
    assert "incident.what_happened" in facts["problem"]
    campaign.config.write_text(
        campaign.config.read_text(encoding="utf-8")
        + '\n[translations.es.incident]\nwhat_happened = "Una persona no autorizada entró en nuestra '
        'plataforma de correo."\n',
        encoding="utf-8",
    )
    _code, findings = _lint(campaign)
    facts = next(f for f in findings if f["id"] == "LANG-FACTS" and "in es" in f["what"])
    assert "incident.what_happened" not in facts["problem"]
    settings = load(campaign.config)
    notice = load_notice(settings.templates_dir, "breach-notice", notice_context(settings, "breach-notice"))
    text = notice.render({"email": "l@example.com", "locale": "es", "exposed": ["email"]}).text
    assert "Una persona no autorizada entró en nuestra plataforma de correo." in text


def test_the_language_is_chosen_from_locale_then_jurisdiction_then_campaign_default() -> None:
    """locale (full tag, then its language) before the jurisdiction's default (Québec: French)
    before the campaign's default; the reason says which."""
    policy = LanguagePolicy(["es", "fr", "de"], "en", campaign_default="de")
    assert policy.choose({"locale": "es-MX", "region": "CA-QC"}).reason == "locale es-MX"
    assert policy.choose({"locale": "es-MX", "region": "CA-QC"}).language == "es"
    quebec = policy.choose({"country": "CA", "region": "CA-QC"})
    assert (quebec.language, quebec.reason) == ("fr", "jurisdiction CA-QC")
    assert policy.choose({"country": "US"}).language == "de"
    missing = policy.choose({"locale": "pt-BR", "country": "BR"})
    assert missing.language == "de" and missing.wanted == "pt-BR"
    assert LanguagePolicy([], "en").choose({"locale": "fr-CA", "region": "CA-QC"}).language == "en"


def test_times_are_shown_in_the_recipients_zone_and_language() -> None:
    """A time recorded as 14:10 at UTC+01:00 reads as 5:10 AM Pacific for a Californian, in
    German time for a Berliner, never as a bare UTC offset."""
    when = dt.datetime(2026, 11, 20, 14, 10, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    californian = format_when(when, "en_US", "America/Los_Angeles")
    assert californian.replace("\u202f", " ") == "November 20, 2026, 5:10 AM PST"
    assert format_when(when, "de_DE", "Europe/Berlin") == "20. November 2026, 14:10 MEZ"
    spanish = format_when(when, "es_US", "America/Los_Angeles")
    assert spanish.startswith("20 de noviembre de 2026, 5:10") and spanish.endswith("PST")
    assert "UTC+01:00" not in californian and "+0100" not in californian


def test_a_notice_shows_times_in_the_zone_of_the_timezone_column(campaign: Campaign) -> None:
    """The list's `timezone` column wins over the region's zone: a Californian living in Tokyo
    reads the discovery time in Japan time."""
    settings = load(campaign.config)
    notice = load_notice(settings.templates_dir, "breach-notice", notice_context(settings, "breach-notice"))
    base = {"email": "p@example.com", "country": "US", "region": "US-CA", "exposed": ["email"]}
    assert "PST" in notice.render(base).text.split("We discovered it on")[1].split("\n")[0]
    tokyo = notice.render({**base, "timezone": "Asia/Tokyo"}).text
    assert "JST" in tokyo.split("We discovered it on")[1].split("\n")[0] or "Japan" in tokyo
    assert notice.language_for({**base, "timezone": "Asia/Tokyo"}).timezone == "Asia/Tokyo"


def test_a_value_missing_in_a_pack_is_refused_naming_the_list_row(campaign: Campaign, sink: Sink) -> None:
    """A Spanish template using a column some rows lack stops the send before anything goes
    out, naming the Spanish template's line and the list row."""
    campaign.write_list(LIST)
    path = campaign.root / "templates" / "breach-notice" / "lang" / "es" / "body.txt"
    path.write_text(path.read_text(encoding="utf-8") + "Socio {{ recipient.member_no }}\n", encoding="utf-8")
    result = campaign.notify("send", "--segment", "all", "--transport", sink.url, "--yes")
    assert result.code != 0 and sink.received == []
    assert "breach-notice/lang/es/body.txt" in result.err
    assert "recipient.member_no" in result.err and "subscribers.csv:2" in result.err


def test_the_report_says_which_language_each_person_got_and_why(campaign: Campaign, sink: Sink) -> None:
    """`notify report` has a language column and the reason for it."""
    campaign.write_list(LIST)
    assert campaign.notify("send", "--segment", "all", "--transport", sink.url, "--yes").code == 0
    rows = {r["email"]: r for r in csv.DictReader(io.StringIO(campaign.notify("report").out))}
    assert (rows["lucia@example.com"]["language"], rows["lucia@example.com"]["language_reason"]) == (
        "es",
        "locale es-US",
    )
    assert rows["mathieu@example.org"]["language_reason"] == "jurisdiction CA-QC"
    assert rows["mei@example.com"]["language"] == "en"
    assert "no zh-TW pack" in rows["mei@example.com"]["language_reason"]


@pytest.mark.parametrize("notice", ["what-we-changed", "investigation-complete", "final-update"])
@pytest.mark.parametrize("language", ["es", "fr", "de"])
def test_each_follow_up_pack_meets_the_follow_up_rules(
    campaign: Campaign, notice: str, language: str
) -> None:
    """The built-in follow-ups in Spanish, French and German name the original notice (GEN-10),
    say what is new, and say unsubscribing does not stop legally required notices (FU-01)."""
    from notifier.compliance.lint import lint_message, load_content_rules

    campaign.fill_follow_up_facts()
    settings = load(campaign.config)
    loaded = load_notice(settings.templates_dir, notice, notice_context(settings, notice))
    view: dict[str, Any] = {"email": "p@example.com", "locale": language, "country": "US"}
    view |= {"region": "US-CA", "exposed": ["email"]}
    choice = loaded.language_for(view)
    assert choice.language == language
    broken = lint_message(
        load_content_rules("follow-up"),
        loaded.render(view),
        loaded.facts_in(language),
        view,
        categories=loaded.labels(language),
        language=language,
        locale=choice.locale,
    )
    assert [(r.id, problem) for r, problem in broken] == []


def test_a_notice_without_the_help_line_is_warned(campaign: Campaign) -> None:
    """LANG-HELP: a notice that drops the "help in your language" lines (with the phone number)
    is warned about; the built-in notices carry them."""
    campaign.write_list(LIST)
    _code, findings = _lint(campaign)
    assert not [f for f in findings if f["id"] == "LANG-HELP"]
    path = campaign.root / "templates" / "breach-notice" / "lang" / "fr" / "body.txt"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("{% for line in language.help %}", "{% for line in [] %}"), encoding="utf-8")
    _code, findings = _lint(campaign)
    help_line = [f for f in findings if f["id"] == "LANG-HELP"]
    assert len(help_line) == 1 and help_line[0]["examples"][0].endswith("subscribers.csv:3")
    assert "Besoin d’aide en français" in help_line[0]["problem"]
