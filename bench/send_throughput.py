"""notify send vs the naive baseline, same loopback sink, same run.

    python bench/send_throughput.py [--count 20000] [--naive-count 4000]

Prints messages per second for both and the ratio (issue target: >= 3.5x naive, >= 1,500 msg/s).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from common import SinkProcess, make_campaign, run_naive, run_notify


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--naive-count", type=int, default=4000)
    ap.add_argument("--connections", type=int, default=8)
    args = ap.parse_args()
    sink = SinkProcess()
    try:
        naive = run_naive(sink.port, args.naive_count)
        with tempfile.TemporaryDirectory() as tmp:
            folder = make_campaign(Path(tmp) / "c", args.count, connections=args.connections)
            elapsed, loop_rate, _ = run_notify(folder, sink.port)
        whole = args.count / elapsed
        print(f"naive baseline:  {naive:8.0f} msg/s ({args.naive_count} messages)")
        print(
            f"notify send:     {loop_rate:8.0f} msg/s in the send loop, {whole:.0f} msg/s for the whole "
            f"command incl. list import, planning and render check ({args.count} messages, {elapsed:.1f} s)"
        )
        print(f"ratio:           {loop_rate / naive:8.2f}x (send loop), {whole / naive:.2f}x (whole command)")
    finally:
        sink.stop()


if __name__ == "__main__":
    main()
