"""Several senders on a PostgreSQL ledger against one sender on SQLite, same sink, same run.

    NOTIFY_BENCH_PG_URL=postgresql://USER@127.0.0.1/postgres PGPASSWORD=... \\
        python bench/pg_senders.py [--count 10000] [--runs 3]     (from any folder)

For each layout of senders x sending processes (notify's default, which divides the machine's
cores among the senders running on it, or ``NOTIFY_SEND_PROCESSES``: 1, 2), every figure the
median of ``--runs`` runs:

- the senders' send rate together: messages / the longest send loop (they run side by side);
- the whole commands' rate: messages / wall time from the first start to the last exit;
- CPU per message: the senders' (all their processes) and the PostgreSQL server's (read from
  /proc for every ``postgres`` process), which on one machine share its cores;
- how many times the list was imported and planned (once, however many senders).

Then one sender on SQLite with the default processes, and the ledger's own cost per message on
each backend (claim + record through the Ledger interface, no transport). A layout with more
processes than cores measures the scheduler, not notify: on this 2-core machine compare 1x2 with
2x1 (same processes, the work split by the ledger instead of inside one run) and 1x1 with 2x1
(two senders of one process each). The role needs CREATEDB; each run gets a fresh database.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # bench.common and notifier, whatever the working folder

from bench.common import SinkProcess, children_cpu, make_campaign  # noqa: E402
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


def postgres_cpu() -> float:
    """CPU seconds used so far by every process named postgres (the server, on this machine)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        if name.startswith("postgres"):
            fields = text[text.rindex(")") + 2 :].split()
            # utime, stime, and those of its exited children (the postmaster's: finished backends)
            total += sum(int(f) for f in fields[11:15]) / tick
    return total


@dataclass
class Senders:
    wall: float  # first start to last exit
    loop: float  # the longest send loop, seconds
    cpu: float  # the senders' CPU seconds, all their processes
    server: float  # the PostgreSQL server's CPU seconds over the same time


def senders(folder: Path, port: int, n: int, processes: int | None = None) -> Senders:
    """Run ``n`` senders side by side, each with ``processes`` sending processes (None: notify's
    default), with this checkout on their path."""
    cmd = [sys.executable, "-m", "notifier", "--config", str(folder / "notify.toml"), "send", "--segment",
           "all", "--transport", f"smtp://127.0.0.1:{port}?tls=none", "--yes", "--force"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    if processes is not None:
        env["NOTIFY_SEND_PROCESSES"] = str(processes)
    cpu0, server0 = children_cpu(), postgres_cpu()
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=HERE.parent, env=env
        )
        for _ in range(n)
    ]
    loop = 0.0
    for p in procs:
        out, err = p.communicate()
        if p.returncode != 0:
            raise SystemExit(out + err)
        m = re.search(r"in ([0-9.]+) s \((\d+) attempts/s\)", out)
        loop = max(loop, float(m.group(1)) if m else 0.0)
    wall = time.perf_counter() - start
    return Senders(wall, loop, children_cpu() - cpu0, postgres_cpu() - server0)


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


# (senders, sending processes each; None: notify's default, which divides the cores among the
# senders already running on the machine)
LAYOUTS: tuple[tuple[int, int | None], ...] = (
    (1, None),
    (2, None),
    (3, None),
    (1, 1),
    (2, 1),
    (1, 2),
    (2, 2),
)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    base = os.environ.get("NOTIFY_BENCH_PG_URL") or os.environ.get("NOTIFY_TEST_PG_URL")
    if not base:
        raise SystemExit("set NOTIFY_BENCH_PG_URL=postgresql://USER@127.0.0.1/postgres (and PGPASSWORD)")
    sink = SinkProcess()
    runs: dict[object, list[Senders]] = defaultdict(list)
    once: dict[tuple[int, int | None], tuple[int, int]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            pristine = unapproved(make_campaign(Path(tmp) / "pristine", args.count))
            for run in range(args.runs):
                print(f"run {run + 1}/{args.runs} ...", file=sys.stderr, flush=True)
                folder = Path(tmp) / "sqlite"
                shutil.rmtree(folder, ignore_errors=True)
                shutil.copytree(pristine, folder)
                runs["sqlite"].append(senders(folder, sink.port, 1))
                for layout in LAYOUTS:  # interleaved, so load from other work falls on all alike
                    url, name = fresh_db(base)
                    try:
                        folder = Path(tmp) / "pg"
                        shutil.rmtree(folder, ignore_errors=True)
                        shutil.copytree(pristine, folder)
                        config = folder / "notify.toml"
                        config.write_text(
                            config.read_text().replace('path = "ledger.sqlite"', f'url = "{url}"')
                        )
                        runs[layout].append(senders(folder, sink.port, *layout))
                        once[layout] = imports_and_plans(url)
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
    report(runs, once, args, sqlite_cost, pg_cost)


def report(
    runs: dict[object, list[Senders]],
    once: dict[tuple[int, int | None], tuple[int, int]],
    args: argparse.Namespace,
    sqlite_cost: float,
    pg_cost: float,
) -> None:
    n = args.count

    def med(key: object, what: str) -> float:
        return float(statistics.median(getattr(r, what) for r in runs[key]))

    cores = len(os.sched_getaffinity(0))
    print(f"\n{n} unsigned messages into smtp-sink, {cores} cores, medians of {args.runs} runs\n")
    sq_loop = n / med("sqlite", "loop")
    columns = f"{'send msg/s':>11}{'x 1 sender':>11}{'whole msg/s':>12}{'CPU us/msg':>11}{'server':>8}"
    print(f"{'layout':44}{columns}  list")
    sqlite = f"{sq_loop:11.0f}{'':11}{n / med('sqlite', 'wall'):12.0f}{1e6 * med('sqlite', 'cpu') / n:11.0f}"
    print(f"{'SQLite, 1 sender x default processes':44}{sqlite}")
    one = n / med((1, None), "loop")
    for layout in LAYOUTS:
        senders_n, procs = layout
        each = "default processes" if procs is None else f"{procs} process(es)"
        rate = n / med(layout, "loop")
        imports, plans = once[layout]
        print(
            f"{f'PostgreSQL, {senders_n} sender(s) x {each}':44}{rate:11.0f}{rate / one:11.2f}"
            f"{n / med(layout, 'wall'):12.0f}{1e6 * med(layout, 'cpu') / n:11.0f}"
            f"{1e6 * med(layout, 'server') / n:8.0f}  imported {imports}x, planned {plans}x"
        )
    print(
        f"\nledger cost per message (claim + record, batches of 16): SQLite {sqlite_cost * 1e6:.0f} us, "
        f"PostgreSQL {pg_cost * 1e6:.0f} us ({pg_cost / sqlite_cost:.1f}x)"
    )


if __name__ == "__main__":
    main()
