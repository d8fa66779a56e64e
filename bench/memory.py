"""Peak RSS of `notify send` for lists of 50,000 and 200,000 recipients (issue target:
<= 250 MB at 200,000, and flat in list size).

    python bench/memory.py [--sizes 50000 200000]

Each send goes to a loopback SMTP sink; the sender runs in its own process and reports
its own peak resident set size (getrusage), so the sink is not counted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # runnable from any folder

from bench.common import SinkProcess, make_campaign, notify_send

WRAPPER = (
    "import resource, sys\n"
    "from notifier.cli.app import run\n"
    "code = run(sys.argv[1:])\n"
    "print('maxrss_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def peak_rss_mb(folder: Path, port: int) -> tuple[float, float]:
    start = time.perf_counter()
    # Unsigned mail fails the pre-send checks by design (DKIM-1): --force for the benchmark.
    proc = notify_send(folder, f"smtp://127.0.0.1:{port}?tls=none", "--force",
                       program=(sys.executable, "-c", WRAPPER))  # fmt: skip
    elapsed = time.perf_counter() - start
    kb = int(proc.stderr.rsplit("maxrss_kb", 1)[1].split()[0])
    return kb / 1024, elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[50000, 200000])
    args = ap.parse_args()
    sink = SinkProcess()
    results = []
    try:
        for size in args.sizes:
            with tempfile.TemporaryDirectory() as tmp:
                folder = make_campaign(Path(tmp) / "c", size)
                config = folder / "notify.toml"  # the built-in notice as it is: no sign-off step
                text = config.read_text().replace("require_approval = true", "require_approval = false")
                config.write_text(text)
                mb, elapsed = peak_rss_mb(folder, sink.port)
                results.append((size, mb))
                print(f"{size:>9,} recipients: peak RSS {mb:6.1f} MB ({elapsed:.0f} s)", flush=True)
    finally:
        sink.stop()
    base_size, base_mb = results[0]
    for size, mb in results[1:]:
        print(
            f"ratio {size:,} / {base_size:,} recipients: {mb / base_mb:.2f}x memory for "
            f"{size / base_size:.0f}x the list"
        )


if __name__ == "__main__":
    main()
