"""A list import killed at any point (kill -9, between or inside batches, before the final
commit) and then run again leaves exactly what one clean import leaves: the same counts, the
same rejects, duplicates and warnings, the same members — on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from notifier.ledger import Ledger, SqliteLedger, open_ledger
from notifier.ledger.postgres import PgLedger
from notifier.pipeline import stages as pipeline
from notifier.settings import load

from .conftest import Campaign
from .test_ledger_backends import PG_URL, SKIP_PG

ROWS = 5000

# Runs `notify ARGS` in this process, killing it with SIGKILL once the import has taken
# AFTER rows from the list (all of them: just before the import's last commit). The list is
# read by a child process (notifier.lists.prefetch), which the kill leaves without a reader.
DRIVER = """
import os, signal, sys
from notifier.cli import app as cli
from notifier.lists import prefetch
from notifier.pipeline import stages as pipeline

after = int(sys.argv[1])
prefetch.PREFETCH_BYTES = 0  # the list is read by a child process, as a large list is
prefetch._core_free = lambda: True
real = pipeline.read_list_prefetched

def killing(*args, **kwargs):
    for n, row in enumerate(real(*args, **kwargs)):
        if n == after:
            os.kill(os.getpid(), signal.SIGKILL)
        yield row
    os.kill(os.getpid(), signal.SIGKILL)

pipeline.read_list_prefetched = killing
sys.argv = ["notify", *sys.argv[2:]]
cli.main()
"""


def messy_list() -> str:
    """5,000 rows: 1,000 repeats of earlier addresses (some adding exposed categories),
    invalid addresses, a malformed row every 500 and a bad country code every 300."""
    lines = ["id,email,first_name,country,exposed"]
    for i in range(ROWS):
        person = i if i < 4000 else (i * 7) % 4000
        exposed = "email" if i < 4000 else "email;password"
        country = "XX1" if i % 300 == 0 else "DE"
        if i % 500 == 7:
            lines.append(f"R{i},broken,row,with,too,many")
        elif i % 250 == 3:
            lines.append(f"R{i},not-an-address-{i},P{i},{country},{exposed}")
        else:
            lines.append(f"R{i},Person{person}@Example.com,P{i},{country},{exposed}")
    return "\n".join(lines) + "\n"


def stored(ledger: Ledger, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """What the ledger's database holds, read past notify (the SQLite file, or PostgreSQL)."""
    if isinstance(ledger, PgLedger):
        import psycopg

        with psycopg.connect(ledger.url, autocommit=True) as conn:
            return [tuple(r) for r in conn.execute(sql.replace("?", "%s"), params).fetchall()]
    db = sqlite3.connect(ledger.path)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def snapshot(ledger: Ledger, list_path: Path) -> dict[str, Any]:
    """What an import leaves behind, without ids (which differ between ledgers)."""
    (summary,) = pipeline.import_lists(ledger, [list_path])
    members = stored(
        ledger,
        "SELECT r.key, r.email, r.fields, r.source, r.line FROM list_members m "
        "JOIN recipients r ON r.id=m.recipient_id WHERE m.list_id=? ORDER BY r.key",
        (summary.list_id,),
    )
    issues = list(ledger.list_issues([summary.list_id], ["invalid", "malformed", "duplicate", "warning"]))
    return {
        "counts": (summary.rows, summary.valid, summary.invalid, summary.duplicates, summary.warnings),
        "members": [(k, e, json.loads(f), s, line) for k, e, f, s, line in members],
        "issues": sorted(issues, key=lambda i: (i["line"], i["kind"], i["reason"])),
        # No leftovers of the killed attempts: only this list's rows exist at all.
        "lists": stored(ledger, "SELECT count(*), sum(complete) FROM lists")[0],
        "all_members": stored(ledger, "SELECT count(*) FROM list_members")[0][0],
        "all_issues": stored(ledger, "SELECT count(*) FROM list_issues")[0][0],
    }


def kill_during_import(campaign: Campaign, after: int) -> None:
    driver = campaign.root / "kill_driver.py"
    driver.write_text(DRIVER, encoding="utf-8")
    args = ["send", "--segment", "all", "--transport", f"outbox:{campaign.root / 'outbox'}", "--yes"]
    proc = subprocess.run(
        [sys.executable, str(driver), str(after), "--config", str(campaign.config), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=campaign.root,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert not campaign.outbox(), "the kill came after the import"


@pytest.fixture
def clean(campaign: Campaign, tmp_path: Path) -> dict[str, Any]:
    """The reference: the same list imported once, without interruption, into a fresh ledger."""
    path = campaign.write_list(messy_list())
    ledger = SqliteLedger(tmp_path / "clean.sqlite")
    try:
        return snapshot(ledger, path)
    finally:
        ledger.close()


def resumed(campaign: Campaign) -> dict[str, Any]:
    settings = load(campaign.config)
    ledger = open_ledger(settings)
    try:
        return snapshot(ledger, settings.list_files[0])
    finally:
        ledger.close()


@pytest.fixture
def pg_campaign(campaign: Campaign) -> Iterator[Campaign]:
    if not PG_URL:
        pytest.skip(SKIP_PG)
    import psycopg

    name = f"notify_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        url = PG_URL.rsplit("/", 1)[0] + "/" + name
        campaign.edit_config('path = "ledger.sqlite"', f'url = "{url}"')
        yield campaign
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_the_reference_list_exercises_every_kind_of_row(clean: dict[str, Any]) -> None:
    """The list used below has usable rows, rejects, merged duplicates and warnings."""
    rows, valid, invalid, dupes, warnings = clean["counts"]
    assert rows == ROWS and valid + invalid + dupes == ROWS
    assert min(valid, invalid, dupes, warnings) > 0


@pytest.mark.slow
@pytest.mark.parametrize("after", [0, 1999, 2000, 2500, ROWS])
def test_a_kill_at_any_point_then_a_rerun_equals_a_clean_import(
    campaign: Campaign, clean: dict[str, Any], after: int
) -> None:
    """kill -9 after AFTER rows of the import; the next import gives the clean import's result."""
    kill_during_import(campaign, after)
    assert resumed(campaign) == clean


@pytest.mark.slow
def test_repeated_kills_then_a_rerun_equal_a_clean_import(campaign: Campaign, clean: dict[str, Any]) -> None:
    """Several imports killed one after the other at different points leave no trace either."""
    for after in (2100, 4500, 10, ROWS):
        kill_during_import(campaign, after)
    assert resumed(campaign) == clean
    status = json.loads(campaign.notify("status", "--json").out)
    (listed,) = status["lists"]
    assert (listed["rows"], listed["valid"], listed["invalid"], listed["duplicates"]) == clean["counts"][:4]


@pytest.mark.slow
@pytest.mark.parametrize("after", [2500, ROWS])
def test_a_kill_on_postgresql_then_a_rerun_equals_a_clean_import(
    pg_campaign: Campaign, clean: dict[str, Any], after: int
) -> None:
    """The same on the PostgreSQL ledger: the rerun's result equals a clean import's."""
    kill_during_import(pg_campaign, after)
    kill_during_import(pg_campaign, 700)
    assert resumed(pg_campaign) == clean
