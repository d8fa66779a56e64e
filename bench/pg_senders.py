"""Several senders on a PostgreSQL ledger against one sender on SQLite, same sink, same run.

    NOTIFY_BENCH_PG_URL=postgresql://USER@127.0.0.1/postgres PGPASSWORD=... \\
        python bench/pg_senders.py [--count 20000]     (from the repository root or anywhere)

Prints the whole-command throughput of 1, 2 and 3 `notify send` processes sharing one PostgreSQL
ledger, as ratios of one sender on the embedded SQLite ledger, and the ledger's own cost per
message on each backend (claim + record through the Ledger interface, no transport), and how many
times the senders of one campaign imported and planned the list (once, however many they are).
(The role needs CREATEDB; each measurement gets a fresh database.)
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # bench.common and notifier, whatever the working folder

from bench.common import SinkProcess, make_campaign  # noqa: E402
from notifier.ledger import SqliteLedger  # noqa: E402
from notifier.ledger.postgres import PgLedger  # noqa: E402
from notifier.ledger.sqlite import Result  # noqa: E402
from notifier.lists.segments import resolve  # noqa: E402
from notifier.models import State  # noqa: E402
from notifier.pipeline import stages as pipeline  # noqa: E402


def fresh_db(base: str) -> tuple[str, str]:
    import psycopg

    name = f"notify_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return base.rsplit("/", 1)[0] + "/" + name, name


def drop_db(base: str, name: str) -> None:
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def unapproved(folder: Path) -> Path:
    """The benchmark sends the built-in notice as it is: no sign-off step in the way."""
    config = folder / "notify.toml"
    config.write_text(config.read_text().replace("require_approval = true", "require_approval = false"))
    return folder


def senders(folder: Path, port: int, n: int) -> tuple[float, float]:
    """(wall seconds for all ``n`` senders, the sum of their send-loop rates in msg/s). Each runs
    with this checkout on its path, from the repository root."""
    cmd = [sys.executable, "-m", "notifier", "--config", str(folder / "notify.toml"), "send", "--segment",
           "all", "--transport", f"smtp://127.0.0.1:{port}?tls=none", "--yes", "--force"]  # fmt: skip
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=HERE.parent,
            env={**os.environ, "PYTHONPATH": str(HERE.parent)},
        )
        for _ in range(n)
    ]
    loop = 0.0
    for p in procs:
        out, err = p.communicate()
        if p.returncode != 0:
            raise SystemExit(out + err)
        m = re.search(r"\((\d+) attempts/s\)", out)
        loop += float(m.group(1)) if m else 0.0
    return time.perf_counter() - start, loop


def imports_and_plans(url: str) -> tuple[int, int]:
    """How many times the campaign's list was imported, and how many plans were made (kept)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        imports = conn.execute("SELECT count(*) FROM audit WHERE action = 'list.import'").fetchone()
        plans = conn.execute("SELECT count(*) FROM plans").fetchone()
    return int(imports[0]) if imports else 0, int(plans[0]) if plans else 0


def ledger_cost(ledger: SqliteLedger, folder: Path, count: int) -> float:
    """Seconds per message spent in the ledger: claim in batches of 16, record them sent."""
    imports = pipeline.import_lists(ledger, (folder / "lists" / "subscribers.csv",))
    pipeline.plan(ledger, "bench", imports, resolve("all", {}), resend=False)
    run = ledger.start_run("bench", "all", "none", {})
    done = 0
    results: list[Result] = []
    start = time.perf_counter()
    while True:
        rows = ledger.claim(run, 16, time.time(), results)
        results = [
            Result(c.row, State.SENT, "accepted", 250, "ok", f"q{c.row}", time.time(), None, f"<{c.row}@x>")
            for c in rows
        ]
        done += len(rows)
        if not rows:
            break
    elapsed = time.perf_counter() - start
    ledger.end_run(run, "finished", {})
    return elapsed / max(1, done)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=20000)
    args = ap.parse_args()
    base = os.environ.get("NOTIFY_BENCH_PG_URL") or os.environ.get("NOTIFY_TEST_PG_URL")
    if not base:
        raise SystemExit("set NOTIFY_BENCH_PG_URL=postgresql://USER@127.0.0.1/postgres (and PGPASSWORD)")
    sink = SinkProcess()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = unapproved(make_campaign(Path(tmp) / "sqlite", args.count))
            sqlite_s, sqlite_loop = senders(folder, sink.port, 1)
            results = {}
            once: dict[int, tuple[int, int]] = {}
            for n in (1, 2, 3):
                url, name = fresh_db(base)
                try:
                    folder = unapproved(make_campaign(Path(tmp) / f"pg{n}", args.count))
                    config = folder / "notify.toml"
                    config.write_text(config.read_text().replace('path = "ledger.sqlite"', f'url = "{url}"'))
                    results[n] = senders(folder, sink.port, n)
                    once[n] = imports_and_plans(url)
                finally:
                    drop_db(base, name)
            cost_folder = make_campaign(Path(tmp) / "cost", 5000)
            sq = SqliteLedger(Path(tmp) / "cost.sqlite")
            sqlite_cost = ledger_cost(sq, cost_folder, 5000)
            sq.close()
            url, name = fresh_db(base)
            try:
                pg = PgLedger(url)
                pg_cost = ledger_cost(pg, cost_folder, 5000)
                pg.close()
            finally:
                drop_db(base, name)
    finally:
        sink.stop()
    base_rate = args.count / sqlite_s
    print(
        f"SQLite, 1 sender:      {base_rate:7.0f} msg/s "
        f"({args.count} messages, {sqlite_s:.1f} s, whole command)"
    )
    print(f"  send loop: {sqlite_loop:.0f} msg/s")
    for n, (seconds, loop) in results.items():
        rate = args.count / seconds
        print(
            f"PostgreSQL, {n} sender(s): {rate:7.0f} msg/s = {rate / base_rate:.2f}x SQLite "
            f"({seconds:.1f} s); "
            f"send loops together {loop:.0f} msg/s = {loop / sqlite_loop:.2f}x; "
            f"the list imported {once[n][0]} time(s), planned {once[n][1]} time(s)"
        )
    print(
        f"ledger cost per message (claim + record, batches of 16): SQLite {sqlite_cost * 1e6:.0f} us, "
        f"PostgreSQL {pg_cost * 1e6:.0f} us ({pg_cost / sqlite_cost:.1f}x)"
    )


if __name__ == "__main__":
    main()
