"""What credit-monitoring codes cost a send (issue 17): the same campaign of N people, all of whom
qualify for an offer (Connecticut, SSN), sent to an outbox with and without [offers]; with
offers, every code is issued in the ledger before the first message and carried into each
message. Prints the medians of 3 runs and their ratio, and the raw issue rate of the ledger
(SQLite, and PostgreSQL when NOTIFY_BENCH_PG_URL is set) against reading the same codes back.

    python bench/offers.py [--people 5000]
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from notifier.cli import app  # noqa: E402
from notifier.ledger import SqliteLedger  # noqa: E402

OFFER = """
[offers.ct-24m]
vendor = "Experian"
product = "IdentityWorks 3B"
months = 24
enrol_days = 90
url = "https://www.experianidworks.com/3bplus"
"""


def campaign(folder: Path, people: int, *, offers: bool) -> Path:
    app.run(["init", str(folder)], out=io.StringIO())
    config = folder / "notify.toml"
    text = config.read_text(encoding="utf-8").replace("require_approval = true", "require_approval = false")
    config.write_text(text + (OFFER if offers else ""), encoding="utf-8")
    rows = ["id,email,first_name,last_name,country,region,exposed,consent,consent_scope"]
    rows += [
        f"P{i},person{i}@example.com,P{i},Test,US,US-CT,email;ssn,2025-01-01,esign" for i in range(people)
    ]
    (folder / "lists" / "subscribers.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    if offers:
        codes = folder / "codes.csv"
        codes.write_text("code\n" + "".join(f"CT{i:07d}\n" for i in range(people)), encoding="utf-8")
        app.run(
            ["--config", str(config), "offers", "import", str(codes), "--offer", "ct-24m"], out=io.StringIO()
        )
    return config


def send_seconds(people: int, *, offers: bool) -> float:
    folder = Path(tempfile.mkdtemp(prefix="notify-bench-offers-")) / "c"
    try:
        config = campaign(folder, people, offers=offers)
        start = time.perf_counter()
        code = app.run(["--config", str(config), "send", "--segment", "all", "--yes"], out=io.StringIO())
        elapsed = time.perf_counter() - start
        assert code == 0, f"send failed ({code})"
        sent = len(list((folder / "outbox" / "new").glob("*.eml")))
        assert sent == people, sent
        return elapsed
    finally:
        shutil.rmtree(folder.parent, ignore_errors=True)


def ledger_rates(ledger: object, n: int) -> tuple[float, float]:
    """(codes issued per second, codes read back per second) in batches of 500."""
    keys = [f"k{i}@example.com" for i in range(n)]
    ledger.import_codes("o", "default", ((i, f"C{i:08d}") for i in range(n)))  # type: ignore[attr-defined]
    start = time.perf_counter()
    for s in range(0, n, 500):
        ledger.issue_codes("o", [(k, "default") for k in keys[s : s + 500]])  # type: ignore[attr-defined]
    issue = n / (time.perf_counter() - start)
    start = time.perf_counter()
    for s in range(0, n, 500):
        ledger.offer_codes_of(keys[s : s + 500])  # type: ignore[attr-defined]
    read = n / (time.perf_counter() - start)
    return issue, read


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=5000)
    args = parser.parse_args()
    base, with_offers = [], []
    for _ in range(3):
        base.append(send_seconds(args.people, offers=False))
        with_offers.append(send_seconds(args.people, offers=True))
    b, w = statistics.median(base), statistics.median(with_offers)
    print(
        f"send {args.people} to an outbox, median of 3: without offers {args.people / b:,.0f} msg/s, "
        f"with a code for everyone {args.people / w:,.0f} msg/s (time ratio {w / b:.2f})"
    )
    folder = Path(tempfile.mkdtemp(prefix="notify-bench-ledger-"))
    try:
        issue, read = ledger_rates(SqliteLedger(folder / "l.sqlite"), 20000)
        print(f"SQLite: {issue:,.0f} codes issued/s, {read:,.0f} read back/s (ratio {issue / read:.2f})")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    url = os.environ.get("NOTIFY_BENCH_PG_URL", "")
    if url:
        import psycopg

        from notifier.ledger.postgres import PgLedger

        name = f"notify_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        try:
            pg = PgLedger(url.rsplit("/", 1)[0] + "/" + name)
            issue, read = ledger_rates(pg, 20000)
            pg.close()
            print(
                f"PostgreSQL: {issue:,.0f} codes issued/s, {read:,.0f} read back/s (ratio {issue / read:.2f})"
            )
        finally:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


if __name__ == "__main__":
    main()
