"""notify send against the naive script and the pre-built ceilings, same sink, same run.

    python bench/send_throughput.py [--count 10000] [--runs 3] \\
        [--baseline-tree /tmp/base55 --baseline-tree /tmp/base511]    (from any folder)

Into Postfix's ``smtp-sink`` on 127.0.0.1 (apt-get install postfix; the daemon is never
started), every figure the median of ``--runs`` runs, all measured in this one run, interleaved:

- ``notify send`` DKIM-signed (RSA-2048) and unsigned: the send loop's rate (as notify reports
  it), the whole command's (list import, planning, render check included), CPU per message;
- the same commands from other checkouts (``--baseline-tree``, repeatable, e.g. ``git worktree
  add /tmp/base55 55c1261`` and ``git worktree add /tmp/base511 511ca99``): before and after in
  one run (signed only unless ``--baseline-modes signed,unsigned``);
- the naive script (../shared/bench/naive_sender.py), signed with dkimpy and unsigned;
- the pre-built ceilings, one process, ``--connections`` connections, the same 11 KB signed
  message every time: aiosmtplib's sendmail(), our SMTP session, and Postfix's C client
  ``smtp-source``;
- a CPU budget per signed message (µs per stage, one core, in-process micro-benchmarks) against
  the RSA-2048 floor, and what the send loop spends beyond the stages.

CPU per message counts every process of notify (its sending processes included), not the sink:
it does not depend on what else the machine runs, unlike the rates. Issue 15's target: >= 1,500
signed msg/s end to end (aim 3,000). Benchmarks stay out of CI.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench.common and notifier, from any folder

from bench.common import ROOT, SinkProcess, make_campaign_of, run_naive, run_notify, signed


def cpu_self() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


# ---- the pre-built ceilings (each in a process of its own: --ceiling KIND) -----------------


def ceiling(kind: str, port: int, count: int, connections: int) -> None:
    """Send ``count`` copies of one signed notice; print 'msg/s cpu_us'."""
    import aiosmtplib

    from bench.signing import typical_notice
    from notifier.models import Envelope
    from notifier.transports.smtp import SmtpTransport, parse_smtp_url

    message = typical_notice(signed=True)
    envelope = Envelope("bounces+abcdefgh@bounces.example.com", "ana.lopez@example.com")
    todo = iter(range(count))

    async def ours() -> None:
        transport = SmtpTransport(
            parse_smtp_url(f"smtp://127.0.0.1:{port}?tls=none"), connections=connections
        )
        await transport.open()

        async def worker() -> None:
            for _ in todo:
                outcome = await transport.send(envelope, message)
                assert outcome.accepted, outcome

        await asyncio.gather(*(worker() for _ in range(connections)))
        await transport.close()

    async def library() -> None:
        async def worker() -> None:
            client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, use_tls=False, start_tls=False)
            await client.connect()
            for _ in todo:
                await client.sendmail(envelope.mail_from, [envelope.rcpt_to], message)
            await client.quit()

        await asyncio.gather(*(worker() for _ in range(connections)))

    cpu0, start = cpu_self(), time.perf_counter()
    asyncio.run(ours() if kind == "session" else library())
    elapsed, cpu = time.perf_counter() - start, cpu_self() - cpu0
    print(f"{count / elapsed:.1f} {1e6 * cpu / count:.1f}")


def run_ceiling(kind: str, port: int, count: int, connections: int) -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--ceiling", kind, "--port", str(port), "--count", str(count),
         "--connections", str(connections)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout.split()  # fmt: skip
    return float(out[0]), float(out[1])


def smtp_source(port: int, count: int, connections: int, size: int) -> float:
    """Postfix's C client into the same sink: the wire's ceiling on this machine (msg/s)."""
    tool = Path("/usr/sbin/smtp-source")
    if not tool.exists():
        return float("nan")
    start = time.perf_counter()
    subprocess.run(
        [str(tool), "-s", str(connections), "-m", str(count), "-l", str(size), f"127.0.0.1:{port}"],
        check=True, capture_output=True,
    )  # fmt: skip
    return count / (time.perf_counter() - start)


# ---- the CPU budget of one signed message ---------------------------------------------------


def per_call(fn: object, seconds: float = 1.5) -> float:
    """CPU µs per call of ``fn`` on this core."""
    n, cpu0 = 0, time.process_time()
    while time.process_time() - cpu0 < seconds:
        fn()  # type: ignore[operator]
        n += 1
    return 1e6 * (time.process_time() - cpu0) / n


def budget() -> dict[str, float]:
    """µs of CPU per signed message for each stage, measured one by one on one core."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    from bench.signing import factory_and_claim
    from notifier.ledger import Result, SqliteLedger
    from notifier.models import State

    factory, claimed = factory_and_claim(signed=True)
    assert factory.signer is not None
    key = factory.signer.keys[0].key
    assert isinstance(key, rsa.RSAPrivateKey)
    view = claimed.recipient.template_view()
    rendered = factory.notice.render(view)
    built: Any = factory.template.build(
        rendered, to_address="a@example.com", to_display="A", message_id="<x@y>"
    )
    canonical = False
    if hasattr(factory.template, "build_message"):  # the builder says when the body is canonical
        built = factory.template.build_message(
            rendered, to_address="a@example.com", to_display="A", message_id="<x@y>"
        )
        built, canonical = built.data, built.canonical_body
    signer = factory.signer
    tokens = factory.tokens
    out = {
        "render (Jinja, CSS inlined once per variant)": per_call(lambda: factory.notice.render(view)),
        "MIME (skeleton once per notice)": per_call(
            lambda: factory.template.build(
                rendered, to_address="a@example.com", to_display="A", message_id="<x@y>"
            )
        ),
        "DKIM sign (hashes, canonicalisation, RSA)": per_call(
            (lambda: signer.sign(built, canonical_body=True)) if canonical else (lambda: signer.sign(built))
        ),
        "  of which the RSA-2048 floor": per_call(
            lambda: key.sign(b"x" * 64, padding.PKCS1v15(), hashes.SHA256())
        ),
        "tokens (Message-ID, VERP return path)": per_call(
            lambda: (
                tokens.message_id("n", "a@example.com", "example.com"),
                tokens.return_path(7, "b.example"),
            )
        ),
        "whole build (render+tokens+MIME+sign)": per_call(lambda: factory.prepare(claimed)),
    }
    with tempfile.TemporaryDirectory() as tmp:
        try:
            out["ledger (claim + record, per row)"] = ledger_cost(
                Path(tmp) / "l.sqlite", SqliteLedger, Result, State
            )
        except Exception as exc:  # the ledger's API moves under other work: say so, go on
            print(f"(ledger stage not measured: {exc})", file=sys.stderr)
    return out


def ledger_cost(path: Path, ledger_cls: type, result_cls: type, state: object, count: int = 6000) -> float:
    """CPU µs per row of claim + record in batches of 32, as the send loop does."""
    import uuid

    from notifier.models import ListRow, Recipient

    ledger = ledger_cls(path)
    rows = [
        ListRow(
            Recipient(f"p{i}@example.com", f"p{i}@example.com", "b.csv", i + 2, {"first_name": "P"}, False),
            None,
        )
        for i in range(count)
    ]
    summary = ledger.import_list("b.csv", uuid.uuid4().hex, rows)
    ledger.plan("bench", [summary.list_id], lambda view, where: True)
    run_id = ledger.start_run("bench", "all", "none", {})
    results: list[object] = []
    cpu0 = time.process_time()
    while claimed := ledger.claim(run_id, 32, time.time(), results):
        now = time.time()
        results = [
            result_cls(c.row, state.SENT, "accepted", 250, "2.0.0 Ok", "Q1", now, None, "<m@x>")  # type: ignore[attr-defined]
            for c in claimed
        ]
    ledger.record(run_id, results)
    spent = time.process_time() - cpu0
    ledger.close()
    return 1e6 * spent / count


# ---- the run ----------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--naive-count", type=int, default=800)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument(
        "--baseline-tree", type=Path, action="append", default=[],
        help="another checkout of notify, measured the same way (repeatable)",
    )  # fmt: skip
    ap.add_argument("--baseline-modes", default="signed", help="signed,unsigned: what the baselines send")
    ap.add_argument("--ceiling", choices=("library", "session"), help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.ceiling:
        ceiling(args.ceiling, args.port, args.count, args.connections)
        return
    from tests.authzone import Keys, zone
    from tests.dnsserver import DnsServer

    sink = SinkProcess()
    figures: dict[str, list[float]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        keys = Keys(tmp / "keys")
        dns = DnsServer(zone(keys)).start()
        try:
            trees = [("now", None)] + [(label_of(tree), tree) for tree in args.baseline_tree]
            args.labels = [label for label, _ in trees]
            pristine = {}
            for label, tree in trees:
                for mode in modes_of(label, args):
                    folder = tmp / f"p-{label}-{mode}"
                    pristine[label, mode] = make_campaign_of(
                        tree, folder, args.count, connections=args.connections
                    )
                signed(pristine[label, "signed"], keys.main, dns.nameserver)
            naive_dkim = ["--dkim-key", str(keys.main), "--dkim-domain", "example.com"]
            for run in range(1, args.runs + 1):
                print(f"run {run}/{args.runs} ...", file=sys.stderr, flush=True)
                figures["naive signed"].append(run_naive(sink.port, args.naive_count // 4, *naive_dkim))
                figures["naive unsigned"].append(run_naive(sink.port, args.naive_count))
                for kind in ("library", "session"):
                    rate, cpu = run_ceiling(kind, sink.port, args.count // 2, args.connections)
                    figures[f"ceiling {kind}"].append(rate)
                    figures[f"ceiling {kind} cpu"].append(cpu)
                figures["smtp-source"].append(smtp_source(sink.port, args.count, args.connections, 10000))
                for label, tree in trees:
                    for mode in modes_of(label, args):
                        folder = tmp / f"{label}-{mode}"
                        extra = [] if mode == "signed" else ["--force"]  # unsigned fails DKIM-1 by design
                        shutil.rmtree(folder, ignore_errors=True)
                        shutil.copytree(pristine[label, mode], folder)
                        sink0 = proc_cpu(sink.proc.pid)
                        full = run_notify(folder, sink.port, *extra, tree=tree)
                        figures[f"{label} {mode} sink cpu"].append(
                            1e6 * (proc_cpu(sink.proc.pid) - sink0) / args.count
                        )
                        if mode == "signed":
                            assert "Checks:     sender authentication and messages pass" in full.out, full.out
                        key = f"{label} {mode}"
                        figures[f"{key} loop"].append(full.loop_rate)
                        figures[f"{key} whole"].append(args.count / full.elapsed)
                        figures[f"{key} cpu"].append(1e6 * full.cpu / args.count)
                        # The same command sending one message: what the phases before the loop cost.
                        shutil.rmtree(folder)
                        shutil.copytree(pristine[label, mode], folder)
                        one = run_notify(folder, sink.port, *extra, "--limit", "1", tree=tree)
                        figures[f"{key} loop cpu"].append(1e6 * (full.cpu - one.cpu) / (args.count - 1))
                        shutil.rmtree(folder)
        finally:
            dns.stop()
            sink.stop()
    report(figures, args, budget(), sink.kind)


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a running process, from /proc (the sink's share)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return float("nan")
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def label_of(tree: Path) -> str:
    """``before <commit>`` for a baseline checkout."""
    commit = subprocess.run(
        ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return f"before {commit or tree.name}"


def modes_of(label: str, args: argparse.Namespace) -> tuple[str, ...]:
    if label == "now":
        return ("signed", "unsigned")
    return tuple(m for m in ("signed", "unsigned") if m in args.baseline_modes.split(","))


def report(
    figures: dict[str, list[float]], args: argparse.Namespace, stages: dict[str, float], sink: str
) -> None:
    med = {k: statistics.median(v) for k, v in figures.items()}
    cores = len(os.sched_getaffinity(0))
    print(f"\nnotify send into {sink} on 127.0.0.1, {args.count} recipients, {args.connections} connections, "
          f"{cores} cores; medians of {args.runs} runs (load from other work included)\n")  # fmt: skip
    naive_s, naive_u, lib = med["naive signed"], med["naive unsigned"], med["ceiling library"]
    print(f"{'':44}{'msg/s':>8}{'x naive':>9}{'x aiosmtplib':>14}{'CPU us/msg':>12}")

    def row(label: str, rate: float, naive: float, cpu: float | None = None) -> None:
        cpu_text = f"{cpu:12.0f}" if cpu is not None else ""
        print(f"{label:44}{rate:8.0f}{rate / naive:9.1f}{rate / lib:14.2f}{cpu_text}")

    labels = [(label, "notify send" if label == "now" else label) for label in args.labels]
    for mode, naive in (("signed", naive_s), ("unsigned", naive_u)):
        for label, name in labels:
            key = f"{label} {mode}"
            if f"{key} loop" not in med:
                continue
            row(f"{name}, {mode}: send loop", med[f"{key} loop"], naive, med[f"{key} loop cpu"])
            row(f"{name}, {mode}: whole command", med[f"{key} whole"], naive, med[f"{key} cpu"])
    row("naive script, signed (dkimpy)", naive_s, naive_s)
    row("naive script, unsigned", naive_u, naive_u)
    row("aiosmtplib sendmail(), pre-built, 1 process", lib, naive_s, med["ceiling library cpu"])
    row("our SMTP session, pre-built, 1 process", med["ceiling session"], naive_s, med["ceiling session cpu"])
    row("Postfix smtp-source (C), 10 KB", med["smtp-source"], naive_s)
    for label in args.labels[1:]:
        for mode in ("signed", "unsigned"):
            if f"{label} {mode} loop" not in med:
                continue
            loop = med[f"now {mode} loop"] / med[f"{label} {mode} loop"]
            whole = med[f"now {mode} whole"] / med[f"{label} {mode} whole"]
            cpu = med[f"now {mode} loop cpu"] / med[f"{label} {mode} loop cpu"]
            print(
                f"now / {label}, {mode}: send loop {loop:.2f}x, whole command {whole:.2f}x, "
                f"send-loop CPU per message {cpu:.2f}x"
            )

    rsa = stages.get("  of which the RSA-2048 floor", float("nan"))
    loop_cpu = med["now signed loop cpu"]
    print(f"\nCPU per signed message (µs, one core; RSA-2048 floor {rsa:.0f} µs)")
    print(f"{'stage':48}{'µs':>8}{'x RSA':>8}")
    for name, us in stages.items():
        print(f"{name:48}{us:8.0f}{us / rsa:8.2f}")
    smtp = med["ceiling session cpu"]
    print(f"{'SMTP (our session, pre-built)':48}{smtp:8.0f}{smtp / rsa:8.2f}")
    known = (
        stages["whole build (render+tokens+MIME+sign)"]
        + smtp
        + stages.get("ledger (claim + record, per row)", 0)
    )
    print(f"{'send loop, measured (all processes)':48}{loop_cpu:8.0f}{loop_cpu / rsa:8.2f}")
    rest = loop_cpu - known
    print(f"{'  of which pipes, event loops, scheduling, other':48}{rest:8.0f}{rest / rsa:8.2f}")
    sink_cpu = med["now signed sink cpu"]
    print(f"{'the sink (smtp-sink), per message':48}{sink_cpu:8.0f}{sink_cpu / rsa:8.2f}")
    for label in args.labels[1:]:
        if f"{label} signed loop cpu" in med:
            before = med[f"{label} signed loop cpu"]
            print(f"{f'send loop, {label} (all processes)':48}{before:8.0f}{before / rsa:8.2f}")
    # What the machine could do if nothing else ran and its cores scaled perfectly: an upper bound.
    ceiling = cores * 1e6 / (loop_cpu + sink_cpu)
    print(
        f"\nprojected idle rate, signed: <= {ceiling:.0f} msg/s ({cores} cores x 1e6 µs / "
        f"{loop_cpu + sink_cpu:.0f} µs per message, notify and sink); "
        f"1,500 msg/s needs <= {cores * 1e6 / 1500:.0f} µs, 3,000 needs <= {cores * 1e6 / 3000:.0f} µs"
    )


if __name__ == "__main__":
    main()
