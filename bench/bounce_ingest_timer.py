"""One timed `ingest` of a Maildir into a campaign's ledger, by the notify found on PYTHONPATH
(this checkout's or an older commit's worktree): run by bench/bounce_ingest.py in a process of
its own, prints one JSON line.

    PYTHONPATH=TREE python bench/bounce_ingest_timer.py CAMPAIGN MAILDIR PROCESSES [--parse-only]

Prints seconds, CPU seconds of this process (``main``: reading, recording, and the parsing when
it happens here) and of its worker processes (``workers``: the parsing on the other cores), the
number of messages, and a fingerprint of everything the ingest wrote (events, message states,
suppressions) so two runs can be checked for the same answers. With --parse-only: the CPU
seconds of parsing the first PARSE_SAMPLE messages (2000) here, nothing recorded.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import resource
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any


def cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def fingerprint(ledger_path: Path) -> str:
    """Everything an ingest writes, without the moments it wrote them."""
    db = sqlite3.connect(ledger_path)
    try:
        rows: list[Any] = [
            sorted(
                db.execute(
                    "SELECT digest, kind, address, message, matched, reason, hard, event_at "
                    "FROM bounce_events"
                )
            ),
            sorted(db.execute("SELECT id, state, reason FROM messages")),
            sorted(db.execute("SELECT key, reason, source FROM suppressions")),
        ]
    finally:
        db.close()
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:16]


def main() -> None:
    from notifier.bounces import ingest as ingest_mod
    from notifier.bounces.parse import parse_bounce
    from notifier.ledger import open_ledger
    from notifier.settings import load
    from notifier.tokens import Tokens

    campaign, maildir, processes = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    if "--parse-only" in sys.argv:
        files = [p for sub in ("new", "cur") for p in sorted((maildir / sub).iterdir())]
        raws = [p.read_bytes() for p in files[: int(os.environ.get("PARSE_SAMPLE", "2000"))]]
        start = cpu(resource.RUSAGE_SELF)
        for raw in raws:
            parse_bounce(raw)
        print(json.dumps({"parse": cpu(resource.RUSAGE_SELF) - start, "messages": len(raws)}))
        return
    try:
        settings = load(campaign / "notify.toml", environ=dict(os.environ))
        ledger, ledger_path = open_ledger(settings), settings.ledger_path
        secret, policy = settings.secret, ingest_mod.ingest_policy(settings)
    except Exception:  # an older notify that does not know every key of today's notify.toml
        from notifier.ledger import SqliteLedger
        from notifier.ledger.audit import AuditKey

        ledger_path = campaign / "ledger.sqlite"
        ledger = SqliteLedger(ledger_path, audit_key=AuditKey(campaign / ".notify" / "audit.key"))
        secret, policy = None, ingest_mod.IngestPolicy()  # the campaign's: the default policy
    try:
        tokens = Tokens(secret or ledger.secret())
        extra: dict[str, Any] = {}
        if "processes" in inspect.signature(ingest_mod.ingest).parameters:
            extra["processes"] = processes
        elif processes > 1:
            print(json.dumps({"unsupported": True}))
            return
        start, main_cpu, workers_cpu = (
            time.perf_counter(),
            cpu(resource.RUSAGE_SELF),
            cpu(resource.RUSAGE_CHILDREN),
        )
        report = ingest_mod.ingest(ledger, tokens, [maildir], policy, **extra)
        seconds = time.perf_counter() - start
        main_cpu, workers_cpu = (
            cpu(resource.RUSAGE_SELF) - main_cpu,
            cpu(resource.RUSAGE_CHILDREN) - workers_cpu,
        )
    finally:
        ledger.close()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "main": main_cpu,
                "workers": workers_cpu,
                "messages": report.messages,
                "fingerprint": fingerprint(ledger_path),
            }
        )
    )


if __name__ == "__main__":
    main()
