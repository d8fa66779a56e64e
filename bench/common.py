"""Helpers shared by the benchmarks: a sink process, a campaign folder, the naive baseline."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAIVE = ROOT.parent / "shared" / "bench" / "naive_sender.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class SinkProcess:
    def __init__(self) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "sink.py"), str(self.port)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.proc.stdout.readline()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def make_campaign(
    folder: Path, count: int, *, rate: str = "100000/s", connections: int = 8, extra: str = ""
) -> Path:
    from notifier.campaign import CONFIG_TEMPLATE, builtin_templates
    from notifier.lists.samplelist import write_csv

    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    shutil.copytree(builtin_templates(), folder / "templates")
    (folder / "lists").mkdir()
    with (folder / "lists" / "subscribers.csv").open("w", encoding="utf-8") as fh:
        write_csv(count, fh)
    config = CONFIG_TEMPLATE.format(name="bench", templates="templates", list="lists/subscribers.csv")
    config = config.replace('rate = "50/s"', f'rate = "{rate}"').replace(
        "connections = 4", f"connections = {connections}"
    )
    (folder / "notify.toml").write_text(config + extra, encoding="utf-8")
    return folder


def run_naive(port: int, count: int, *extra: str) -> float:
    """Messages per second of the naive baseline against the sink."""
    if not NAIVE.exists():
        raise SystemExit(f"baseline not found at {NAIVE}")
    out = subprocess.run(
        [sys.executable, str(NAIVE), "--count", str(count), "--port", str(port), *extra],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    m = re.search(r"naive: (\d+) msg/s", out)
    assert m, out
    return float(m.group(1))


def notify_send(
    folder: Path, transport: str, *extra: str, program: tuple[str, ...] = (sys.executable, "-m", "notifier")
) -> subprocess.CompletedProcess[str]:
    """Run `notify send --segment all --yes` for the campaign in ``folder``; exit on failure."""
    proc = subprocess.run(
        [*program, "--config", str(folder / "notify.toml"), "send", "--segment", "all",
         "--transport", transport, "--yes", *extra],
        capture_output=True, text=True, env={**os.environ}, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(proc.stdout + proc.stderr)
    return proc


def signed(folder: Path, key: Path, nameserver: str) -> None:
    """Make the campaign DKIM-sign with ``key`` and resolve through ``nameserver``."""
    shutil.copy(key, folder / "dkim.pem")
    (folder / "dkim.pem").chmod(0o600)
    with (folder / "notify.toml").open("a", encoding="utf-8") as fh:
        fh.write(
            f'\n[dns]\nnameservers = ["{nameserver}"]\ntimeout = 1\n'
            '\n[dkim]\ndomain = "example.com"\nselector = "s1"\nkey = "dkim.pem"\n'
        )


def run_notify(folder: Path, port: int, *extra: str) -> tuple[float, float, str]:
    """(elapsed seconds of the whole command, attempts per second of the send loop, output)."""
    start = time.perf_counter()
    proc = notify_send(folder, f"smtp://127.0.0.1:{port}?tls=none", *extra)
    elapsed = time.perf_counter() - start
    m = re.search(r"finished: (\d+) sent.*\((\d+) attempts/s\)", proc.stdout)
    assert m, proc.stdout
    return elapsed, float(m.group(2)), proc.stdout
