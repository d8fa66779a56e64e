"""The ledger on both backends: the embedded SQLite file and a real PostgreSQL server on
127.0.0.1 (Debian's postgresql, started by .ci/run), through the same `notify` commands; then
what only PostgreSQL allows: several senders on one campaign, a sender killed mid-run, one
rate for all, one scheduler.

PostgreSQL tests need NOTIFY_TEST_PG_URL (a role that may create databases, e.g.
postgresql://notify@127.0.0.1/postgres with PGPASSWORD set); without it they skip and say so."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import threading
import time
import tokenize
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from notifier.ledger import open_ledger
from notifier.settings import load

from .conftest import Campaign
from .smtpsink import Fault, Sink

PG_URL = os.environ.get("NOTIFY_TEST_PG_URL", "")
SKIP_PG = (
    "PostgreSQL tests skipped: set NOTIFY_TEST_PG_URL=postgresql://USER@127.0.0.1/postgres "
    "(a role that may create databases; .ci/run starts Debian's postgresql and sets it)"
)


@pytest.fixture
def pg_database() -> Iterator[str]:
    if not PG_URL:
        pytest.skip(SKIP_PG)
    import psycopg

    name = f"notify_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield PG_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        _drop_database(name)


def _drop_database(name: str) -> None:
    """Drop a test database. PostgreSQL refuses FORCE for a moment while one of its own
    (superuser) background workers, such as autovacuum, is connected to it: wait and retry."""
    import psycopg

    for attempt in range(20):
        try:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            return
        except psycopg.errors.InsufficientPrivilege:
            if attempt == 19:
                raise
            time.sleep(0.5)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, campaign: Campaign) -> Campaign:
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_database")
        campaign.edit_config('path = "ledger.sqlite"', f'url = "{url}"\nlease = "2s"')
    return campaign


def query(campaign: Campaign, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """What the database itself holds, read past notify (the ledger has no ad-hoc SQL)."""
    settings = load(campaign.config)
    if settings.ledger_url:
        import psycopg

        with psycopg.connect(settings.ledger_url, autocommit=True) as conn:
            cur = conn.execute(sql.replace("?", "%s"), params)
            return [tuple(r) for r in cur.fetchall()] if cur.description else []
    db = sqlite3.connect(settings.ledger_path)
    try:
        with db:
            return db.execute(sql, params).fetchall()
    finally:
        db.close()


def states(campaign: Campaign) -> dict[str, str]:
    rows = query(
        campaign,
        "SELECT r.email, m.state FROM messages m JOIN recipients r ON r.id=m.recipient_id "
        "WHERE m.notice='breach-notice'",
    )
    return {e: s for e, s in rows}


# ---- the same behaviour on both backends ---------------------------------------------------


def test_each_recipient_is_sent_once_and_a_rerun_sends_nothing(backend: Campaign, sink: Sink) -> None:
    first = backend.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    assert first.code == 0, first.err
    assert sink.by_recipient() == {"ana@example.com": 1, "ben@example.org": 1, "chloe@example.net": 1}
    again = backend.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    assert "Nothing to send" in again.out and len(sink.received) == 3
    status = json.loads(backend.notify("status", "--json").out)
    assert status["notices"][0]["counts"] == {"sent": 3}


def test_temporary_failures_are_retried_and_hard_ones_suppress(backend: Campaign, sink: Sink) -> None:
    sink.fault("ana@example.com", Fault("rcpt", "451 4.3.0 try later"))
    sink.fault("ben@example.org", Fault("rcpt", "550 5.1.1 no such user"))
    backend.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    assert states(backend) == {
        "ana@example.com": "sent",
        "ben@example.org": "failed",
        "chloe@example.net": "sent",
    }
    attempts = dict(
        query(
            backend,
            "SELECT r.email, m.attempts FROM messages m JOIN recipients r ON r.id=m.recipient_id",
        )
    )
    assert attempts["ana@example.com"] == 2
    assert query(backend, "SELECT key, reason FROM suppressions") == [("ben@example.org", "user_unknown")]


def test_a_killed_run_is_recovered_and_flagged(backend: Campaign, sink: Sink) -> None:
    backend.notify("lists", "check")
    backend.notify("send", "--segment", "affected", "--transport", sink.url, "--yes", "--limit", "1")
    # A run that died holding a claim (SQLite: no live run; PostgreSQL: its lease ran out).
    query(
        backend,
        "UPDATE messages SET state='sending' WHERE id=(SELECT max(id) FROM messages WHERE state='pending')",
    )
    if load(backend.config).ledger_url:
        query(backend, "UPDATE messages SET lease_until=1 WHERE state='sending'")
    result = backend.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    assert "possibly duplicated" in result.out or "possibly duplicated" in backend.notify("status").out
    assert set(states(backend).values()) == {"sent"}
    assert query(backend, "SELECT count(*) FROM messages WHERE possibly_duplicated=1") == [(1,)]


def test_bounces_unsubscribes_schedules_and_the_audit_trail_work_on_both(
    backend: Campaign, sink: Sink
) -> None:
    backend.fill_follow_up_facts()  # a follow-up is scheduled only when it is ready to send
    backend.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    backend.notify("schedule", "--notice", "what-we-changed", "--after", "7d", "--window", "09:00-17:00")
    listed = backend.notify("schedule", "list", "--json")
    assert [s["state"] for s in json.loads(listed.out)] == ["waiting"]
    backend.notify("suppress", "add", "dan@example.com")
    verified = backend.notify("audit", "verify")
    assert verified.code == 0, verified.out + verified.err
    actions = [a for (a,) in query(backend, "SELECT action FROM audit ORDER BY seq")]
    assert actions == [
        "ledger.create",
        "list.import",
        "send.start",
        "check.report",
        "send.stop",
        "schedule.create",
        "suppress.add",
    ]


# ---- several senders (PostgreSQL) -------------------------------------------------------------


def big_list(campaign: Campaign, n: int) -> None:
    rows = ["id,email,first_name,last_name,country,region,exposed"]
    rows += [f"P{i},person{i}@example.com,P{i},Test,FR,,email" for i in range(n)]
    campaign.write_list("\n".join(rows) + "\n")


def senders(campaign: Campaign, n: int, *extra: str) -> list[subprocess.Popen[str]]:
    return [campaign.spawn("send", "--segment", "all", "--yes", *extra) for _ in range(n)]


def finish(procs: list[subprocess.Popen[str]], timeout: float = 120) -> list[tuple[int, str, str]]:
    out = []
    for p in procs:
        try:
            stdout, stderr = p.communicate(timeout=timeout)
        finally:
            if p.poll() is None:
                p.kill()
                p.communicate()
        out.append((p.returncode, stdout, stderr))
    return out


@pytest.fixture
def shared(campaign: Campaign, pg_database: str, sink: Sink) -> Campaign:
    campaign.edit_config('path = "ledger.sqlite"', f'url = "{pg_database}"\nlease = "2s"')
    campaign.edit_config('url = "outbox:outbox"', f'url = "{sink.url}"')
    # One import before the senders start, so each of them finds the list in the ledger.
    assert campaign.notify("lists", "check").code == 0
    return campaign


def test_three_senders_share_one_campaign_and_everyone_gets_exactly_one(shared: Campaign, sink: Sink) -> None:
    big_list(shared, 3000)
    shared.edit_config('rate = "2000/s"', 'rate = "3000/s"')
    results = finish(senders(shared, 3))
    assert all(code == 0 for code, _, _ in results), [err for _, _, err in results]
    counts = sink.by_recipient()
    assert len(counts) == 3000 and set(counts.values()) == {1}
    sent_by = [int(out.split("Run ")[1].split(":")[1].split()[0]) for _, out, _ in results if "Run " in out]
    assert sum(sent_by) == 3000 and all(n > 0 for n in sent_by)  # the work was shared
    assert query(shared, "SELECT state, count(*) FROM messages GROUP BY state") == [("sent", 3000)]


def test_a_sender_killed_mid_run_is_finished_by_the_others(shared: Campaign, sink: Sink) -> None:
    big_list(shared, 3000)
    shared.edit_config('rate = "2000/s"', 'rate = "300/s"')
    procs = senders(shared, 3)
    deadline = time.monotonic() + 30
    while len(sink.received) < 300 and time.monotonic() < deadline:
        time.sleep(0.05)
    procs[0].send_signal(signal.SIGKILL)
    results = finish(procs)
    assert all(code == 0 for code, _, _ in results[1:]), [err for _, _, err in results[1:]]
    counts = sink.by_recipient()
    assert len(counts) == 3000  # nobody forgotten
    duplicates = sum(n - 1 for n in counts.values())
    flagged = query(shared, "SELECT count(*) FROM messages WHERE possibly_duplicated=1")[0][0]
    print(f"killed sender: {duplicates} duplicates, {flagged} flagged possibly duplicated")
    assert duplicates <= flagged <= 64  # only the dead sender's in-flight window
    assert query(shared, "SELECT count(*) FROM messages WHERE state != 'sent'") == [(0,)]
    status = shared.notify("status").out
    assert "possibly duplicated" in status or flagged == 0


def test_the_campaign_rate_holds_across_all_senders(shared: Campaign, sink: Sink) -> None:
    """150/s for the campaign, three senders: about 50/s each, 150/s at the sink (within 5%)."""
    big_list(shared, 3600)
    shared.edit_config('rate = "2000/s"', 'rate = "150/s"')
    procs = senders(shared, 3)
    try:
        deadline = time.monotonic() + 40
        while len(sink.received) < 300 and time.monotonic() < deadline:
            time.sleep(0.05)
        start_n, start_t = len(sink.received), time.monotonic()
        live = json.loads(shared.notify("status", "--json").out)["senders"]
        assert len(live) == 3 and all(x["alive"] and x["pid"] and x["host"] for x in live)
        assert "Senders:" in shared.notify("status").out
        time.sleep(20 - (time.monotonic() - start_t))
        got = len(sink.received) - start_n
        elapsed = time.monotonic() - start_t
    finally:
        for p in procs:
            p.send_signal(signal.SIGINT)
        finish(procs)
    rate = got / elapsed
    print(f"campaign rate across three senders: {rate:.1f} msg/s over {elapsed:.1f} s")
    assert 150 * 0.95 <= rate <= 150 * 1.05, f"{rate:.1f} msg/s"


def _workers(campaign: Campaign, n: int) -> list[tuple[subprocess.Popen[str], list[str]]]:
    """Worker processes, each with a list that collects its output lines as they come."""
    out = []
    for _ in range(n):
        proc = campaign.spawn("worker", "--interval", "0.3", stderr=subprocess.DEVNULL)
        lines: list[str] = []
        assert proc.stdout is not None
        threading.Thread(target=lambda f=proc.stdout, keep=lines: keep.extend(f), daemon=True).start()
        out.append((proc, lines))
    return out


def test_one_worker_leads_and_another_takes_over_when_it_dies(shared: Campaign, sink: Sink) -> None:
    shared.fill_follow_up_facts()
    assert shared.notify("send", "--segment", "affected", "--yes").code == 0
    shared.notify("schedule", "--notice", "what-we-changed", "--after", "0s")
    workers = _workers(shared, 2)
    try:
        sink.wait_for(6, timeout=30)
        time.sleep(1.0)  # both workers have looked at the schedules by now
        assert len(sink.received) == 6  # sent once, not once per worker
        assert query(shared, "SELECT state FROM schedules") == [("done",)]
        leader = next(i for i, (_, lines) in enumerate(workers) if any("sending" in ln for ln in lines))
        standby = 1 - leader
        assert any("standing by" in ln for ln in workers[standby][1])
        workers[leader][0].kill()  # kill -9: its session ends, and with it the leader lock
        workers[leader][0].wait()
        shared.notify("schedule", "--notice", "investigation-complete", "--after", "0s")
        sink.wait_for(9, timeout=30)
        assert len(sink.received) == 9
        deadline = time.monotonic() + 5  # its output reaches us through a pipe and a thread
        while not any("Now leading" in ln for ln in workers[standby][1]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any("Now leading" in ln for ln in workers[standby][1])
    finally:
        for proc, _ in workers:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            if proc.stdout:
                proc.stdout.close()


def test_the_ledger_url_is_checked_and_never_holds_a_password(campaign: Campaign) -> None:
    campaign.edit_config('path = "ledger.sqlite"', 'url = "postgresql://notify:hunter2@db.internal/breach"')
    result = campaign.notify("status")
    assert result.code == 2 and "must not contain a password" in result.err and "hunter2" not in result.err
    campaign.edit_config(
        'url = "postgresql://notify:hunter2@db.internal/breach"', 'url = "mysql://db.internal/breach"'
    )
    assert "neither sqlite:PATH nor postgresql://" in campaign.notify("status").err
    # --ledger overrides the file: sqlite:PATH names another file.
    campaign.edit_config('url = "mysql://db.internal/breach"', 'path = "ledger.sqlite"')
    ok = campaign.notify("--ledger", "sqlite:other.sqlite", "status")
    assert ok.code == 0 and "other.sqlite" in ok.out


def test_duplicates_in_a_list_merge_with_every_exposed_category(backend: Campaign, sink: Sink) -> None:
    backend.write_list(
        "id,email,first_name,last_name,country,region,exposed\n"
        "R1,ana@example.com,Ana,Lopez,ES,,email\n"
        "R2,Ana@Example.com,Ana,Lopez,ES,,email;password_hash\n"
        "R3,ben@example.org,Ben,Okafor,US,US-CA,email\n"
    )
    backend.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    assert sink.by_recipient() == {"ana@example.com": 1, "ben@example.org": 1}
    fields = query(backend, "SELECT fields FROM recipients WHERE key='ana@example.com'")[0][0]
    assert json.loads(fields)["exposed"] == ["email", "password_hash"]
    status = json.loads(backend.notify("status", "--json").out)
    assert status["lists"][0]["duplicates"] == 1


# ---- the ledger's interface (issue 13) --------------------------------------------------------


def test_both_backends_name_the_same_statements_in_their_own_dialect() -> None:
    """Every named statement exists for SQLite and for PostgreSQL, and the PostgreSQL ones are
    written for PostgreSQL (%s parameters, arrays), not SQLite text to be rewritten."""
    from notifier.ledger import postgres, statements_postgres, statements_sqlite

    assert set(statements_sqlite.SQL) == set(statements_postgres.SQL)
    for name, text in statements_postgres.SQL.items():
        assert "?" not in text and "json_each" not in text and "instr(" not in text, name
    # Nor anywhere else PostgreSQL's SQL is written: no SQLite text rewritten on its way to the server.
    assert not hasattr(postgres, "translate")
    strings = []
    for module in (postgres, statements_postgres):
        with open(module.__file__ or "", encoding="utf-8") as source:
            tokens = tokenize.generate_tokens(source.readline)
            strings += [t.string for t in tokens if t.type == tokenize.STRING]
    sql = [s for s in strings if re.search(r"\b(SELECT|INSERT|UPDATE|DELETE|VALUES|WHERE)\b", s)]
    assert len(sql) > 20 and [s for s in sql if "?" in s or "OR IGNORE" in s] == []


def test_the_named_reads_answer_alike_on_both_backends(backend: Campaign, sink: Sink) -> None:
    """Status, report rows, outcomes, runs, lists and the bounce-matching reads give the same
    answers from SQLite and PostgreSQL."""
    sink.fault("ben@example.org", Fault("rcpt", "550 5.1.1 no such user"))
    assert backend.notify("send", "--segment", "affected", "--transport", sink.url, "--yes").code == 1
    ledger = open_ledger(load(backend.config))
    try:
        st = ledger.notice_status("breach-notice")
        assert st.counts == {"sent": 2, "failed": 1} and st.reasons == {"user_unknown": 1}
        assert [(code, n) for code, n, _ in st.errors] == [(550, 1)]
        rows = list(ledger.report_rows(states=["failed"], notice="breach-notice"))
        assert [(r.email, r.fields["country"], r.last_code) for r in rows] == [("ben@example.org", "US", 550)]
        assert len(list(ledger.report_rows())) == 3
        assert list(ledger.report_rows(possibly_duplicated=True)) == []
        outcomes = {o.domain: o.state for o in ledger.outcome_rows("breach-notice")}
        assert outcomes == {"example.com": "sent", "example.org": "failed", "example.net": "sent"}
        assert ledger.recent_runs()[0].status and ledger.recent_lists()[0].valid == 4
        ana = next(r for r in ledger.report_rows(notice="breach-notice") if r.email == "ana@example.com")
        assert ledger.recipient_key_of(ana.message) == "ana@example.com"
        assert ledger.message_by_message_id(ana.message_id, "ana@example.com") == ana.message
        assert ledger.message_by_message_id(ana.message_id, "ben@example.org") is None
        assert ledger.was_sent_to("ana@example.com") and not ledger.was_sent_to("ben@example.org")
        assert not ledger.event_seen(["d1", "d2"])
        # The audience reads and the filings, by dedupe key (one list parameter on both).
        keys = ["ana@example.com", "ben@example.org", "nobody@example.com"]
        assert ledger.states_for("breach-notice", keys) == {
            "ana@example.com": "sent",
            "ben@example.org": "failed",
        }
        assert ledger.suppressed(keys) == {"ben@example.org": "user_unknown"}
        assert set(ledger.accepted_at("breach-notice", keys)) == {"ana@example.com"}
        assert ledger.unsubscribe(ana.message, via="test") is True and ledger.unsubscribed(keys) == {
            "ana@example.com"
        }
        assert ledger.complained(keys) == set()
        ledger.mark_filed("gdpr-33", 1000.0, "REF-1")
        ledger.mark_filed("gdpr-33", 2000.0, "REF-2")  # a later mark replaces it
        assert {rule: (at, ref) for rule, (at, ref, _) in ledger.filings().items()} == {
            "gdpr-33": (2000.0, "REF-2")
        }
    finally:
        ledger.close()


def test_a_database_error_is_a_ledger_error_never_a_driver_traceback(backend: Campaign, sink: Sink) -> None:
    """A column renamed from under notify: `notify status` names the ledger and what failed, exits
    nonzero without a traceback, and the error is the project's LedgerError on both backends."""
    from notifier.errors import LedgerError

    backend.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    query(backend, "ALTER TABLE runs RENAME COLUMN summary TO summary_old")
    result = backend.notify("status")
    assert result.code in (1, 2) and "Traceback" not in result.err
    assert "ledger" in result.err and "summary" in result.err
    ledger = open_ledger(load(backend.config))
    try:
        with pytest.raises(LedgerError):
            ledger.recent_runs()
    finally:
        ledger.close()


# What only a shared ledger has (claims with a lease, live senders); the rest is the same schema.
PG_ONLY_TABLES = {"senders"}
PG_ONLY_COLUMNS = {("messages", "claimed_by"), ("messages", "lease_until")}
PG_ONLY_INDEXES = {"messages_lease", "messages_claims", "messages_pending"}
PG_TYPE = {"INTEGER": "bigint", "REAL": "double precision", "TEXT": "text"}


def _sqlite_schema(path: Path) -> tuple[set[tuple[str, str, str]], set[str], set[tuple[str, str]]]:
    db = sqlite3.connect(path)
    try:
        tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        columns = {
            (t, name, PG_TYPE[kind])
            for t in tables
            for _, name, kind, *_ in db.execute(f"PRAGMA table_info({t})")
        }
        indexes = {
            n
            for (n,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type='index' AND name NOT LIKE 'sqlite_autoindex_%'"
            )
        }
        triggers = set(db.execute("SELECT tbl_name, name FROM sqlite_master WHERE type='trigger'").fetchall())
        return columns, indexes, triggers
    finally:
        db.close()


def _pg_schema(url: str) -> tuple[set[tuple[str, str, str]], set[str], set[tuple[str, str]]]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        columns = {
            (t, c, k)
            for t, c, k in conn.execute(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'public'"
            )
        }
        indexes = {  # the indexes the DDL names, not those behind a key or UNIQUE constraint
            n
            for (n,) in conn.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
            )
        }
        triggers = {
            (str(t), n)
            for t, n in conn.execute(
                "SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal"
            )
        }
    return columns, indexes, triggers


def test_both_backends_make_the_same_tables_columns_indexes_and_triggers(
    tmp_path: Path, pg_database: str
) -> None:
    """Read back from a live SQLite file and a live PostgreSQL database, the two hand-written
    schemas have the same tables, columns (of the same kind), indexes and triggers, apart from
    what only several senders need; PostgreSQL's triggers refuse to change the audit log too."""
    import psycopg

    from notifier.ledger.postgres import PgLedger
    from notifier.ledger.sqlite import SqliteLedger

    SqliteLedger(tmp_path / "ledger.sqlite").close()
    PgLedger(pg_database).close()
    lite_columns, lite_indexes, lite_triggers = _sqlite_schema(tmp_path / "ledger.sqlite")
    pg_columns, pg_indexes, pg_triggers = _pg_schema(pg_database)
    assert {t for t, _, _ in lite_columns} >= {"messages", "audit", "schedules", "filings"}
    pg_shared = {c for c in pg_columns if c[0] not in PG_ONLY_TABLES and c[:2] not in PG_ONLY_COLUMNS}
    assert pg_shared == lite_columns
    assert {c[:2] for c in pg_columns} >= PG_ONLY_COLUMNS and {c[0] for c in pg_columns} >= PG_ONLY_TABLES
    assert pg_indexes - PG_ONLY_INDEXES == lite_indexes
    assert pg_triggers == lite_triggers == {("audit", "audit_no_update"), ("audit", "audit_no_delete")}
    with psycopg.connect(pg_database, autocommit=True) as conn:
        for statement in ("UPDATE audit SET action = 'x'", "DELETE FROM audit"):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute(statement)
