"""Rate fidelity through Amazon SES (moto's server on 127.0.0.1 behind the test proxy):
with the account's maximum send rate at 50/s and at 200/s, the rate measured at SES over
a 30-second send and the busiest one-second window (issue target: within 3%, never above).

    python bench/ses_rate.py [--seconds 30] [--rates 50 200]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import make_campaign, notify_send, signed
from tests.authzone import Keys, zone
from tests.dnsserver import DnsServer
from tests.sesproxy import Ses


def busiest_window(times: list[float]) -> int:
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - 1.0:
            j += 1
        best = max(best, i - j + 1)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--rates", type=float, nargs="+", default=[50, 200])
    args = ap.parse_args()
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")  # noqa: S106 - local moto
    ses = Ses(separate_process=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        keys = Keys(Path(tmp) / "keys")
        dns = DnsServer(zone(keys)).start()
        try:
            for rate in args.rates:
                ses.reset()
                ses.verify("example.com")
                ses.set_account(rate=rate, max_24h=1e9)
                count = int(rate * args.seconds)
                folder = make_campaign(Path(tmp) / f"c{int(rate)}", count, rate="100000/s", connections=8)
                signed(folder, keys.main, dns.nameserver)
                start = time.perf_counter()
                notify_send(folder, ses.url())
                times = sorted(ses.state.send_times)
                measured = (len(times) - 1) / (times[-1] - times[0])
                window = busiest_window(times)
                print(
                    f"max rate {rate:5.0f}/s: {len(times)} SendEmail calls "
                    f"in {times[-1] - times[0]:.1f} s -> "
                    f"{measured:6.1f}/s ({measured / rate:.3f}x the maximum); busiest 1-s window {window} "
                    f"({window / rate:.3f}x); command {time.perf_counter() - start:.1f} s",
                    flush=True,
                )
        finally:
            dns.stop()
            ses.stop()


if __name__ == "__main__":
    main()
