"""The render check before a send: one render per group of recipients that cannot differ in the
outcome, and still every recipient whose notice would not render is named by their list row."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from notifier.errors import RenderError
from notifier.models import Recipient
from notifier.pipeline.stages import check_renders
from notifier.render.notice import Notice, load_notice

FACTS: dict[str, Any] = {
    "org": {"name": "Ex"},
    "incident": {"reference": "R1", "discovered": dt.datetime(2026, 11, 2, tzinfo=dt.UTC)},
    "contact": {"email": "c@ex.example"},
    "categories": {},
}


def notice(tmp_path: Path, body: str, *, subject: str = "About your account") -> Notice:
    folder = tmp_path / "templates" / "n"
    folder.mkdir(parents=True)
    (folder / "subject.txt").write_text(subject, encoding="utf-8")
    (folder / "body.txt").write_text(body, encoding="utf-8")
    (folder / "body.html").write_text(f"<p>{body}</p>", encoding="utf-8")
    return load_notice(tmp_path / "templates", "n", FACTS)


def people(n: int, **fields: Any) -> list[Recipient]:
    out = []
    for i in range(n):
        f = {"first_name": f"Person{i}", "exposed": ["email"], **{k: v(i) for k, v in fields.items()}}
        f = {k: v for k, v in f.items() if v is not None}
        out.append(Recipient(f"p{i}@example.com", f"p{i}@example.com", "list.csv", i + 2, f))
    return out


def renders(monkeypatch: pytest.MonkeyPatch, n: Notice) -> list[int]:
    calls: list[int] = []
    real = n.check

    def counted(view: Any, extra: Any = None) -> Any:
        calls.append(1)
        return real(view, extra)

    monkeypatch.setattr(n, "check", counted)
    return calls


def test_people_who_differ_only_in_printed_values_are_rendered_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A thousand people whose names differ are one group: one render checks them all."""
    n = notice(
        tmp_path,
        "Dear {{ recipient.first_name }},\n{% for c in recipient.exposed %}{{ c|category }}\n{% endfor %}",
    )
    calls = renders(monkeypatch, n)
    assert check_renders(n, people(1000)) == 1000
    assert len(calls) == 1


def test_a_value_missing_for_one_person_names_their_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one person of a thousand without a first name stops the run, and their list row is named."""
    n = notice(tmp_path, "Dear {{ recipient.first_name }},")
    calls = renders(monkeypatch, n)
    targets = people(1000, first_name=lambda i: None if i == 637 else f"P{i}")
    with pytest.raises(RenderError) as caught:
        check_renders(n, targets)
    assert "1 of 1000 recipients" in str(caught.value)
    (failure,) = caught.value.failures
    assert "recipient.first_name is missing" in failure
    assert failure.endswith("e.g. list rows list.csv:639")
    assert len(calls) == 2


def test_an_unknown_data_category_is_found_in_every_group_that_has_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Codes matter by value: the people listing a code with no label are all counted and named."""
    n = notice(tmp_path, "{% for c in recipient.exposed %}{{ c|category }}\n{% endfor %}")
    targets = people(300, exposed=lambda i: ["email", "shoe_size"] if i % 100 == 5 else ["email"])
    with pytest.raises(RenderError) as caught:
        check_renders(n, targets)
    assert "3 of 300 recipients" in str(caught.value)


def test_a_value_compared_in_the_template_is_rendered_per_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A branch on a value can fail for one value only: each distinct value is rendered."""
    body = "{% if recipient.plan == 'gold' %}{{ recipient.gold_code }}{% endif %}"
    n = notice(tmp_path, body)
    calls = renders(monkeypatch, n)
    targets = people(90, plan=lambda i: ["gold", "silver", "bronze"][i % 3], gold_code=lambda i: None)
    with pytest.raises(RenderError) as caught:
        check_renders(n, targets)
    assert "30 of 90 recipients" in str(caught.value)
    assert len(calls) == 3


def test_a_template_that_includes_another_file_is_rendered_for_everyone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What an included file does cannot be read from this one: nobody is grouped, all are rendered."""
    n = notice(tmp_path, "{% include 'n/part.txt' %}")
    (tmp_path / "templates" / "n" / "part.txt").write_text("{{ recipient.first_name }}", encoding="utf-8")
    calls = renders(monkeypatch, n)
    assert check_renders(n, people(40)) == 40
    assert len(calls) == 40
