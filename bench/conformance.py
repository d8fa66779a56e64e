"""Issue 14's figures in one run: the RFC 7208 suite through `notify check spf` (with pyspf beside
it) and the bounce reader on the dev-tune part and the hold-out third of the real bounces.

    python bench/conformance.py

Each part is its own script (bench/spf_suite.py, bench/bounces_score.py), run here one after the
other so the two sets of figures come from the same tree and the same run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    worst = 0
    for script in ("spf_suite.py", "bounces_score.py"):
        print(f"== {script}", flush=True)
        worst = max(worst, subprocess.run([sys.executable, str(HERE / script)], check=False).returncode)
    return worst


if __name__ == "__main__":
    raise SystemExit(main())
