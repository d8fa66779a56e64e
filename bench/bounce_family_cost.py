"""What recognising and reading the mail systems' own formats (notifier/bounces/families) costs the
bounce parser: CPU per message of parse_bounce over ../shared/data/bounces-dev with every family
in ORDER, against no family at all and against ORDER without the families named on the command
line (default: the InterScan-to-Zoho ones), interleaved run by run in one process.

    python bench/bounce_family_cost.py [--runs 5] [--repeat 10] [--without NAME ...]

Prints the median CPU microseconds per message of each and the ratios, and how many bounces the
families read differently. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import parse_cpu_per_message
from notifier.bounces import families
from notifier.bounces.parse import parse_bounce

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "bounces-dev"
LATER = [
    "trendmicro",
    "kddi",
    "mailmarshal",
    "mailru",
    "mxlogic",
    "messagelabs",
    "mfilter",
    "notes",
    "qmail",
    "receivingses",
    "sendgrid",
    "verizon",
    "x3",
    "x6",
    "yahoo",
    "zoho",
    "office365",
    "postfix",
    "sendmail",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--without", nargs="*", default=LATER, help="family modules left out of the middle case")
    args = ap.parse_args()
    samples = [p.read_bytes() for p in sorted((DATA / "samples").iterdir()) if p.is_file()]
    full = families.ORDER
    orders = {
        "no family": (),
        f"without {len(args.without)} named": tuple(
            f for f in full if str(getattr(f, "__name__", "")).rsplit(".", 1)[-1] not in set(args.without)
        ),
        f"all {len(full)} families": full,
    }
    answers = {}
    for name, order in orders.items():
        families.ORDER = order
        answers[name] = [
            [(r.address, r.reason, r.hard) for r in parse_bounce(raw).recipients] for raw in samples
        ]
    times: dict[str, list[float]] = {name: [] for name in orders}
    for _ in range(args.runs):
        for name, order in orders.items():
            families.ORDER = order
            times[name].append(parse_cpu_per_message(samples, args.repeat))
    families.ORDER = full
    base = statistics.median(times["no family"])
    print(f"{len(samples)} bounces x {args.repeat}, medians of {args.runs} interleaved runs (CPU time)")
    for name in orders:
        t = statistics.median(times[name])
        differ = sum(a != b for a, b in zip(answers["no family"], answers[name], strict=True))
        print(f"  {name:28s} {t:8.1f} us/message   ratio {t / base:.3f}   bounces read differently: {differ}")


if __name__ == "__main__":
    main()
