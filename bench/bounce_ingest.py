"""`notify bounces ingest` throughput on 10,000 DSNs made from the dev corpus: today's notify
against the notify of earlier commits, measured in the same run.

    python bench/bounce_ingest.py [--count 10000] [--runs 3] [--baselines 511ca99,55c1261]

Sets up a temporary campaign of COUNT recipients, sends it into its outbox, and writes COUNT
bounces into a Maildir: each a sample of ../shared/data/bounces-dev (bounces and delay warnings)
sent back to the VERP address of one of our messages (so every one is tied to a message and
goes the whole way: parse, match, mark bounced, suppress), its recipient address made unique
per copy (no two copies read the same text). Each BASELINE is checked out in a temporary git
worktree; every run ingests the Maildir into a fresh copy of the campaign in a process of its
own (bench/bounce_ingest_timer.py) with that tree's notify, on one process and on every core
(where the tree can), the trees interleaved run by run. Prints, medians of RUNS runs:
messages/s and the ratio to the first baseline; CPU per message by stage (parse: parse_bounce
alone, in one process; record: the rest of a one-process ingest, i.e. reading, identifying,
matching and writing the ledger; with every core: this process (reading the folder, recording)
and the workers (reading, parsing, identifying)); whether today's runs all wrote the same
ledger; and the whole `notify bounces ingest` command's rate. Not collected by pytest.
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
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, make_campaign, notify_send
from notifier.bounces.parallel import default_processes

DATA = ROOT.parent / "shared" / "data" / "bounces-dev"


def make_dsns(maildir: Path, verps: list[str], count: int) -> int:
    """COUNT bounces from the dev corpus, each sent back to one of ``verps``; returns bytes."""
    cases = [json.loads(line) for line in (DATA / "cases.jsonl").open(encoding="utf-8")]
    samples = [
        ((DATA / "samples" / c["file"]).read_bytes(), [a for a in c["recipients"] if a])
        for c in cases
        if c["kind"] in ("bounce", "delay")
    ]
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    total = 0
    for i in range(count):
        raw, recipients = samples[i % len(samples)]
        for address in recipients:
            local, _, domain = address.partition("@")
            raw = re.sub(re.escape(address).encode(), f"{local}.{i}@{domain}".encode(), raw, flags=re.I)
        raw = f"X-Original-To: {verps[i % len(verps)]}\n".encode() + raw
        (maildir / "new" / f"{i:06d}.bench").write_bytes(raw)
        total += len(raw)
    return total


TIMER = Path(__file__).resolve().parent / "bounce_ingest_timer.py"


def worktree(commit: str, into: Path) -> Path:
    """A checkout of ``commit`` (removed by :func:`drop_worktree`)."""
    tree = into / f"tree-{commit}"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tree), commit],
        check=True,
        capture_output=True,
    )
    return tree


def drop_worktree(tree: Path) -> None:
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False, capture_output=True
    )


def timed(tree: Path, campaign: Path, maildir: Path, processes: int, *flags: str) -> dict[str, Any]:
    """One run of the timer with ``tree``'s notify (see bench/bounce_ingest_timer.py)."""
    proc = subprocess.run(
        [sys.executable, str(TIMER), str(campaign), str(maildir), str(processes), *flags],
        capture_output=True,
        text=True,
        check=False,
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
    )
    if proc.returncode != 0:
        raise SystemExit(f"{tree}: {proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def fresh(campaign: Path, pristine: Path) -> None:
    """The campaign folder back as it was right after sending (nothing ingested)."""
    if campaign.exists():
        shutil.rmtree(campaign)
    shutil.copytree(pristine, campaign, symlinks=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--baselines", default="511ca99,55c1261")
    args = ap.parse_args()
    if not DATA.exists():
        raise SystemExit(f"no corpus at {DATA}")
    with tempfile.TemporaryDirectory(prefix="bounce-ingest-") as tmp:
        work = Path(tmp)
        pristine = make_campaign(work / "pristine", args.count)
        notify_send(pristine, "outbox:outbox", env={"PYTHONPATH": str(ROOT)})  # from any folder
        verps = []
        for path in sorted((pristine / "outbox" / "new").iterdir()):
            with path.open("rb") as fh:
                head = fh.readline().decode()
            verps.append(head.partition("<")[2].partition(">")[0])
        maildir = work / "bounces"
        size = make_dsns(maildir, verps, args.count)
        cores = default_processes()
        trees = {commit: worktree(commit, work) for commit in args.baselines.split(",") if commit}
        trees["today"] = ROOT
        print(
            f"{args.count} DSNs ({size / args.count / 1024:.1f} KB on average) tied to {len(verps)} "
            f"messages; {cores} cores; trees: {', '.join(trees)}"
        )
        campaign = work / "campaign"
        runs: dict[tuple[str, int], list[dict[str, Any]]] = {}
        parse_us: dict[str, list[float]] = {name: [] for name in trees}
        try:
            for _ in range(args.runs):
                for name, tree in trees.items():
                    for processes in (1, cores):
                        fresh(campaign, pristine)
                        result = timed(tree, campaign, maildir, processes)
                        if not result.get("unsupported"):
                            assert result["messages"] == args.count, result
                            runs.setdefault((name, processes), []).append(result)
                    only = timed(tree, campaign, maildir, 1, "--parse-only")
                    parse_us[name].append(only["parse"] / only["messages"] * 1e6)
        finally:
            for tree in trees.values():
                if tree != ROOT:
                    drop_worktree(tree)
        report(runs, parse_us, args.count)
        prints = {r["fingerprint"] for (name, _), results in runs.items() if name == "today" for r in results}
        print(f"today's runs (one process, {cores} processes) all wrote the same ledger: {len(prints) == 1}")
        command: list[float] = []
        for _ in range(args.runs):
            fresh(campaign, pristine)
            start = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "notifier", "--config", str(campaign / "notify.toml"),
                 "bounces", "ingest", str(maildir)],
                capture_output=True, text=True, check=False, cwd=ROOT,
            )  # fmt: skip
            command.append(args.count / (time.perf_counter() - start))
            if not proc.stdout.startswith(f"Read {args.count} message(s): 0 seen before"):
                raise SystemExit(proc.stdout[:500] + proc.stderr[-2000:])
        print(
            f"whole `notify bounces ingest` command, today: {statistics.median(command):.0f} msg/s "
            f"(runs: {_runs(command)}; start-up included)"
        )


def report(
    runs: dict[tuple[str, int], list[dict[str, Any]]], parse_us: dict[str, list[float]], count: int
) -> None:
    """The table: rate and its ratio to the first tree's one-process rate, CPU per message by
    stage, medians over the runs."""
    first = next(iter(runs))
    base = statistics.median(count / r["seconds"] for r in runs[first])
    print(
        f"{'notify':10s} {'processes':>9s} {'msg/s':>7s} {'ratio':>6s}  "
        f"{'CPU us/msg':>10s} {'parse':>6s} {'record':>6s} {'main':>6s} {'workers':>7s} {'idle':>7s}"
    )
    for (name, processes), results in runs.items():
        rate = statistics.median(count / r["seconds"] for r in results)
        total = statistics.median((r["main"] + r["workers"]) / count * 1e6 for r in results)
        main = statistics.median(r["main"] / count * 1e6 for r in results)
        workers = statistics.median(r["workers"] / count * 1e6 for r in results)
        parse = statistics.median(parse_us[name])
        stages = f"{parse:6.0f} {total - parse:6.0f}" if processes == 1 else f"{'':6s} {'':6s}"
        # On idle cores: no faster than the recording process alone, nor than the cores share
        # the whole CPU per message.
        idle = 1e6 / max(main, total / processes)
        rates = _runs([count / r["seconds"] for r in results])
        print(
            f"{name:10s} {processes:9d} {rate:7.0f} {rate / base:5.2f}x  {total:10.0f} {stages} "
            f"{main:6.0f} {workers:7.0f} {idle:7.0f}   (runs: {rates})"
        )
    print(
        "msg/s: wall clock (runs in order); CPU us/msg: all processes, which depends little on what "
        "else the machine runs; idle: the msg/s those CPU figures allow on idle cores (1e6 / the larger "
        "of the recording process's share and the whole divided among the processes)."
    )


def _runs(values: list[float]) -> str:
    return ", ".join(f"{v:.0f}" for v in values)


if __name__ == "__main__":
    main()
