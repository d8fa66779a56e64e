"""Claim + record throughput of the ledger alone (no transport, no rendering), SQLite and PostgreSQL.

    PGPASSWORD=... NOTIFY_BENCH_PG_URL=postgresql://USER@127.0.0.1/postgres \\
        python bench/ledger_throughput.py [--count 20000] [--batch 50] [--tree DIR]

Imports COUNT recipients, plans them, then claims them BATCH at a time, recording each batch as
sent with the next claim (what `notify send` does between batches). Prints rows/s per backend and
each as a ratio of the SQLite figure of the same run. ``--tree`` measures another checkout of
notify (e.g. the code before issue 13: ``git worktree add /tmp/ledger-before 18d9d72``), with this
same script, so before and after are measured the same way.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any


def _tree() -> str:
    for i, arg in enumerate(sys.argv):
        if arg == "--tree" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
    return str(Path(__file__).resolve().parent.parent)


sys.path.insert(0, _tree())

import notifier  # noqa: E402
from notifier.ledger import Result, SqliteLedger  # noqa: E402
from notifier.models import ListRow, Recipient, State  # noqa: E402


def rows(n: int) -> list[ListRow]:
    return [
        ListRow(
            Recipient(
                f"person{i}@example.com", f"person{i}@example.com", "bench.csv", i + 2, {"id": f"P{i}"}, False
            ),
            None,
        )
        for i in range(n)
    ]


def run(ledger: Any, count: int, batch: int) -> float:
    """rows/s of claim + record over ``count`` planned targets."""
    summary = ledger.import_list("bench.csv", uuid.uuid4().hex, rows(count))
    ledger.plan("bench", [summary.list_id], lambda view, where: True)
    run_id = ledger.start_run("bench", "all", "none", {})
    done = 0
    results: list[Any] = []
    start = time.perf_counter()
    while True:
        claimed = ledger.claim(run_id, batch, time.time(), results)
        if not claimed:
            break
        now = time.time()
        results = [
            Result(c.row, State.SENT, "sent", 250, "250 ok", f"q{c.row}", now, None, f"<{c.row}@bench>")
            for c in claimed
        ]
        done += len(claimed)
    ledger.record(run_id, results)
    elapsed = time.perf_counter() - start
    ledger.end_run(run_id, "finished", {"sent": done})
    assert done == count, (done, count)
    return count / elapsed


def fresh_db(base: str) -> tuple[str, str]:
    import psycopg

    name = f"notify_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return base.rsplit("/", 1)[0] + "/" + name, name


def drop_db(base: str, name: str) -> None:
    """PostgreSQL refuses FORCE for a moment while one of its own workers (autovacuum, after
    the bench's writes) is connected to the database: wait and retry."""
    import psycopg

    for attempt in range(40):
        try:
            with psycopg.connect(base, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            return
        except psycopg.errors.InsufficientPrivilege:
            if attempt == 39:
                raise
            time.sleep(0.5)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=3, help="best of N")
    ap.add_argument("--tree", default="", help="another checkout of notify to measure")
    args = ap.parse_args()
    tree = Path(notifier.__file__).parent.parent
    print(f"notify from {tree}; {args.count} targets, batches of {args.batch}")
    figures: dict[str, float] = {}
    best = 0.0
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            ledger = SqliteLedger(Path(tmp) / "bench.sqlite")
            try:
                best = max(best, run(ledger, args.count, args.batch))
            finally:
                ledger.close()
    figures["sqlite"] = best
    base = os.environ.get("NOTIFY_BENCH_PG_URL", "")
    if base:
        from notifier.ledger.postgres import PgLedger

        best = 0.0
        for _ in range(args.repeat):
            url, name = fresh_db(base)
            try:
                pg = PgLedger(url)
                try:
                    best = max(best, run(pg, args.count, args.batch))
                finally:
                    pg.close()
            finally:
                drop_db(base, name)
        figures["postgresql"] = best
    else:
        print("PostgreSQL skipped: set NOTIFY_BENCH_PG_URL (and PGPASSWORD)")
    for backend, rate in figures.items():
        print(f"{backend:<11} {rate:>10,.0f} rows/s   {rate / figures['sqlite']:.2f} x SQLite")


if __name__ == "__main__":
    main()
