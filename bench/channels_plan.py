"""What deciding each person's channel costs the send plan (issue 16).

Plans one notice for N people (a list mixing jurisdictions and consent evidence) on a fresh
SQLite ledger twice per run: without the channel gate (the baseline: the segment alone) and with
it (decide + record one decision per person). Prints medians of 3 runs and the ratio.

    python bench/channels_plan.py [N]        # default 50,000
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from notifier.channels.gate import ChannelGate
from notifier.channels.policy import ChannelPolicy
from notifier.channels.rules import load_channel_rules
from notifier.ledger import SqliteLedger
from notifier.lists.recipients import dedupe_key, read_list
from notifier.lists.segments import resolve
from notifier.pipeline.stages import plan

PLACES = [
    ("US", "US-CA"),
    ("US", "US-NY"),
    ("US", "US-TX"),
    ("US", "US-PA"),
    ("DE", ""),
    ("FR", ""),
    ("GB", ""),
]


def write_list(path: Path, n: int) -> None:
    rng = random.Random(7)
    with path.open("w", encoding="utf-8") as fh:
        fh.write(
            "id,email,first_name,country,region,exposed,consent,consent_scope,postal_line1,postal_city,"
            "postal_region,postal_postcode,postal_country\n"
        )
        for i in range(n):
            country, region = rng.choice(PLACES)
            consent = rng.choice(["", "2024-01-01"])
            scope = rng.choice(["esign", "express", "esign;express"]) if consent else ""
            postal = (
                ("1 Main St", "Town", region[3:], "10001", "US")
                if country == "US" and rng.random() < 0.5
                else ("",) * 5
            )
            fh.write(
                f"P{i},p{i}@example.com,P{i},{country},{region},email,{consent},{scope},{','.join(postal)}\n"
            )


def one(lst: Path, gated: bool) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        ledger = SqliteLedger(Path(tmp) / "l.sqlite")
        imported = ledger.import_list(str(lst), "x", read_list(lst))
        segment = resolve("affected", {"affected": "recipient.exposed"})
        policy = ChannelPolicy(load_channel_rules(), True, frozenset({"email"}), 1.0)
        gate = ChannelGate(policy, key=dedupe_key) if gated else None
        start = time.perf_counter()
        plan(ledger, "n", [imported], segment, resend=False, channels=gate)
        took = time.perf_counter() - start
        ledger.close()
        return took


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    with tempfile.TemporaryDirectory() as tmp:
        lst = Path(tmp) / "list.csv"
        write_list(lst, n)
        base = [one(lst, False) for _ in range(3)]
        gated = [one(lst, True) for _ in range(3)]
    b, g = statistics.median(base), statistics.median(gated)
    print(
        f"plan of {n:,} people, median of 3: segment 'affected' only {b:.2f} s ({n / b:,.0f}/s); "
        f"with channel decisions {g:.2f} s ({n / g:,.0f}/s); ratio {g / b:.2f}x"
    )


if __name__ == "__main__":
    main()
