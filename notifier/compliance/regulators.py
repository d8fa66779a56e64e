"""`notify regulators`: which regulators, attorneys general, HHS and credit bureaus must be told,
how many of their residents are affected, by when, and whether it is filed (issue 17).

Rules are data (``rules/regulators.toml``, versioned, a source beside each). Thresholds, clocks
and filings come from the deadline planner (compliance/deadlines.py): a regulator is the
planner's obligation of the same id, so `notify deadlines done ID` marks it filed here too.
Regulators that deadlines.toml lacks bring their own clock and threshold, which the planner
loads (:func:`deadline_items`).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any, TextIO

from notifier.compliance.deadlines import Obligation, Rule, load_rules
from notifier.compliance.deadlines_view import Deadlines, deadline_report
from notifier.errors import UsageError, did_you_mean
from notifier.lists.segments import Segment
from notifier.settings import Settings

__all__ = [
    "Form",
    "Regulator",
    "RegulatorReport",
    "deadline_items",
    "find_regulator",
    "load_forms",
    "load_regulators",
    "regulator_report",
    "regulators_version",
    "write_regulators",
]


@dataclass(frozen=True, slots=True)
class Regulator:
    id: str
    name: str
    kind: str  # "regulator" or "credit bureaus"
    form: str  # a [forms.NAME] of regulators.toml
    sample: bool  # wants a copy of the notice (rendered with placeholders)
    source: str
    verify: str = ""


@dataclass(frozen=True, slots=True)
class Form:
    title: str
    note: str
    fields: tuple[tuple[str, str], ...]  # (label, value source)


@functools.cache
def _data() -> dict[str, Any]:
    text = (resources.files("notifier.compliance") / "rules" / "regulators.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def regulators_version() -> str:
    return str(_data()["version"])


def _entries() -> list[dict[str, Any]]:
    """Every regulator of the file as one flat table, the compact lines expanded."""
    data = _data()
    out = [dict(item) for item in data.get("regulator", [])]
    states = data.get("states", {})
    for ag in states.get("attorneys_general", []):
        state = ag["region"].split("-")[1]
        out.append(
            {
                **ag,
                "name": f"Attorney General or state regulator ({state})",
                "form": "state-ag",
                "kind": "regulator",
                "regions": [ag["region"]],
            }
        )
    for group in states.get("credit_bureaus", []):
        for region in group["regions"]:
            state = region.split("-")[1]
            out.append(
                {
                    "id": f"CRA-{state}",
                    "name": f"Nationwide credit bureaus ({state} residents)",
                    "form": "credit-bureaus",
                    "kind": "credit bureaus",
                    "regions": [region],
                    "min_count": group["min_count"],
                    "clock": "first_send",
                    "duration": "asap",
                    "source": group["source"],
                    **({"verify": group["verify"]} if "verify" in group else {}),
                }
            )
    return out


def deadline_items() -> list[dict[str, Any]]:
    """The regulators that carry their own clock, in deadlines.toml's shape (for the planner)."""
    items = []
    for e in _entries():
        if "clock" not in e:
            continue
        items.append(
            {
                "id": e["id"],
                "regime": e.get("regime", e["name"]),
                "kind": e.get("kind", "regulator"),
                "what": f"Notify the {e['name']}",
                "clock": e["clock"],
                "duration": e["duration"],
                "countries": e.get("countries", []),
                "regions": e.get("regions", []),
                "min_count": e.get("min_count", 1),
                "source": e["source"],
                "requires": e.get("requires", ""),
                "verify": e.get("verify", ""),
            }
        )
    return items


@functools.cache
def load_regulators() -> dict[str, Regulator]:
    return {
        e["id"]: Regulator(
            id=e["id"],
            name=e["name"],
            kind=e.get("kind", "regulator"),
            form=e["form"],
            sample=bool(e.get("sample", False)),
            source=e["source"],
            verify=e.get("verify", ""),
        )
        for e in _entries()
    }


@functools.cache
def load_forms() -> dict[str, Form]:
    return {
        name: Form(f["title"], f.get("note", ""), tuple((str(a), str(b)) for a, b in f["fields"]))
        for name, f in _data()["forms"].items()
    }


def _regulator_of(rule: Rule) -> Regulator:
    """The regulator of a planner rule; a rule regulators.toml does not describe (NY-CRA, say)
    gets the common field set of its kind."""
    known = load_regulators().get(rule.id)
    if known is not None:
        return known
    form = "credit-bureaus" if rule.kind == "credit bureaus" else "state-ag"
    return Regulator(rule.id, rule.what, rule.kind, form, False, rule.source, rule.verify)


@dataclass(frozen=True, slots=True)
class RegulatorReport:
    deadlines: Deadlines
    due: list[tuple[Regulator, Obligation]]  # every regulator and credit-bureau obligation


def regulator_report(settings: Settings, notice: str, segment: Segment | None = None) -> RegulatorReport:
    """The planner's regulator and credit-bureau obligations, each with its regulator."""
    report = deadline_report(settings, notice, segment)
    due = [(_regulator_of(o.rule), o) for o in report.obligations if o.rule.kind != "individuals"]
    return RegulatorReport(report, due)


def find_regulator(regulator_id: str) -> tuple[Regulator, Rule]:
    """A regulator by id (any case), with its planner rule. Raises UsageError naming the close ones."""
    wanted = regulator_id.upper()
    rules = {r.id: r for r in load_rules() if r.kind != "individuals"}
    rule = rules.get(wanted)
    if rule is None:
        raise UsageError(
            f"no regulator called {regulator_id!r}",
            hint=did_you_mean(wanted, list(rules)) or "`notify regulators` lists the ones this campaign has",
        )
    return _regulator_of(rule), rule


def _as_dict(regulator: Regulator, o: Obligation, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": regulator.id,
        "name": regulator.name,
        "kind": regulator.kind,
        "residents": o.people,
        "due": o.due.isoformat() if o.due else None,
        "when": _when(o, o.due.tzinfo if o.due else dt.UTC),
        "status": o.status(now),
        "filed": ({"at": o.filed.at.isoformat(), "ref": o.filed.ref, "by": o.filed.by} if o.filed else None),
        "form": regulator.form,
        "sample_notice": regulator.sample,
        "source": regulator.source,
        "verify": regulator.verify or o.rule.verify,
    }


def _when(o: Obligation, tz: Any) -> str:
    if o.due is not None:
        return f"{o.due.astimezone(tz):%a %d %b %Y %H:%M %Z}"
    if o.rule.duration == "asap":
        return "without undue delay (no fixed deadline)"
    return "clock starts with the first notice sent" + (
        " (file BEFORE it)" if o.rule.duration == "0h" else ""
    )


def write_regulators(report: RegulatorReport, now: dt.datetime, out: TextIO, *, as_json: bool) -> None:
    """The list of `notify regulators`, as text or JSON."""
    tz = report.deadlines.tz
    if as_json:
        json.dump(
            {
                "rules_version": regulators_version(),
                "timezone": str(tz),
                "now": now.isoformat(),
                "counted": report.deadlines.basis,
                "people": report.deadlines.people,
                "regulators": [_as_dict(r, o, now) for r, o in report.due],
            },
            out,
            indent=2,
        )
        out.write("\n")
        return
    out.write(f"Regulators to tell (rules {regulators_version()}, times in {tz}) — earliest first\n")
    out.write(f"Counting {report.deadlines.people} people: {report.deadlines.basis}\n\n")
    if not report.due:
        out.write("None: no regulator's threshold is met by the people counted.\n")
        return
    for regulator, o in report.due:
        status = o.status(now)
        mark = "!!" if status.upper().startswith("OVERDUE") else "  "
        out.write(f"{mark} {status:<9} {regulator.id:<9} {regulator.name} — {o.people} resident(s)\n")
        out.write(f"   {'':<9} {'':<9} due: {_when(o, tz)}\n")
        if o.filed is not None:
            out.write(
                f"   {'':<9} {'':<9} filed {o.filed.at.astimezone(tz):%a %d %b %Y %H:%M %Z}"
                f"{f', ref {o.filed.ref}' if o.filed.ref else ''}\n"
            )
        verify = regulator.verify or o.rule.verify
        if verify:
            out.write(f"   {'':<9} {'':<9} VERIFY (a warning, not confirmed): {verify}\n")
        out.write(f"   {'':<9} {'':<9} draft: notify regulators draft {regulator.id} --output DIR\n")
    out.write(
        "\nMark each filing when it is made:  "
        'notify deadlines done ID --at 2026-12-01T10:00+01:00 --ref "THEIR-REFERENCE"\n'
    )
