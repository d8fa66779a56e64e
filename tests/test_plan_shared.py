"""Planning at scale: each person once however many lists hold them, everyone chosen in SQL alike,
and the senders of a PostgreSQL ledger choosing once between them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from notifier.ledger import SqliteLedger
from notifier.ledger.postgres import PgLedger
from notifier.lists.segments import compile_segment, resolve
from notifier.pipeline import stages

from .test_ledger_backends import pg_database

pg_db = pg_database


def lists(tmp_path: Path) -> list[Path]:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("email,country\n" + "".join(f"p{i}@example.com,DE\n" for i in range(300)), encoding="utf-8")
    b.write_text(
        "email,country\n" + "".join(f"p{i}@example.com,FR\n" for i in range(200, 500)), encoding="utf-8"
    )
    return [a, b]


def targets(ledger: SqliteLedger) -> list[str]:
    return sorted(c.recipient.email for c in ledger.targets_to_send(0.0))


def test_someone_in_two_lists_is_planned_once(tmp_path: Path) -> None:
    """100 people in both lists: 500 targets, not 600, chosen by a segment as by everyone."""
    ledger = SqliteLedger(tmp_path / "l.sqlite")
    imports = stages.import_lists(ledger, lists(tmp_path))
    by_segment = stages.plan(
        ledger, "n", imports, compile_segment("s", "recipient.email != ''"), resend=False
    )
    assert by_segment.targets == 500 and len(targets(ledger)) == 500
    everyone = stages.plan(ledger, "n", imports, resolve("all", {}), resend=False)
    assert everyone.by_state == by_segment.by_state
    ledger.close()


def test_the_later_list_decides_who_a_segment_takes(tmp_path: Path) -> None:
    """The 100 in both lists are French now (the later list wins): a segment of Germans has 200."""
    ledger = SqliteLedger(tmp_path / "l.sqlite")
    imports = stages.import_lists(ledger, lists(tmp_path))
    summary = stages.plan(
        ledger, "n", imports, compile_segment("de", "recipient.country == 'DE'"), resend=False
    )
    assert summary.targets == 200
    assert targets(ledger)[0] == "p0@example.com" and "p250@example.com" not in targets(ledger)
    ledger.close()


def test_a_second_postgresql_sender_takes_the_first_senders_plan(tmp_path: Path, pg_db: str) -> None:
    """The first sender runs the segment over the lists; the second gets the same targets without
    running it over anyone, and the import is not repeated either."""
    files = lists(tmp_path)
    first, second = PgLedger(pg_db), PgLedger(pg_db)
    seen: list[Any] = []
    segment = compile_segment("de", "recipient.country == 'DE'")

    def counted(**kw: Any) -> bool:
        seen.append(1)
        return bool(segment.test(**kw))

    spy = type(segment)(segment.name, segment.expression, counted)
    try:
        imports = stages.import_lists(first, files)
        planned = stages.plan(first, "n", imports, spy, resend=False)
        ran = len(seen)
        again = stages.import_lists(second, files)
        assert all(i.reused for i in again)
        taken = stages.plan(second, "n", again, spy, resend=False)
        assert len(seen) == ran == 500
        assert taken.by_state == planned.by_state == {"pending": 200}
        assert targets(second) == targets(first)
    finally:
        first.close()
        second.close()
