"""Issue 14's figures in one run: the RFC 7208 suite through `notify check spf` (with pyspf beside
it) and the bounce reader on the dev-tune part and the hold-out third of the real bounces, plus a
third block on the fresh hold-out that nobody tunes on when it is there (../holdout-sisimai beside
the checkout, NOTIFY_BENCH_HOLDOUT, or --corpus DIR; skipped with a one-line note otherwise).

    python bench/conformance.py [--corpus DIR]

Each part is its own script (bench/spf_suite.py, bench/bounces_score.py), run here one after the
other so the two sets of figures come from the same tree and the same run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", help="the fresh hold-out corpus for bounces_score.py")
    args = ap.parse_args()
    worst = 0
    for script in ("spf_suite.py", "bounces_score.py"):
        print(f"== {script}", flush=True)
        extra = ["--corpus", args.corpus] if script == "bounces_score.py" and args.corpus else []
        command = [sys.executable, str(HERE / script), *extra]
        worst = max(worst, subprocess.run(command, check=False).returncode)
    return worst


if __name__ == "__main__":
    raise SystemExit(main())
