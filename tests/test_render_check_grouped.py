"""The send's render check groups the targets in the ledger (SQL) and renders one person a group;
a person whose notice would not render still stops the run, named by their list row, on SQLite
and on PostgreSQL alike."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from notifier.errors import RenderError
from notifier.ledger import SqliteLedger
from notifier.ledger.postgres import PgLedger
from notifier.lists.segments import resolve
from notifier.pipeline import stages
from notifier.render.notice import Notice, load_notice

from .test_ledger_backends import pg_database

pg_db = pg_database

FACTS: dict[str, Any] = {
    "org": {"name": "Ex"},
    "incident": {"reference": "R1", "discovered": dt.datetime(2026, 11, 2, tzinfo=dt.UTC)},
    "contact": {"email": "c@ex.example"},
    "categories": {},
}
BODY = "Dear {{ recipient.first_name }}, {% for c in recipient.exposed %}{{ c }} {% endfor %}"


def notice(tmp_path: Path, body: str = BODY) -> Notice:
    folder = tmp_path / "templates" / "n"
    folder.mkdir(parents=True)
    (folder / "subject.txt").write_text("About your account", encoding="utf-8")
    (folder / "body.txt").write_text(body, encoding="utf-8")
    (folder / "body.html").write_text(f"<p>{body}</p>", encoding="utf-8")
    return load_notice(tmp_path / "templates", "n", FACTS)


def planned(ledger: SqliteLedger, tmp_path: Path, rows: list[str]) -> SqliteLedger:
    path = tmp_path / "list.csv"
    path.write_text("email,first_name,exposed\n" + "".join(f"{r}\n" for r in rows), encoding="utf-8")
    imports = stages.import_lists(ledger, [path])
    stages.plan(ledger, "n", imports, resolve("all", {}), resend=False)
    return ledger


def people(n: int, *, nameless: set[int] = frozenset()) -> list[str]:  # type: ignore[assignment]
    cats = ["email", "email;password", ""]
    return [f"p{i}@example.com,{'' if i in nameless else f'Person{i}'},{cats[i % 3]}" for i in range(n)]


def renders(monkeypatch: pytest.MonkeyPatch, n: Notice) -> list[int]:
    calls: list[int] = []
    real = n.check

    def counted(view: Any, extra: Any = None) -> Any:
        calls.append(1)
        return real(view, extra)

    monkeypatch.setattr(n, "check", counted)
    return calls


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqliteLedger]:
    if request.param == "sqlite":
        led: SqliteLedger = SqliteLedger(tmp_path / "ledger.sqlite")
    else:
        led = PgLedger(request.getfixturevalue("pg_db"))
    try:
        yield led
    finally:
        led.close()


def test_a_clean_list_is_checked_one_render_a_group_without_reading_the_people(
    tmp_path: Path, ledger: SqliteLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """900 people in three kinds of exposed data: three renders, and no target read one by one."""
    n = notice(tmp_path)
    calls = renders(monkeypatch, n)
    planned(ledger, tmp_path, people(900))
    monkeypatch.setattr(ledger, "target_recipients", lambda: pytest.fail("read every target"))
    assert stages.check_targets(n, ledger) == 900
    assert len(calls) == 3


def test_a_person_missing_a_printed_value_still_stops_the_run_naming_their_row(
    tmp_path: Path, ledger: SqliteLedger
) -> None:
    """Two people of 600 have no first name the notice prints: the run stops naming both rows."""
    planned(ledger, tmp_path, people(600, nameless={123, 456}))
    with pytest.raises(RenderError) as raised:
        stages.check_targets(notice(tmp_path), ledger)
    text = str(raised.value)
    assert "2 of 600" in text
    assert "list.csv:125" in text and "list.csv:458" in text


def test_a_value_the_notice_compares_is_grouped_by_value_not_presence(
    tmp_path: Path, ledger: SqliteLedger
) -> None:
    """A template that fails for one name only: that person's row is named, not their group's."""
    body = "{% if recipient.first_name == 'Person7' %}{{ recipient.nope }}{% endif %}Hello"
    planned(ledger, tmp_path, people(50))
    with pytest.raises(RenderError) as raised:
        stages.check_targets(notice(tmp_path, body), ledger)
    text = str(raised.value)
    assert "1 of 50" in text and "list.csv:9" in text


def test_the_names_left_out_of_the_groups_are_the_ones_every_template_view_holds_alike() -> None:
    """The ledger-state names a render check sees empty are exactly what segment_view adds."""
    from notifier.models import Recipient
    from notifier.pipeline.render_groups import _ALIKE

    view = Recipient("a@example.com", "a@example.com", "l.csv", 2, {}).template_view()
    assert set(view) - {"email", "exposed"} == _ALIKE
