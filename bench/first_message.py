"""Time to first message, phase by phase, with peak memory and ledger size, against a baseline.

    python bench/first_message.py [--sizes 1000 100000 1000000] [--runs 3]
        [--base-tree /tmp/base55 /tmp/base511 --base-sizes 1000 100000] [--preview-size 1000000]

For each list size, `notify send --segment all --limit 50` runs into an outbox (a fresh campaign
per run) with its phases timed from inside the process: import, plan, render check; the first
message is the oldest file in the outbox, measured from the moment the process was started.
Prints medians of ``--runs`` runs, peak RSS of the sender (and of any worker it started), ledger
bytes per recipient, CPU seconds per phase (this process and its children, e.g. the list reader:
what another load on the machine changes least), and each figure as a ratio against the same
measurement of each ``--base-tree`` (older checkouts, e.g. ``git worktree add /tmp/base55
55c1261``) where it was measured in the same run, the runs of every tree interleaved. Then
the audience reads the preview uses, at ``--preview-size``: the first answer (the segment's
count) and the first filtered page (the first ``--base-tree`` measures its ``read_lists`` +
``members``, which is what its preview did). Not collected by pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))


WRAPPER = r"""
import json, resource, sys, time
import notifier.pipeline.run as run
phases = {}
def cpu():
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
def timed(name, fn):
    def call(*a, **k):
        start, used = time.time(), cpu()
        try:
            out = fn(*a, **k)
            if name == "import_lists":
                import multiprocessing
                multiprocessing.active_children()  # a list reader's CPU counts once it is joined
            return out
        finally:
            phases[name] = phases.get(name, 0.0) + time.time() - start
            phases[name + "_cpu"] = phases.get(name + "_cpu", 0.0) + cpu() - used
    return call
# check_targets: the render check since issue 15's grouping in the ledger; check_renders before
for name in ("import_lists", "plan", "check_renders", "check_targets"):
    if hasattr(run, name):
        setattr(run, name, timed(name.replace("check_targets", "check_renders"), getattr(run, name)))
from notifier.cli.app import run as cli_run
code = cli_run(sys.argv[1:])
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print("BENCH " + json.dumps({"phases": phases, "rss_kb": own, "children_rss_kb": kids, "cpu": cpu()}),
      file=sys.stderr)
sys.exit(code)
"""

PREVIEW_NEW = r"""
import json, resource, sys, time
from pathlib import Path
from notifier.lists import audience
from notifier.lists.segments import resolve
from notifier.settings import load
start = time.perf_counter()
settings = load(Path(sys.argv[1]))
lists = audience.read_lists(settings.list_files)
with audience.open_reader(settings) as reader:
    kw = {"notice": settings.notice, "first_notice": settings.notice}
    everyone = audience.select(lists, resolve("all", settings.segments), reader, **kw)
    first = time.perf_counter() - start
    start = time.perf_counter()
    us = audience.select(lists, resolve("us", {"us": "recipient.country == 'US'"}), reader, **kw)
    page = []
    for m in us:
        if "ssn" in m.recipient.fields.get("exposed", []):
            page.append(m)
            if len(page) == 50:
                break
    filt = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out = {"start": first, "filter": filt, "rss_kb": rss, "members": len(everyone), "page": len(page)}
print("BENCH " + json.dumps(out))
"""

PREVIEW_OLD = r"""
import json, resource, sys, time
from pathlib import Path
from notifier.lists import audience
from notifier.lists.segments import resolve
from notifier.settings import load
start = time.perf_counter()
settings = load(Path(sys.argv[1]))
lists = audience.read_lists(settings.list_files)
with audience.open_reader(settings) as reader:
    members = list(audience.members(lists, resolve("all", settings.segments), reader,
                                    notice=settings.notice, first_notice=settings.notice))
    first = time.perf_counter() - start
    start = time.perf_counter()
    us = resolve("us", {"us": "recipient.country == 'US'"})
    found = list(audience.members(lists, us, reader, notice=settings.notice, first_notice=settings.notice))
    page = [m for m in found if "ssn" in m.recipient.fields.get("exposed", [])][:50]
    filt = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out = {"start": first, "filter": filt, "rss_kb": rss, "members": len(members), "page": len(page)}
print("BENCH " + json.dumps(out))
"""


def _env(tree: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(tree)}


def one_send(tree: Path, folder: Path) -> dict[str, float]:
    outbox = folder / "outbox"
    cmd = [sys.executable, "-c", WRAPPER, "--config", str(folder / "notify.toml"), "send", "--segment", "all",
           "--transport", f"outbox:{outbox}", "--yes", "--limit", "50"]  # fmt: skip
    start = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(tree), cwd=folder, check=False)
    elapsed = time.time() - start
    if proc.returncode != 0 or "BENCH " not in proc.stderr:
        raise SystemExit(f"send failed in {tree}:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    data = json.loads(proc.stderr.rsplit("BENCH ", 1)[1].splitlines()[0])
    files = list((outbox / "new").iterdir())
    first = min(f.stat().st_mtime for f in files) - start
    ph = data["phases"]
    ledger = sum(p.stat().st_size for p in folder.glob("ledger.sqlite*") if p.is_file())
    return {
        "first": first,
        "import": ph.get("import_lists", 0.0),
        "plan": ph.get("plan", 0.0),
        "check": ph.get("check_renders", 0.0),
        "rest": first - ph.get("import_lists", 0.0) - ph.get("plan", 0.0) - ph.get("check_renders", 0.0),
        # CPU seconds (this process and its children): what another load on the machine changes least
        "import_cpu": ph.get("import_lists_cpu", 0.0),
        "plan_cpu": ph.get("plan_cpu", 0.0),
        "check_cpu": ph.get("check_renders_cpu", 0.0),
        "cpu": data["cpu"],
        "command": elapsed,
        "rss_mb": data["rss_kb"] / 1024,
        "workers_rss_mb": data["children_rss_kb"] / 1024,
        "ledger_bytes": float(ledger),
    }


def one_preview(tree: Path, folder: Path, *, new: bool) -> dict[str, float]:
    script = PREVIEW_NEW if new else PREVIEW_OLD
    cmd = [sys.executable, "-c", script, str(folder / "notify.toml")]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(tree), cwd=folder, check=False)
    if proc.returncode != 0 or "BENCH " not in proc.stdout:
        raise SystemExit(f"preview reads failed in {tree}:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    data: dict[str, float] = json.loads(proc.stdout.rsplit("BENCH ", 1)[1].splitlines()[0])
    return data


def campaign(tmp: Path, name: str, source: Path, tree: Path = ROOT) -> Path:
    """A campaign folder made by ``tree``'s own bench helper (its notify.toml keys), with ``source``
    as its list."""
    folder = tmp / name
    make = f"import sys; sys.path.insert(0, {str(tree / 'bench')!r}); from common import make_campaign; "
    make += f"from pathlib import Path; make_campaign(Path({str(folder)!r}), 10)"
    subprocess.run([sys.executable, "-c", make], env=_env(tree), cwd=tree, check=True, capture_output=True)
    shutil.copy(source, folder / "lists" / "subscribers.csv")
    return folder


def median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def row(label: str, m: dict[str, float], size: int, base: dict[str, float] | None) -> str:
    def ratio(key: str) -> str:
        if base is None or not m[key]:
            return ""
        return f" ({base[key] / m[key]:.1f}x)"

    return (
        f"{label:<9}{size:>10,}  first {m['first']:7.1f} s{ratio('first'):<9}"
        f" import {m['import']:6.1f}{ratio('import'):<9} plan {m['plan']:6.1f}{ratio('plan'):<10}"
        f" check {m['check']:6.1f}{ratio('check'):<10} rest {m['rest']:5.1f}"
        f"  RSS {m['rss_mb']:5.0f} MB (workers {m['workers_rss_mb']:.0f})"
        f"  ledger {m['ledger_bytes'] / size:5.0f} B/recipient\n"
        f"{'':<9}{'CPU s':>10}  command {m['cpu']:5.1f}{ratio('cpu'):<9}  import {m['import_cpu']:6.1f}"
        f"{ratio('import_cpu'):<9} plan {m['plan_cpu']:6.1f}{ratio('plan_cpu'):<10}"
        f" check {m['check_cpu']:6.1f}{ratio('check_cpu'):<10}"
    )


def preview(args: argparse.Namespace, tmp: Path, size: int, source: Path) -> None:
    """The preview's first count and first filtered page, now and (at --base-sizes) before."""
    p = one_preview(ROOT, campaign(tmp, "preview", source), new=True)
    print(
        f"preview reads at {size:,}: first count {p['start']:.1f} s, first filtered page "
        f"{p['filter']:.1f} s, RSS {p['rss_kb'] / 1024:.0f} MB",
        flush=True,
    )
    if args.base_tree is not None and size in args.base_sizes:
        b = one_preview(args.base_tree, campaign(tmp, "preview-base", source, args.base_tree), new=False)
        print(
            f"  baseline: first count {b['start']:.1f} s ({b['start'] / p['start']:.1f}x), "
            f"filtered page {b['filter']:.1f} s ({b['filter'] / p['filter']:.1f}x), "
            f"RSS {b['rss_kb'] / 1024:.0f} MB",
            flush=True,
        )
    for folder in tmp.glob("preview*"):
        shutil.rmtree(folder, ignore_errors=True)


def label(tree: Path) -> str:
    """A checkout's commit, for the table."""
    out = subprocess.run(
        ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return out.stdout.strip() or tree.name


def main() -> None:
    from notifier.lists.samplelist import write_csv

    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000, 1_000_000])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--big-runs", type=int, default=1, help="runs at 1,000,000 and more")
    ap.add_argument("--base-tree", type=Path, nargs="*", default=[], help="one or more older checkouts")
    ap.add_argument("--base-sizes", type=int, nargs="*", default=[1000, 100_000])
    ap.add_argument(
        "--tree", type=Path, default=ROOT, help="the checkout measured as 'now' (default: this one)"
    )
    ap.add_argument("--preview-size", type=int, default=1_000_000)
    ap.add_argument("--preview-only", action="store_true", help="only the preview's reads, at --sizes")
    args = ap.parse_args()
    bases: list[Path] = args.base_tree
    args.base_tree = bases[0] if bases else None  # the preview's baseline
    with tempfile.TemporaryDirectory(prefix="bench-first-") as tmpname:
        tmp = Path(tmpname)
        print("ratios: baseline / now (higher is better), medians of the runs; runs interleaved", flush=True)
        for size in args.sizes:
            source = tmp / f"list{size}.csv"
            with source.open("w", encoding="utf-8") as fh:
                write_csv(size, fh)
            runs = args.runs if size < 1_000_000 else args.big_runs
            if args.preview_only:
                preview(args, tmp, size, source)
                continue
            trees = [b for b in bases if size in args.base_sizes] + [args.tree]
            measured: dict[Path, list[dict[str, float]]] = {t: [] for t in trees}
            for i in range(runs):  # interleaved: a change in the machine's load hits every tree alike
                for t, tree in enumerate(trees):
                    measured[tree].append(one_send(tree, campaign(tmp, f"t{t}-{size}-{i}", source, tree)))
                    for p in tmp.glob(f"t{t}-{size}-{i}"):
                        shutil.rmtree(p, ignore_errors=True)
            now = median(measured[args.tree])
            for tree in trees[:-1]:
                print(row(label(tree), median(measured[tree]), size, None) + f"  [{runs} run(s)]", flush=True)
            print(row("now", now, size, None) + f"  [{runs} run(s)]", flush=True)
            for tree in trees[:-1]:
                print(row(f"vs {label(tree)}", now, size, median(measured[tree])), flush=True)
            if size == args.preview_size:
                preview(args, tmp, size, source)
            source.unlink()


if __name__ == "__main__":
    main()
