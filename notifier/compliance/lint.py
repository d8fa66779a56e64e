"""`notify lint`: does each recipient's notice say what the law of their jurisdiction requires?

Rules are data (``rules/content.toml``, versioned, a source beside each). Every recipient
is linted against the rules of their own jurisdiction (country, US state) and exposed
data. Rendering every person of a million-row list would add nothing: what the rules
look at depends on the jurisdiction and the exposed categories, so one representative
per (jurisdiction, exposed categories) group is rendered and linted, and findings are
counted for the whole group. Whether each person's notice renders at all (a value missing
from their row) is still checked person by person, as `notify send` does before sending,
and reported as a RENDER finding naming the rows rather than stopping the lint.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from importlib import resources
from typing import Any

from notifier.compliance.languages import heading_forms, localise, reading_ease, untranslated_facts
from notifier.compliance.offers import offer_problem, offer_rule_items
from notifier.models import Rendered
from notifier.render.locale import format_when, language_rules
from notifier.render.notice import RenderFailure

__all__ = [
    "ContentRule",
    "LintReport",
    "jurisdictions",
    "lint_campaign",
    "lint_message",
    "lint_recipients",
    "load_content_rules",
    "reading_grade",
    "write_lint",
]

_EU_EEA_CODES = "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO"
# EU member states and the EEA (Iceland, Liechtenstein, Norway)
EU_EEA = frozenset(_EU_EEA_CODES.split())


@dataclass(frozen=True, slots=True)
class ContentRule:
    id: str
    severity: str  # ERROR or WARN
    applies: frozenset[str] | None  # None: everyone
    exposed: frozenset[str]
    check: str
    params: Mapping[str, Any]
    what: str
    source: str
    notices: str = "legal"  # legal | follow-up | all

    def applies_to(self, places: frozenset[str], exposed: Iterable[str]) -> bool:
        if self.applies is not None and not (self.applies & places):
            return False
        return not self.exposed or bool(self.exposed & set(exposed))


def load_content_rules(kind: str = "legal") -> list[ContentRule]:
    """The rules for notices of ``kind`` ("legal" or "follow-up")."""
    text = (resources.files("notifier.compliance") / "rules" / "content.toml").read_text(encoding="utf-8")
    rules = []
    # Legal notices are also held to the offer rules (rules/offers.toml: CA-08, MA-04, DC-01, ...).
    offer_items = offer_rule_items() if kind == "legal" else []
    for item in [*tomllib.loads(text)["rule"], *offer_items]:
        notices = item.pop("notices", "legal")
        if notices not in (kind, "all"):
            continue
        applies = item.pop("applies")
        rules.append(
            ContentRule(
                id=item.pop("id"),
                severity=item.pop("severity"),
                applies=None if applies == "all" else frozenset(applies),
                exposed=frozenset(item.pop("exposed", [])),
                check=item.pop("check"),
                what=item.pop("what"),
                source=item.pop("source"),
                params=item,
                notices=notices,
            )
        )
    return rules


def jurisdictions(recipient: Mapping[str, Any]) -> frozenset[str]:
    country = str(recipient.get("country", "")).upper()
    region = str(recipient.get("region", "")).upper()
    places = {p for p in (country, region) if p}
    if country in EU_EEA:
        places.add("EU")
    if country == "GB":
        places.add("UK")
    return frozenset(places)


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.headings: list[str] = []
        self.title = ""
        self.sizes: list[float] = []
        self.links: list[str] = []
        self.images_without_alt: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("h1", "h2", "h3", "title"):
            self._in = tag
            if tag != "title":
                self.headings.append("")
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"] or "")
        if tag == "img" and not (attributes.get("alt") or "").strip():
            self.images_without_alt.append(attributes.get("src") or "?")
        for name, value in attrs:
            if name == "style" and value:
                self.sizes += [float(s) for s in re.findall(r"font-size:\s*([\d.]+)px", value)]

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "title":
            self.title += data
        elif self._in:
            self.headings[-1] += data


def _norm(heading: str) -> str:
    return " ".join(heading.split()).strip(" ?.:¿¡").lower()


def _fact(facts: Mapping[str, Any], dotted: str) -> Any:
    value: Any = facts
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _syllables(word: str) -> int:
    groups = re.findall(r"[aeiouy]+", word.lower())
    count = len(groups) - (1 if word.lower().endswith("e") and len(groups) > 1 else 0)
    return max(1, count)


def reading_grade(text: str) -> float:
    """Flesch-Kincaid grade level of plain text."""
    sentences = max(1, len(re.findall(r"[.!?]+(\s|$)", text)))
    words = re.findall(r"[A-Za-z][A-Za-z'-]*", text)
    if not words:
        return 0.0
    syllables = sum(_syllables(w) for w in words)
    return 0.39 * len(words) / sentences + 11.8 * syllables / len(words) - 15.59


def lint_message(
    rules: Iterable[ContentRule],
    rendered: Rendered,
    facts: Mapping[str, Any],
    recipient: Mapping[str, Any],
    *,
    categories: Mapping[str, str],
    language: str = "en",
    locale: str = "en",
) -> list[tuple[ContentRule, str]]:
    """The rules this recipient's message breaks, each with what is missing. A message in
    another ``language`` is held to the same rules in that language (compliance/languages.py);
    ``locale`` is how its dates are written."""
    html = _Html()
    html.feed(rendered.html)
    # A bilingual heading ("Qué sucedió / What Happened") counts as each of its halves too.
    html_headings = [_norm(f) for h in html.headings for f in heading_forms(h)]
    text_headings = [
        _norm(f)
        for line in rendered.text.splitlines()
        if line.strip() and line.isupper()
        for f in heading_forms(line)
    ]
    places = jurisdictions(recipient)
    exposed = list(recipient.get("exposed", []))
    broken: list[tuple[ContentRule, str]] = []
    for rule in rules:
        if not rule.applies_to(places, exposed):
            continue
        rule = localise(rule, language)  # the same rule, in this language
        problem = (
            offer_problem(rule.params, rendered, facts, recipient)
            if rule.check == "offer"
            else _check(
                rule, rendered, facts, exposed, html, html_headings, text_headings, categories, locale
            )
        )
        if problem:
            broken.append((rule, problem))
    return broken


def _mentioned(text: str, value: Any, locale: str = "en") -> bool:
    if value is None or value == "":
        return False
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        spelled = f"{value.day} {value:%B} {value.year}"
        return (
            spelled in text
            or value.isoformat() in text
            or f"{value:%B} {value.day}, {value.year}" in text
            or format_when(value, locale) in text  # as the message's language writes it
        )
    return str(value) in text


def _check(
    rule: ContentRule,
    rendered: Rendered,
    facts: Mapping[str, Any],
    exposed: list[str],
    html: _Html,
    html_headings: list[str],
    text_headings: list[str],
    categories: Mapping[str, str],
    locale: str = "en",
) -> str:
    p = rule.params
    if rule.check == "heading":
        missing = [h for h in p["headings"] if _norm(h) not in html_headings or _norm(h) not in text_headings]
        return (
            f"no heading {', '.join(repr(m) for m in missing)} (in the HTML and the text part)"
            if missing
            else ""
        )
    if rule.check == "order":
        wanted = [_norm(h) for h in p["headings"]]
        for where, found in (("HTML", html_headings), ("text", text_headings)):
            seen = [h for h in found if h in wanted]
            if seen != wanted:
                return f"{where} headings are {seen or 'missing'}, not in the order {p['headings']}"
        return ""
    if rule.check == "field":
        missing = [f for f in p["fields"] if not _fact(facts, f)]
        return f"notify.toml does not set {', '.join(missing)}" if missing else ""
    if rule.check == "any_field":
        return (
            ""
            if any(_fact(facts, f) for f in p["fields"])
            else f"notify.toml sets none of {', '.join(p['fields'])}"
        )
    if rule.check == "mentions":
        missing = [f for f in p["fields"] if not _mentioned(rendered.text, _fact(facts, f), locale)]
        return f"the text does not mention {', '.join(missing)}" if missing else ""
    if rule.check == "pattern":
        missing = [pat for pat in p["patterns"] if not re.search(pat, rendered.text, re.I | re.S)]
        return f"the text does not match {missing}" if missing else ""
    if rule.check == "forbid_facts":
        found = [f for f in p["fields"] if (v := _fact(facts, f)) and str(v)[:80] in rendered.text]
        return f"the text includes {', '.join(found)}" if found else ""
    if rule.check == "forbid":
        found = [m.group(0) for pat in p["patterns"] if (m := re.search(pat, rendered.text, re.I))]
        return f"the text contains {found}" if found else ""
    if rule.check == "subject":
        missing = [pat for pat in p["patterns"] if not re.search(pat, rendered.subject, re.I)]
        return f"the subject {rendered.subject!r} does not match {missing}" if missing else ""
    if rule.check == "title":
        first = html.headings[0] if html.headings else ""
        ok = _norm(p["text"]) in {_norm(f) for h in (html.title, first) for f in heading_forms(h)}
        return "" if ok else f"the title is {first.strip() or html.title.strip()!r}, not {p['text']!r}"
    if rule.check == "categories":
        missing = [c for c in exposed if categories.get(c, c).lower() not in rendered.text.lower()]
        return f"exposed categories not named: {', '.join(missing)}" if missing else ""
    if rule.check == "font":
        small = [s for s in html.sizes if s < p["min_px"]]
        return f"font sizes below {p['min_px']}px: {sorted(set(small))}" if small else ""
    if rule.check == "links":
        bad = [link for link in html.links if not re.match(r"(https://|mailto:|tel:|#)", link, re.I)]
        return f"links without https: {bad[:5]}" if bad else ""
    if rule.check == "images":
        return f"images without alt text: {html.images_without_alt[:5]}" if html.images_without_alt else ""
    if rule.check == "size":
        size = len(rendered.html.encode("utf-8"))
        return f"the HTML is {size:,} bytes (limit {p['max_bytes']:,})" if size > p["max_bytes"] else ""
    if rule.check == "reading" and p.get("formula"):
        ease = reading_ease(rendered.text, p["formula"])
        floor = float(p.get("min_ease") or 50.0)
        return f"reading ease {ease:.1f} is below {floor} ({p['formula']})" if ease < floor else ""
    if rule.check == "help_line":
        phone = _fact(facts, "contact.phone")
        line = language_rules().get(locale.split("_")[0], {}).get("help", "")
        if not phone or not line:
            return ""
        wanted = line.replace("{phone}", str(phone))
        return "" if wanted in rendered.text else f"no line {wanted!r}"
    if rule.check == "reading":
        grade = reading_grade(rendered.text)
        return f"reading grade {grade:.2f} is above {p['max_grade']}" if grade > p["max_grade"] else ""
    raise ValueError(f"rule {rule.id}: unknown check {rule.check!r}")


@dataclass
class LintReport:
    recipients: int = 0
    groups: int = 0
    # (rule id, severity, what) -> [count, problem, example rows, jurisdictions, source]
    findings: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return sum(1 for (_, sev, _w) in self.findings if sev == "ERROR")

    def as_dict(self) -> dict[str, Any]:
        return {
            "recipients": self.recipients,
            "groups_rendered": self.groups,
            "findings": [
                {"id": i, "severity": s, "what": w, **v} for (i, s, w), v in sorted(self.findings.items())
            ],
        }


def lint_recipients(
    rules: list[ContentRule],
    render: Any,
    facts: Mapping[str, Any],
    recipients: Iterable[tuple[Mapping[str, Any], str]],
    *,
    categories: Mapping[str, str],
    examples: int = 3,
    check: Callable[[Mapping[str, Any]], RenderFailure | None] | None = None,
    languages: Any = None,
    language_findings: bool = True,
) -> LintReport:
    """Lint everyone: ``recipients`` yields (template view, "file:line"); ``render`` turns a
    view into a Rendered. One render per (jurisdiction, exposed, language) group; ``check`` (the
    notice's) is asked for each person, so a value missing in some rows is a finding.
    ``languages`` (the Notice) says each person's language, its labels and facts: the rules are
    then checked in that language (compliance/languages.py), and GEN-09, LANG-REVIEW and
    LANG-FACTS report people without a pack, unreviewed packs and untranslated facts (unless
    ``language_findings`` is False: a second pass over the same people, e.g. their letters)."""
    report = LintReport()
    groups: dict[tuple[Any, ...], list[tuple[ContentRule, str]]] = {}
    people_by_language: dict[str, list[str]] = {}
    for view, where in recipients:
        report.recipients += 1
        key: tuple[Any, ...] = (jurisdictions(view), tuple(sorted(view.get("exposed", []))))
        choice = languages.language_for(view) if languages is not None else None
        if choice is not None:
            key = (*key, choice.language)
            people_by_language.setdefault(choice.language, []).append(where)
            if choice.wanted and language_findings:
                _language_finding(report, choice, key[0], where, examples)
        failure = check(view) if check is not None else None
        broken = groups.get(key)
        if broken is None and failure is None:
            try:
                if choice is None:
                    broken = lint_message(rules, render(view), facts, view, categories=categories)
                else:
                    broken = lint_message(
                        rules,
                        render(view),
                        languages.facts_in(choice.language),
                        view,
                        categories=languages.labels(choice.language),
                        language=choice.language,
                        locale=choice.locale,
                    )
                groups[key] = broken
            except RenderFailure as exc:
                failure = exc
        if failure is not None:
            _render_finding(report, failure, key[0], where, examples)
        if broken is None:
            continue  # this person's notice does not render; the group is linted through another
        for rule, problem in broken:
            entry = report.findings.setdefault(
                (rule.id, rule.severity, rule.what),
                {
                    "recipients": 0,
                    "problem": problem,
                    "examples": [],
                    "jurisdictions": set(),
                    "source": rule.source,
                },
            )
            entry["recipients"] += 1
            regions = {p for p in key[0] if "-" in p}
            entry["jurisdictions"] |= regions or set(key[0])
            if len(entry["examples"]) < examples:
                entry["examples"].append(where)
    report.groups = len(groups)
    if languages is not None and language_findings:
        _pack_findings(report, languages, people_by_language, examples)
    for entry in report.findings.values():
        entry["jurisdictions"] = sorted(entry["jurisdictions"])
    return report


def _finding(report: LintReport, key: tuple[str, str, str], problem: str, source: str) -> dict[str, Any]:
    return report.findings.setdefault(
        key, {"recipients": 0, "problem": problem, "examples": [], "jurisdictions": set(), "source": source}
    )


def _language_finding(report: LintReport, choice: Any, places: frozenset[str], where: str, n: int) -> None:
    """GEN-09: this person's usual language (their locale, or their place's) has no pack."""
    entry = _finding(
        report,
        ("GEN-09", "WARN", f"a notice in {choice.wanted}"),
        f"{choice.wanted} was asked for but this notice has no {choice.wanted} pack; they get "
        f"{choice.language} ({choice.reason})",
        "WP29/EDPB guidance (iusprivacy.eu); add templates/<notice>/lang/"
        f"{choice.wanted.split('-')[0]}/ with a reviewed translation",
    )
    entry["recipients"] += 1
    entry["jurisdictions"] |= {p for p in places if "-" in p} or set(places)
    if len(entry["examples"]) < n:
        entry["examples"].append(where)


def _pack_findings(report: LintReport, notice: Any, people: Mapping[str, list[str]], n: int) -> None:
    """LANG-REVIEW for each pack nobody has signed off; LANG-FACTS for each language people get
    whose free-text campaign facts are still only in the notice's own language."""
    for code, pack in notice.packs.items():
        if pack.reviewed:
            continue
        entry = _finding(
            report,
            ("LANG-REVIEW", "WARN", f"a reviewed {code} translation of {notice.name!r}"),
            f"{notice.name}/lang/{code}/pack.toml has no reviewed_by and reviewed_at: have a fluent "
            "reviewer (and counsel) check the translation, then set both",
            "notice-channels §5: keep a per-language reviewed_by and reviewed_at",
        )
        entry["recipients"] += len(people.get(code, []))
        entry["examples"] += people.get(code, [])[: max(0, n - len(entry["examples"]))]
    translations = notice.context.get("translations") or {}
    for code, where in people.items():
        if code == notice.language:
            continue
        missing = untranslated_facts(notice.context, translations, code)
        if not missing:
            continue
        entry = _finding(
            report,
            ("LANG-FACTS", "WARN", f"the campaign facts in {code}"),
            f"not translated, so shown in {notice.language} inside the {code} notice: " + ", ".join(missing),
            f"add them under [translations.{code}.<table>] in notify.toml",
        )
        entry["recipients"] += len(where)
        entry["examples"] += where[: max(0, n - len(entry["examples"]))]


def _render_finding(
    report: LintReport, failure: RenderFailure, places: frozenset[str], where: str, examples: int
) -> None:
    """Count one person whose notice does not render under the failure's template line."""
    entry = report.findings.setdefault(
        ("RENDER", "ERROR", f"{failure.where}: {failure.what}"),
        {
            "recipients": 0,
            "problem": "the notice does not render for these recipients, and `notify send` will not "
            "start until it does",
            "examples": [],
            "jurisdictions": set(),
            "source": "fill in the value in the list, or guard it in the template with "
            "{% if recipient.COLUMN is defined %}",
        },
    )
    entry["recipients"] += 1
    entry["jurisdictions"] |= {p for p in places if "-" in p} or set(places)
    if len(entry["examples"]) < examples:
        entry["examples"].append(where)


def lint_campaign(settings: Any, notice: Any, segment: Any) -> LintReport:
    """Lint every member of the segment, as the audience (lists + the real ledger state) has it."""
    from notifier.followups.readiness import refuse_unready
    from notifier.lists import audience
    from notifier.offers.context import OfferContext
    from notifier.render.letters import letter_renderer
    from notifier.render.notice import DEFAULT_CATEGORIES

    facts = notice.context
    categories = {**DEFAULT_CATEGORIES, **facts.get("categories", {})}
    refuse_unready(settings, notice.name)  # an empty or unreachable follow-up: ERROR with its fix
    lists = audience.read_lists(settings.list_files)
    first = audience.first_notice_of(settings, notice.name, getattr(notice, "refers_to", ""))
    offers = OfferContext(settings)  # each person's offer, with the sample code
    with audience.open_reader(settings) as reader:
        people = (
            (m.view, m.where)
            for m in audience.members(lists, segment, reader, notice=notice.name, first_notice=first)
        )
        report = lint_recipients(
            load_content_rules(notice.kind),
            lambda view: notice.render(view, offers.for_view(view)),
            facts,
            people,
            categories=categories,
            check=lambda view: notice.check(view, offers.for_view(view)),
            languages=notice,
        )
        # The printed letter (letter.html, issue 16): the same rules over the same people; its
        # findings are marked "(letter)".
        letter = letter_renderer(notice, settings.letters.layout)
        if letter is not None:
            again = (
                (m.view, m.where)
                for m in audience.members(lists, segment, reader, notice=notice.name, first_notice=first)
            )
            on_paper = lint_recipients(
                load_content_rules(notice.kind),
                lambda view: letter(view, offers.for_view(view)),
                facts,
                again,
                categories=categories,
                languages=notice,
                language_findings=False,  # said once, by the email pass
            )
            for (rule_id, severity, what), found in on_paper.findings.items():
                report.findings[(rule_id, severity, f"(letter) {what}")] = found
        return report


def write_lint(report: LintReport, out: Any) -> None:
    out.write(
        f"Linted {report.recipients} recipients ({report.groups} distinct jurisdiction and data "
        "combinations rendered)\n"
    )
    if not report.findings:
        out.write("Every applicable rule is met.\n")
        return
    for (rule_id, severity, what), v in sorted(
        report.findings.items(), key=lambda kv: (kv[0][1] != "ERROR", kv[0])
    ):
        out.write(
            f"\n{severity:<5} {rule_id:<8} {what} — {v['recipients']} recipient(s) in "
            f"{', '.join(v['jurisdictions']) or 'all'}\n"
        )
        out.write(
            f"      {v['problem']}\n      e.g. {', '.join(v['examples'])}\n      source: {v['source']}\n"
        )
    errors = sum(1 for (_, sev, _w) in report.findings if sev == "ERROR")
    out.write(f"\n{errors} rule(s) with ERROR, {len(report.findings) - errors} with WARN\n")
