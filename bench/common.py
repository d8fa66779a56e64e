"""Helpers shared by the benchmarks: a sink process, a campaign folder, the naive baseline."""

from __future__ import annotations

import contextlib
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

ROOT = Path(__file__).resolve().parent.parent
# The naive baseline beside the project (NOTIFY_NAIVE_SENDER names it when the checkout is elsewhere).
NAIVE = Path(os.environ.get("NOTIFY_NAIVE_SENDER", ROOT.parent / "shared" / "bench" / "naive_sender.py"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


SMTP_SINK = Path("/usr/sbin/smtp-sink")


class SinkProcess:
    """A sink on 127.0.0.1 that accepts everything: Postfix's ``smtp-sink`` (C, cheap, offers
    PIPELINING) when installed, else our aiosmtpd one (bench/sink.py), which costs the machine
    far more CPU per message and so understates every sender."""

    def __init__(self, *, prefer_postfix: bool = True) -> None:
        self.port = free_port()
        self.kind = "smtp-sink" if prefer_postfix and SMTP_SINK.exists() else "aiosmtpd"
        self.proc: subprocess.Popen[str]
        if self.kind == "smtp-sink":
            # -u: the user to run as when started as root; 1024: the listen backlog.
            user = ["-u", "nobody"] if os.geteuid() == 0 else []
            self.proc = subprocess.Popen(
                [str(SMTP_SINK), *user, f"127.0.0.1:{self.port}", "1024"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                with socket.socket() as s, contextlib.suppress(OSError):
                    s.connect(("127.0.0.1", self.port))
                    break
                time.sleep(0.05)
            return
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


def children_cpu() -> float:
    """CPU seconds (user + system) of every finished child process so far, grandchildren
    included once their parent waited for them (notify's sending processes)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def make_campaign(
    folder: Path, count: int, *, rate: str = "100000/s", connections: int = 8, extra: str = ""
) -> Path:
    from notifier.campaign import CONFIG_TEMPLATE, builtin_templates

    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    shutil.copytree(builtin_templates(), folder / "templates")
    (folder / "lists").mkdir()
    with (folder / "lists" / "subscribers.csv").open("w", encoding="utf-8") as fh:
        write_list(count, fh)
    config = CONFIG_TEMPLATE.format(name="bench", templates="templates", list="lists/subscribers.csv")
    # Sign-off (issue 17) is a person's step, not the machine's: off for the benchmark's campaign.
    config = config.replace("require_approval = true", "require_approval = false")
    config = config.replace('rate = "50/s"', f'rate = "{rate}"').replace(
        "connections = 4", f"connections = {connections}"
    )
    (folder / "notify.toml").write_text(config + extra, encoding="utf-8")
    return folder


def make_campaign_of(tree: Path | None, folder: Path, count: int, *, connections: int = 8) -> Path:
    """:func:`make_campaign` with the config template and sample list of another checkout (its
    notify may not know keys added since), in a process of its own; this one's when None."""
    if tree is None:
        return make_campaign(folder, count, connections=connections)
    code = (
        f"import sys; sys.path.insert(1, {str(ROOT / 'bench')!r}); from pathlib import Path; "
        "from common import make_campaign; "
        f"make_campaign(Path({str(folder)!r}), {count}, connections={connections})"
    )
    subprocess.run(
        [sys.executable, "-c", code], check=True, cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)}
    )
    return folder


# Where the built-in channel rules let email go with only an address (issue 16): a list that all
# gets this notice by email, so every run sends the same COUNT messages.
_EMAIL_PLACES = {"US": "US-FL", "CA": "CA-ON", "AU": "AU-NSW"}


def write_list(count: int, out: TextIO) -> None:
    """The sample list (the same names, data categories and size of message), in English and
    in places where email needs no consent column: a throughput workload, not a legal one."""
    import csv

    from notifier.lists.samplelist import COLUMNS, rows

    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows(count):
        country = row.get("country", "")
        if country in _EMAIL_PLACES:
            row["region"] = _EMAIL_PLACES[country]
        row["locale"] = f"en-{country or 'GB'}"
        writer.writerow(row)


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
    folder: Path,
    transport: str,
    *extra: str,
    program: tuple[str, ...] = (sys.executable, "-m", "notifier"),
    tree: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `notify send --segment all --yes` for the campaign in ``folder``; exit on failure.

    ``tree``: run the notify of another checkout (e.g. a worktree of an older commit)."""
    environ = {**os.environ, **(env or {})}
    # This checkout's notify unless another is named, whatever is installed and wherever we run.
    environ["PYTHONPATH"] = str(tree if tree is not None else ROOT)
    proc = subprocess.run(
        [*program, "--config", str(folder / "notify.toml"), "send", "--segment", "all",
         "--transport", transport, "--yes", *extra],
        capture_output=True, text=True, env=environ, check=False, cwd=tree,
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


@dataclass(frozen=True)
class NotifyRun:
    elapsed: float  # seconds, the whole command
    loop_rate: float  # attempts per second of the send loop, as notify reports it
    cpu: float  # CPU seconds of the whole command, its sending processes included
    out: str


def run_notify(
    folder: Path, port: int, *extra: str, tree: Path | None = None, env: dict[str, str] | None = None
) -> NotifyRun:
    """Time one `notify send` into the sink on ``port``."""
    cpu0 = children_cpu()
    start = time.perf_counter()
    proc = notify_send(folder, f"smtp://127.0.0.1:{port}?tls=none", *extra, tree=tree, env=env)
    elapsed = time.perf_counter() - start
    m = re.search(r"finished: (\d+) sent.*\((\d+) attempts/s\)", proc.stdout)
    assert m, proc.stdout
    return NotifyRun(elapsed, float(m.group(2)), children_cpu() - cpu0, proc.stdout)


def parse_cpu_per_message(samples: list[bytes], repeat: int) -> float:
    """CPU µs one ``parse_bounce`` takes, over ``repeat`` passes of ``samples``, its phrase
    answers remembered from no earlier run."""
    from notifier.bounces.parse import parse_bounce
    from notifier.bounces.reasons import said_cache_clear

    said_cache_clear()
    start = time.process_time()
    for _ in range(repeat):
        for raw in samples:
            parse_bounce(raw)
    return (time.process_time() - start) / (repeat * len(samples)) * 1e6
