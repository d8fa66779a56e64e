"""notify send vs the naive baseline, same loopback sink, same run.

    python bench/send_throughput.py [--count 20000] [--naive-count 4000]
    python bench/send_throughput.py --signed [--count 20000] [--naive-count 600]

Prints messages per second for both and the ratio. Targets: unsigned >= 1,500 msg/s and
>= 3.5x naive; DKIM-signed >= 1,000 msg/s and >= 8x the naive script signing with dkimpy.
With --signed, a DNS server on 127.0.0.1 publishes the key, SPF and DMARC, so the pre-send
checks (and the DKIM canary) run for real.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from common import ROOT, SinkProcess, make_campaign, run_naive, run_notify, signed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--naive-count", type=int, default=4000)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--signed", action="store_true", help="DKIM-sign (RSA-2048) every message")
    args = ap.parse_args()
    sink = SinkProcess()
    dns = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            naive_args: list[str] = []
            folder = make_campaign(Path(tmp) / "c", args.count, connections=args.connections)
            if args.signed:
                sys.path.insert(0, str(ROOT))
                from tests.authzone import Keys, zone
                from tests.dnsserver import DnsServer

                keys = Keys(Path(tmp) / "keys")
                dns = DnsServer(zone(keys)).start()
                naive_args = ["--dkim-key", str(keys.main), "--dkim-domain", "example.com"]
                signed(folder, keys.main, dns.nameserver)
            naive = run_naive(sink.port, args.naive_count, *naive_args)
            # Unsigned mail fails the pre-send checks by design (DKIM-1): --force for the benchmark.
            elapsed, loop_rate, out = run_notify(folder, sink.port, *([] if args.signed else ["--force"]))
            if args.signed:
                assert "Checks:     sender authentication and messages pass" in out, out
        whole = args.count / elapsed
        label = "signed" if args.signed else "unsigned"
        print(f"{label}; naive baseline:  {naive:8.0f} msg/s ({args.naive_count} messages)")
        print(
            f"notify send:     {loop_rate:8.0f} msg/s in the send loop, {whole:.0f} msg/s for the whole "
            f"command incl. list import, planning and render check ({args.count} messages, {elapsed:.1f} s)"
        )
        print(f"ratio:           {loop_rate / naive:8.2f}x (send loop), {whole / naive:.2f}x (whole command)")
    finally:
        sink.stop()
        if dns is not None:
            dns.stop()


if __name__ == "__main__":
    main()
