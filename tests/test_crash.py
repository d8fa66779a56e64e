"""A hard kill mid-run loses nobody: the next run finishes the work, and any duplicate is named."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import Campaign
from .smtpsink import Sink

IN_FLIGHT_WINDOW = 64  # claim batch + queue + connections, with room to spare


def _spawn(campaign: Campaign, url: str) -> subprocess.Popen[bytes]:
    # Two sending processes whatever the machine: the kill must stop them too.
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "notifier",
            "--config",
            str(campaign.config),
            "send",
            "--segment",
            "all",
            "--transport",
            url,
            "--yes",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "NOTIFY_SEND_PROCESSES": "2"},
    )


def _senders_of(campaign: Campaign) -> list[int]:
    """Processes still running for this campaign (the run's own and its sending processes)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if str(campaign.config).encode() in cmdline and b"send" in cmdline:
            found.append(int(proc.name))
    return found


@pytest.mark.slow
def test_kill_9_mid_run_then_resume(campaign: Campaign, sink: Sink) -> None:
    """kill -9 during a 3,000-recipient send with two sending processes: they stop with it,
    running again delivers to everyone at least once, duplicates stay within the in-flight
    window, and status names each possible duplicate."""
    people = [f"person{i}@example.com" for i in range(3000)]
    campaign.write_list(
        "email,first_name,exposed\n" + "".join(f"{p},P{i},email\n" for i, p in enumerate(people))
    )
    campaign.edit_config('rate = "2000/s"', 'rate = "1000/s"')
    proc = _spawn(campaign, sink.url)
    deadline = time.monotonic() + 60
    while len(sink.received) < 800 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    assert proc.poll() is None, "the sender finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    # The sending processes see their run die and stop at once: nothing more arrives.
    deadline = time.monotonic() + 10
    while _senders_of(campaign) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _senders_of(campaign) == []
    first_run = len(sink.received)
    time.sleep(0.5)
    assert len(sink.received) == first_run
    assert 0 < first_run < 3000

    result = campaign.notify("send", "--segment", "all", "--transport", sink.url, "--yes")
    assert result.code == 0, result.err
    assert "possibly duplicated" in result.out
    got = sink.by_recipient()
    assert set(got) == set(people)  # nobody forgotten
    twice = {p for p, n in got.items() if n > 1}
    assert len(twice) <= IN_FLIGHT_WINDOW
    status = json.loads(campaign.notify("status", "--json").out)
    flagged = status["notices"][0]["possibly_duplicated"]
    assert 0 < flagged["count"] <= IN_FLIGHT_WINDOW
    report = campaign.notify("report", "--possibly-duplicated", "--format", "json")
    named = {row["email"] for row in json.loads(report.out)}
    assert twice <= named  # every real duplicate is among those reported
    assert status["notices"][0]["counts"] == {"sent": 3000}


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_says_how_to_resume(campaign: Campaign, sink: Sink) -> None:
    """SIGINT: in-flight messages finish, nothing is left 'sending', and a rerun completes
    the list with no duplicate at all."""
    people = [f"person{i}@example.com" for i in range(2000)]
    campaign.write_list("email,exposed\n" + "".join(f"{p},email\n" for p in people))
    campaign.edit_config('rate = "2000/s"', 'rate = "500/s"')
    proc = _spawn(campaign, sink.url)
    deadline = time.monotonic() + 60
    while len(sink.received) < 300 and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    out, _err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert b"Run the same command again to resume" in out
    status = json.loads(campaign.notify("status", "--json").out)
    counts = status["notices"][0]["counts"]
    assert "sending" not in counts
    assert counts["sent"] == len(sink.received)
    campaign.notify("send", "--segment", "all", "--transport", sink.url, "--yes")
    assert sink.by_recipient() == dict.fromkeys(people, 1)
