"""What reading remote providers' own wordings costs the bounce parser: CPU per message of
parse_bounce over ../shared/data/bounces-dev with the provider tables on, against the same code
with them switched off (the host lookup and the provider tables replaced by no-ops), interleaved
run by run in one process.

    python bench/bounce_remote_cost.py [--runs 5] [--repeat 20]

Prints the median CPU microseconds per message of each and their ratio (after / before), and how
many recipients the tables gave another reason. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import parse_cpu_per_message
from notifier.bounces import dsn, reasons
from notifier.bounces.parse import parse_bounce

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "bounces-dev"


def _switch(on: bool, real: tuple[Callable[..., object], Callable[..., object]]) -> None:
    vars(reasons)["remote_reason"] = real[0] if on else (lambda *a, **k: None)
    vars(dsn)["host_in"] = real[1] if on else (lambda text: "")
    reasons.said_cache_clear()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    samples = [p.read_bytes() for p in sorted((DATA / "samples").iterdir()) if p.is_file()]
    real = (vars(reasons)["remote_reason"], vars(dsn)["host_in"])
    answers = {}
    for on in (False, True):
        _switch(on, real)
        answers[on] = [[(r.address, r.reason) for r in parse_bounce(raw).recipients] for raw in samples]
    changed = sum(a != b for a, b in zip(answers[False], answers[True], strict=True))
    times: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(args.runs):
        for on in (False, True):
            _switch(on, real)
            times[on].append(parse_cpu_per_message(samples, args.repeat))
    before, after = statistics.median(times[False]), statistics.median(times[True])
    print(f"{len(samples)} bounces x {args.repeat}, medians of {args.runs} interleaved runs (CPU time)")
    print(f"  provider tables off: {before:8.1f} us/message")
    print(f"  provider tables on:  {after:8.1f} us/message   ratio {after / before:.3f}")
    print(f"  bounces whose recipients' reasons the tables changed: {changed}")


if __name__ == "__main__":
    main()
