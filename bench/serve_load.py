"""`notify serve`'s SNS endpoint under 200 concurrent connections: requests/s and p99 latency,
this tree against a baseline tree (e.g. the http.server version), medians of 3 runs each.

    git worktree add /tmp/base18 511ca99
    python bench/serve_load.py --baseline /tmp/base18 [--runs 3] [--seconds 8]

Each run starts `notify serve` (the real CLI, in its own process) for a fresh campaign and drives
POST /sns with wrk (Debian's `wrk`): 2 threads, 200 connections. The message is a well-formed
SNS Notification whose certificate URL is not Amazon's, so every request is read, parsed,
verified as far as the certificate host and refused (403) — the web stack and the verifier,
without the network. Runs alternate between the trees so both see the same machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO

HERE = Path(__file__).resolve().parent.parent
MESSAGE = {
    "Type": "Notification",
    "MessageId": "0f4c3f2e-6d0c-4d7b-9c1e-2a1b3c4d5e6f",
    "TopicArn": "arn:aws:sns:eu-west-1:123456789012:ses-events",
    "Message": json.dumps({"notificationType": "Delivery", "mail": {"messageId": "x"}}),
    "Timestamp": "2026-12-06T03:00:00.000Z",
    "SignatureVersion": "2",
    "Signature": "AAAA",
    "SigningCertURL": "https://evil.example/SimpleNotificationService.pem",
}


def _campaign(src: Path, where: Path) -> Path:
    env = dict(os.environ, PYTHONPATH=str(src))
    subprocess.run(
        [sys.executable, "-m", "notifier", "init", str(where)], env=env, check=True, capture_output=True
    )
    return where


def _serve(src: Path, campaign: Path, log: IO[str]) -> tuple[subprocess.Popen[str], str]:
    env = dict(os.environ, PYTHONPATH=str(src), NOTIFY_CONFIG=str(campaign / "notify.toml"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "notifier", "serve", "--port", "0"],
        cwd=campaign,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("Listening on "):
        proc.kill()
        raise SystemExit(f"notify serve did not start: {line!r}; see {log.name}")
    return proc, line.split()[2]


def _wrk(url: str, seconds: int, script: Path) -> tuple[float, float]:
    out = subprocess.run(
        ["wrk", "-t2", "-c200", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    if socket_errors:
        print(f"    wrk: socket errors {socket_errors.group(1)}")
    if errors is None:
        raise SystemExit("expected every request refused (403); the server answered otherwise")
    return rps, p99


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--baseline", type=Path, required=True, help="a checkout of the baseline tree")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    trees = {"baseline": args.baseline.resolve(), "this tree": HERE}
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "post.lua"
        body = json.dumps(MESSAGE).replace("\\", "\\\\").replace('"', '\\"')
        script.write_text(
            f'wrk.method = "POST"\nwrk.body = "{body}"\n'
            'wrk.headers["Content-Type"] = "text/plain; charset=UTF-8"\n',
            encoding="utf-8",
        )
        campaigns = {name: _campaign(src, Path(tmp) / name.replace(" ", "-")) for name, src in trees.items()}
        for run in range(args.runs):
            for name, src in trees.items():
                with open(Path(tmp) / f"serve-{run}-{name[:4]}.log", "w", encoding="utf-8") as log:
                    proc, url = _serve(src, campaigns[name], log)
                try:
                    time.sleep(0.5)
                    rps, p99 = _wrk(url, args.seconds, script)
                finally:
                    proc.terminate()
                    proc.wait(10)
                results[name].append((rps, p99))
                print(f"run {run + 1} {name:>9}: {rps:10,.0f} requests/s, p99 {p99:8.1f} ms")
    base_rps = statistics.median(r for r, _ in results["baseline"])
    base_p99 = statistics.median(p for _, p in results["baseline"])
    new_rps = statistics.median(r for r, _ in results["this tree"])
    new_p99 = statistics.median(p for _, p in results["this tree"])
    print(f"\nmedian of {args.runs}, 200 connections, POST /sns:")
    print(f"  baseline : {base_rps:10,.0f} requests/s, p99 {base_p99:8.1f} ms")
    print(f"  this tree: {new_rps:10,.0f} requests/s, p99 {new_p99:8.1f} ms")
    print(f"  ratio    : {new_rps / base_rps:.2f}x requests/s, p99 {new_p99 / base_p99:.2f}x")


if __name__ == "__main__":
    main()
