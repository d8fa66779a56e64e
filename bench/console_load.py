"""The console with a 1,000,000-row list: start (lists read) and each page's first load, this
tree against a baseline tree (e.g. the preview before the console), in the same run.

    git worktree add /tmp/base18 511ca99
    python bench/console_load.py --baseline /tmp/base18 [--rows 1000000]

For each tree a child process (PYTHONPATH = that tree) starts the console on 127.0.0.1 for a
fresh campaign whose list has ``--rows`` synthetic people, then times over real HTTP: the
overview, the recipient browser, the first segment filter (affected, country DE), one person's
message, and (this tree only) the comparison and the dashboard. Peak memory is the child's
maximum resident set. Pages the baseline does not have are shown with "-".
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent
PAGES = [
    ("overview", "/"),
    ("recipients", "/recipients"),
    ("segment filter", "/recipients?segment=affected&country=DE"),
    ("a person's message", "/message?id=500000"),
    ("compare versions", "/compare?notice=breach-notice"),
    ("dashboard", "/dashboard"),
    ("content rules (all)", "/lint"),
    ("overview again", "/"),
]
COUNTRIES = ["DE", "FR", "ES", "IT", "NL", "GB", "US", "US", "US", "CA"]
REGIONS = {"US": ["US-CA", "US-NY", "US-MA", "US-TX"], "CA": ["CA-ON", "CA-QC"]}


def write_list(path: Path, rows: int) -> None:
    rng = random.Random(18)
    with path.open("w", encoding="utf-8") as fh:
        fh.write("id,email,first_name,last_name,country,region,exposed\n")
        for i in range(rows):
            country = rng.choice(COUNTRIES)
            region = rng.choice(REGIONS[country]) if country in REGIONS else ""
            fh.write(f"R{i},person{i}@example{i % 97}.com,First{i},Last{i},{country},{region},email;name\n")


def child(campaign: Path) -> None:
    """Run in the tree under test: start the console, time the pages, print JSON."""
    import resource
    import threading

    from notifier.web import preview

    started = time.perf_counter()
    app = preview.PreviewApp(campaign / "notify.toml")
    app.state()  # the lists, read as the CLI reads them before printing the URL
    out: dict[str, Any] = {"start": time.perf_counter() - started, "pages": {}}
    if hasattr(preview, "start_preview"):
        running = preview.start_preview(app)
        base, stop = running.base, running.stop
    else:  # the http.server preview
        server: Any = preview.make_server(app, "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base, stop = f"http://127.0.0.1:{server.server_address[1]}", server.shutdown
    try:
        for name, path in PAGES:
            url = f"{base}{path}{'&' if '?' in path else '?'}token={app.token}"
            t = time.perf_counter()
            try:
                with urllib.request.urlopen(url, timeout=900) as r:  # noqa: S310 - our loopback server
                    size = len(r.read())
                out["pages"][name] = {"seconds": time.perf_counter() - t, "bytes": size}
            except urllib.error.HTTPError as exc:
                out["pages"][name] = {"status": exc.code}
    finally:
        stop()
        app.close()
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def run_tree(src: Path, tmp: Path, name: str, rows: int) -> dict[str, Any]:
    campaign = tmp / name
    env = dict(os.environ, PYTHONPATH=str(src))
    subprocess.run(
        [sys.executable, "-m", "notifier", "init", str(campaign)],
        env=env,
        cwd=tmp,
        check=True,
        capture_output=True,
    )
    write_list(campaign / "lists" / "subscribers.csv", rows)
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", str(campaign)],
        env=env,
        cwd=tmp,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{name}: {done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--baseline", type=Path)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    if args.baseline is None:
        parser.error("--baseline is required")
    with tempfile.TemporaryDirectory() as tmp:
        base = run_tree(args.baseline.resolve(), Path(tmp), "baseline", args.rows)
        mine = run_tree(HERE, Path(tmp), "this-tree", args.rows)
    print(f"{args.rows:,} rows; seconds (baseline / this tree / ratio)")
    ratio = mine["start"] / base["start"]
    print(f"  {'start (lists read)':<22} {base['start']:8.1f} {mine['start']:8.1f} {ratio:6.2f}x")
    for name, _ in PAGES:
        b, m = base["pages"].get(name, {}), mine["pages"].get(name, {})
        bs = f"{b['seconds']:8.2f}" if "seconds" in b else f"{'-':>8}"
        ms = f"{m['seconds']:8.2f}" if "seconds" in m else f"{m.get('status', '-')!s:>8}"
        ratio = f"{m['seconds'] / b['seconds']:6.2f}x" if "seconds" in b and "seconds" in m else ""
        print(f"  {name:<22} {bs} {ms} {ratio}")
    print(f"  {'peak memory (MB)':<22} {base['peak_mb']:8.0f} {mine['peak_mb']:8.0f}")


if __name__ == "__main__":
    main()
