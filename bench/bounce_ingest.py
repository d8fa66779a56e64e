"""`notify bounces ingest` throughput on 10,000 DSNs made from the dev corpus, against the bounce
reader of an earlier commit measured in the same run.

    python bench/bounce_ingest.py [--count 10000] [--runs 3] [--baseline 511ca99]

Sets up a temporary campaign of COUNT recipients, sends it into its outbox, and writes COUNT
bounces into a Maildir: each a sample of ../shared/data/bounces-dev (bounces and delay warnings)
sent back to the VERP address of one of our messages (so every one is tied to a message and
goes the whole way: parse, match, mark bounced, suppress), its recipient address made unique
per copy (no two copies read the same text). Each run ingests them into a fresh copy of the
ledger, in this process, once with today's reader and once with the reader of BASELINE (its
notifier/bounces/{reasons,parse,ses_events}.py taken from git, loaded as a package of their
own); everything else (Maildir reading, digests, the ledger) is today's code in both. Prints
messages/s, medians of RUNS runs, the ratio, the parse-only rates, and the whole `notify bounces
ingest` command's rate (median of RUNS). Today's reader is timed through `ingest` itself, on one
process and on every core (parsing in worker processes, recording here). Not collected by pytest.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, make_campaign, notify_send
from notifier.bounces import ingest as ingest_mod
from notifier.bounces.parallel import default_processes
from notifier.bounces.parse import ParsedBounce, parse_bounce
from notifier.ledger import open_ledger
from notifier.settings import load
from notifier.tokens import Tokens

DATA = ROOT.parent / "shared" / "data" / "bounces-dev"
Parse = Callable[[bytes], ParsedBounce]


def baseline_parser(commit: str, into: Path) -> Parse:
    """parse_bounce as it was at ``commit``: its reader modules under a package name of their
    own, so both readers live in one process."""
    package = into / "bounces_baseline"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    for name in ("reasons", "parse", "ses_events", "replies"):
        source = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{commit}:notifier/bounces/{name}.py"],
            capture_output=True,
            text=True,
            check=False,
        )
        if source.returncode == 0:
            text = source.stdout.replace("notifier.bounces.", "bounces_baseline.")
            (package / f"{name}.py").write_text(text, encoding="utf-8")
    sys.path.insert(0, str(into))
    module = importlib.import_module("bounces_baseline.parse")
    parse: Parse = module.parse_bounce
    return parse


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


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the parsing workers)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def ingest_once(
    campaign: Path, maildir: Path, parse: Parse | None, processes: int = 1
) -> tuple[float, float, int]:
    """(seconds, CPU seconds, messages) to ingest the Maildir into a fresh copy of the campaign's
    ledger: with ``parse`` in the loop `ingest` had, or (None) through today's `ingest` on
    ``processes``."""
    settings = load(campaign / "notify.toml", environ=dict(os.environ))
    ledger = open_ledger(settings)
    try:
        tokens = Tokens(settings.secret or ledger.secret())
        policy = ingest_mod.ingest_policy(settings)
        start, cpu = time.perf_counter(), cpu_seconds()
        if parse is None:
            report = ingest_mod.ingest(ledger, tokens, [maildir], policy, processes)
        else:
            report = ingest_mod.IngestReport()
            for label, raw in ingest_mod.messages_in(maildir):
                ingest_mod.record(ledger, tokens, raw, parse(raw), label, report, policy)
        elapsed, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    finally:
        ledger.close()
    return elapsed, cpu, report.messages


def fresh(campaign: Path, pristine: Path) -> None:
    """The campaign folder back as it was right after sending (nothing ingested)."""
    if campaign.exists():
        shutil.rmtree(campaign)
    shutil.copytree(pristine, campaign, symlinks=True)


def forget() -> None:
    """Empty today's reader's memos, so no run reads texts an earlier run left behind."""
    from notifier.bounces import commands, reasons

    reasons.said_cache_clear()
    commands.command_in.cache_clear()


def parse_only(raws: list[bytes], parse: Parse) -> float:
    start = time.perf_counter()
    for raw in raws:
        parse(raw)
    return len(raws) / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--baseline", default="511ca99")
    args = ap.parse_args()
    if not DATA.exists():
        raise SystemExit(f"no corpus at {DATA}")
    with tempfile.TemporaryDirectory(prefix="bounce-ingest-") as tmp:
        work = Path(tmp)
        baseline = baseline_parser(args.baseline, work / "baseline")
        pristine = make_campaign(work / "pristine", args.count)
        notify_send(pristine, "outbox:outbox")
        verps = []
        for path in sorted((pristine / "outbox" / "new").iterdir()):
            with path.open("rb") as fh:
                head = fh.readline().decode()
            verps.append(head.partition("<")[2].partition(">")[0])
        maildir = work / "bounces"
        size = make_dsns(maildir, verps, args.count)
        raws = [p.read_bytes() for p in sorted((maildir / "new").iterdir())]
        print(
            f"{len(raws)} DSNs ({size / len(raws) / 1024:.1f} KB on average) tied to {len(verps)} "
            f"messages; baseline reader: {args.baseline}"
        )
        campaign = work / "campaign"
        cores = default_processes()
        ways: dict[str, tuple[Parse | None, int]] = {
            "baseline": (baseline, 1),
            "today, 1 process": (None, 1),
            f"today, {cores} processes": (None, cores),
        }
        rates: dict[str, list[float]] = {name: [] for name in ways}
        cpu_us: dict[str, list[float]] = {name: [] for name in ways}
        parsing: dict[str, list[float]] = {"baseline": [], "today": []}
        for _ in range(args.runs):
            for name, (parse, processes) in ways.items():
                fresh(campaign, pristine)
                forget()
                seconds, cpu, messages = ingest_once(campaign, maildir, parse, processes)
                assert messages == len(raws), messages
                rates[name].append(messages / seconds)
                cpu_us[name].append(cpu / messages * 1e6)
            for name, reader in (("baseline", baseline), ("today", parse_bounce)):
                forget()
                parsing[name].append(parse_only(raws, reader))
        command: list[float] = []
        for _ in range(args.runs):
            fresh(campaign, pristine)
            start = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "notifier", "--config", str(campaign / "notify.toml"),
                 "bounces", "ingest", str(maildir)],
                capture_output=True, text=True, check=False, cwd=ROOT,
            )  # fmt: skip
            command.append(len(raws) / (time.perf_counter() - start))
            if not proc.stdout.startswith(f"Read {len(raws)} message(s): 0 seen before"):
                raise SystemExit(proc.stdout[:500] + proc.stderr[-2000:])
        base = statistics.median(rates["baseline"])
        for name, values in rates.items():
            rate = statistics.median(values)
            print(f"ingest, {name:22s} {rate:7.0f} msg/s  {rate / base:5.2f}x  (runs: {_runs(values)})")
        # CPU per message does not depend on what else the machine runs: 1e6 / it is the rate
        # one free core would give (all processes counted, workers included).
        cbase = statistics.median(cpu_us["baseline"])
        for name, values in cpu_us.items():
            us = statistics.median(values)
            print(
                f"CPU per message, {name:13s} {us:7.0f} us  {cbase / us:5.2f}x  "
                f"(= {1e6 / us:5.0f} msg/s per free core)"
            )
        pbase, pnow = statistics.median(parsing["baseline"]), statistics.median(parsing["today"])
        print(f"parse only, baseline:           {pbase:7.0f} msg/s")
        print(f"parse only, today:              {pnow:7.0f} msg/s  {pnow / pbase:5.2f}x")
        print(
            f"whole `notify bounces ingest` command, today: {statistics.median(command):.0f} msg/s "
            f"(runs: {_runs(command)}; start-up included)"
        )


def _runs(values: list[float]) -> str:
    return ", ".join(f"{v:.0f}" for v in values)


if __name__ == "__main__":
    main()
