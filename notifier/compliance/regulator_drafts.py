"""`notify regulators draft ID --output DIR`: what one regulator's filing asks for, from the
same facts as the notice (issue 17).

Writes, 0600: ``fields.txt`` (each field of the regulator's form with its answer, or TO FILL IN),
``fields.json`` (the same), and for regulators that want a copy of the notice (California's
AG publishes it) ``sample-notice.html``, ``.txt`` and ``.pdf``: the notice rendered for a person
who does not exist, every list column a ``[PLACEHOLDER]``, so it holds nobody's data. Counts by
channel come from the channel decisions the ledger recorded (issue 16) and the servers'
acceptances; with no decisions recorded, only email sends are counted, and the draft says so.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from notifier.compliance.deadlines import Obligation, Rule
from notifier.compliance.offers import choose
from notifier.compliance.regulators import Regulator, find_regulator, load_forms, regulator_report
from notifier.errors import UsageError
from notifier.ledger import ledger_exists, open_ledger
from notifier.lists import audience
from notifier.lists.segments import Segment, resolve
from notifier.private import private_text
from notifier.render.notice import DEFAULT_CATEGORIES, Notice, RenderFailure
from notifier.settings import Settings

__all__ = ["Draft", "placeholder_view", "write_draft"]

FILL = "TO FILL IN"
# Columns a placeholder cannot stand in for: they choose the language, zone and variant.
_STRUCTURAL = frozenset({"locale", "timezone", "country", "region", "exposed"})


@dataclass
class Draft:
    regulator: Regulator
    residents: int
    files: list[Path] = field(default_factory=list)
    to_fill: int = 0
    notes: list[str] = field(default_factory=list)


def placeholder_view(columns: set[str], *, country: str, region: str, exposed: list[str]) -> dict[str, Any]:
    """A person who does not exist: each list column is ``[COLUMN]``; only the place and the
    data categories are real (the rules and variant the regulator's residents get)."""
    view: dict[str, Any] = {c: f"[{c.upper().replace('_', ' ')}]" for c in columns - _STRUCTURAL}
    view.update({"email": "[EMAIL ADDRESS]", "country": country, "exposed": exposed})
    if region:
        view["region"] = region
    return view


def _in_scope(rule: Rule, view: Mapping[str, Any]) -> bool:
    return str(view.get("country", "")) in rule.countries or str(view.get("region", "")) in rule.regions


@dataclass
class _Scope:
    """What the lists say about this regulator's residents (no values kept, only names)."""

    columns: set[str] = field(default_factory=set)
    exposed: Counter[str] = field(default_factory=Counter)
    places: Counter[tuple[str, str]] = field(default_factory=Counter)


def _scope(settings: Settings, notice: str, rule: Rule, segment: Segment) -> _Scope:
    found = _Scope()
    lists = audience.read_lists(settings.list_files)
    with audience.open_reader(settings) as reader:
        for m in audience.members(lists, segment, reader, notice=notice, first_notice=notice):
            if not _in_scope(rule, m.view):
                continue
            found.columns |= set(m.recipient.fields)
            found.exposed.update(m.view.get("exposed") or [])
            found.places[str(m.view.get("country", "")), str(m.view.get("region", ""))] += 1
    return found


def _words(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "; ".join(_words(v) for v in value)
    return str(value)


def _fact(facts: Mapping[str, Any], dotted: str) -> Any:
    value: Any = facts
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


class _Answers:
    """Each value source of regulators.toml's forms, answered from the campaign."""

    def __init__(
        self,
        settings: Settings,
        regulator: Regulator,
        rule: Rule,
        o: Obligation | None,
        residents: int,
        **kw: Any,
    ) -> None:
        self.settings, self.regulator, self.rule, self.o, self.residents = (
            settings,
            regulator,
            rule,
            o,
            residents,
        )
        self.total: int = kw["total"]
        self.channels: str = kw["channels"]
        self.first: str = kw["first"]
        self.last: str = kw["last"]
        self.tz = kw["tz"]
        self.sample: str = kw["sample"]

    def answer(self, source: str) -> str:
        facts = self.settings.facts
        kind, _, arg = source.partition(":")
        if kind == "fact":
            return _words(_fact(facts, arg)) or f"{FILL}: {arg} (not set in notify.toml)"
        if kind == "fill":
            return f"{FILL}: {arg}"
        if kind == "text":
            return arg
        simple = {
            "residents": str(self.residents),
            "total": str(self.total),
            "channels": self.channels,
            "first_notice": self.first or f"{FILL}: nothing sent yet",
            "last_notice": self.last or f"{FILL}: nothing sent yet",
            "sample": self.sample,
        }
        if kind in simple:
            return simple[kind]
        if kind == "categories":
            labels = {**DEFAULT_CATEGORIES, **facts.get("categories", {})}
            codes = facts.get("incident", {}).get("data_categories") or []
            return "; ".join(labels.get(c, c) for c in codes) or f"{FILL}: [incident] data_categories"
        if kind == "offer":
            offers = list(self.settings.offers.values())
            if not offers:
                return "none offered"
            return "; ".join(
                f"{o.months} months of {o.vendor} {o.product}, free; enrol at {o.url}"
                + (f" or {o.phone}" if o.phone else "")
                + " with the activation code in each person's notice"
                for o in offers
            )
        if kind == "reporter":
            reg = self.settings.regulators
            who = ", ".join(v for v in (reg.get("reporter", ""), reg.get("reporter_title", "")) if v)
            contact = facts.get("contact", {})
            reach = ", ".join(str(contact[k]) for k in ("email", "phone", "postal") if contact.get(k))
            org = facts.get("org", {}).get("legal_name", "")
            return "; ".join(v for v in (who or f"{FILL}: [regulators] reporter", org, reach) if v)
        if kind == "lead_authority":
            return self.settings.regulators.get("lead_authority") or f"{FILL}: [regulators] lead_authority"
        if kind == "due":
            if self.o is None or self.o.due is None:
                return "no fixed time yet (" + (
                    "without undue delay)"
                    if self.rule.duration == "asap"
                    else "its clock starts with the first notice)"
                )
            return f"{self.o.due.astimezone(self.tz):%Y-%m-%d %H:%M %Z}"
        if kind == "late_reasons":
            now = dt.datetime.now(dt.UTC)
            if self.o is not None and self.o.due is not None and now > self.o.due and self.o.filed is None:
                return f"{FILL}: the reasons for the delay (the 72 hours have passed)"
            return "not late"
        raise ValueError(f"regulators.toml: unknown value source {source!r}")


def _channels(settings: Settings, notice: str, rule: Rule, tz: Any) -> tuple[str, str, str]:
    """(number notified by each method, first and last notice date) for the rule's residents,
    read from the ledger person by person: by email, those a server accepted whose lawful
    channel was email; by letter and the rest, the channel decisions (issue 16). A ledger with
    no decisions counts email sends only, and says so."""
    if not ledger_exists(settings):
        return "nothing sent yet", "", ""
    ledger = open_ledger(settings)
    try:
        stored = getattr(ledger, "channels_of", None)
        decisions = stored(notice) if stored is not None else {}
        times: list[float] = []
        other: Counter[str] = Counter()
        for row in ledger.report_rows(notice=notice):
            if row.recipient_id is None or not _in_scope(rule, row.fields):
                continue
            decided = decisions.get(row.recipient_id)
            channel = decided.channel if decided is not None else "email"
            if channel != "email":
                other[channel] += 1
            elif row.state in ("sent", "bounced") and row.sent_at is not None:
                times.append(row.sent_at)
    finally:
        ledger.close()
    first = f"{dt.datetime.fromtimestamp(min(times), tz):%Y-%m-%d}" if times else ""
    last = f"{dt.datetime.fromtimestamp(max(times), tz):%Y-%m-%d}" if times else ""
    email = f"email: {len(times)} accepted by the receiving mail servers" + (
        f" ({first} to {last})" if times else ""
    )
    if not decisions:
        return f"{email} (no channel decisions recorded: email sends only)", first, last
    others = ", ".join(f"{channel}: {n} decided" for channel, n in sorted(other.items()))
    return f"{email}; {others or 'no other method'}", first, last


def _write_bytes(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fh.fileno(), 0o600)
        fh.write(data)


def _sample(notice: Notice, settings: Settings, scope: _Scope, rule: Rule, output: Path) -> list[Path]:
    """The notice for a person who does not exist, as the regulator's residents get it."""
    (country, region), _ = (scope.places.most_common(1) or [(("", ""), 0)])[0]
    if not country:
        country = next(iter(sorted(rule.countries)), "US")
        region = next(iter(sorted(rule.regions)), "")
    exposed = [c for c, _ in scope.exposed.most_common()] or list(
        settings.facts.get("incident", {}).get("data_categories") or []
    )
    view = placeholder_view(scope.columns, country=country, region=region, exposed=exposed)
    extra: dict[str, Any] = {}
    choice = choose(view, settings.offers, settings.facts)
    if choice is not None:
        from notifier.offers.context import offer_view

        notice_date = settings.facts.get("incident", {}).get("notice_date") or dt.date.today()
        extra["offer"] = offer_view(choice, "[ACTIVATION CODE]", notice_date)
    try:
        rendered = notice.render(view, extra)
    except RenderFailure as exc:
        raise UsageError(
            f"the sample notice does not render: {exc}",
            hint="guard that value in the template with `is defined`, then draft again",
        ) from None
    files = [output / "sample-notice.html", output / "sample-notice.txt"]
    with private_text(files[0]) as fh:
        fh.write(rendered.html)
    with private_text(files[1]) as fh:
        fh.write(f"Subject: {rendered.subject}\n\n{rendered.text}")
    try:
        from weasyprint import HTML
    except ImportError:  # the HTML is there: print it to PDF
        return files
    pdf = output / "sample-notice.pdf"
    _write_bytes(pdf, HTML(string=rendered.html).write_pdf())
    return [*files, pdf]


def write_draft(settings: Settings, notice: Notice, regulator_id: str, output: Path) -> Draft:
    """Write the filing pack of one regulator into ``output``. Raises UsageError for an unknown
    regulator or an output that is not a folder."""
    regulator, rule = find_regulator(regulator_id)
    if output.exists() and not output.is_dir():
        raise UsageError(
            f"{output} is not a folder", hint="name a folder for the draft, e.g. --output ca-ag/"
        )
    output.mkdir(mode=0o700, parents=True, exist_ok=True)
    report = regulator_report(settings, notice.name)
    tz = report.deadlines.tz
    o = next((ob for r, ob in report.due if r.id == regulator.id), None)
    residents = rule.population(report.deadlines.counts)
    channels, first, last = _channels(settings, notice.name, rule, tz)
    draft = Draft(regulator, residents)
    if o is None:
        draft.notes.append(
            f"not required by the rules for the people counted: {residents} resident(s), threshold "
            f"{rule.min_count}" + (f", and [incident] {rule.requires} is not set" if rule.requires else "")
        )
    sample = "none asked for"
    if regulator.sample:
        segment = resolve("all", settings.segments)
        files = _sample(notice, settings, _scope(settings, notice.name, rule, segment), rule, output)
        draft.files += files
        sample = ", ".join(p.name for p in files) + " (placeholders, no one's data)"
    answers = _Answers(
        settings,
        regulator,
        rule,
        o,
        residents,
        total=report.deadlines.people,
        channels=channels,
        first=first,
        last=last,
        tz=tz,
        sample=sample,
    )
    form = load_forms()[regulator.form]
    fields = [(label, answers.answer(source)) for label, source in form.fields]
    draft.to_fill = sum(1 for _, v in fields if v.startswith(FILL))
    header = [
        form.title,
        f"For: {regulator.name} ({regulator.id}) — {residents} resident(s) affected",
        f"Source: {regulator.source}",
    ]
    if regulator.verify or rule.verify:
        header.append(f"VERIFY (a warning, not confirmed): {regulator.verify or rule.verify}")
    if form.note:
        header.append(form.note)
    header += draft.notes
    text = "\n".join(header) + "\n\n" + "".join(f"{label}:\n    {value}\n\n" for label, value in fields)
    with private_text(output / "fields.txt") as fh:
        fh.write(text)
    with private_text(output / "fields.json") as fh:
        json.dump(
            {
                "regulator": regulator.id,
                "name": regulator.name,
                "form": form.title,
                "residents": residents,
                "fields": [{"label": label, "value": v} for label, v in fields],
                "notes": draft.notes,
            },
            fh,
            indent=2,
        )
        fh.write("\n")
    draft.files = [output / "fields.txt", output / "fields.json", *draft.files]
    return draft
