"""notify send with several sending processes: everyone once, and the throttle held across them."""

from __future__ import annotations

import sqlite3

import pytest

from notifier.pipeline.workers import shares

from .conftest import Campaign
from .smtpsink import Sink


@pytest.fixture(autouse=True)
def two_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two sending processes whatever the machine's core count."""
    monkeypatch.setenv("NOTIFY_SEND_PROCESSES", "2")


def people(n: int, domain: str = "example.com") -> list[str]:
    return [f"p{i}@{domain}" for i in range(n)]


def write(campaign: Campaign, addresses: list[str]) -> None:
    campaign.write_list("email,first_name,exposed\n" + "".join(f"{a},P,email\n" for a in addresses))


def test_the_connection_budget_is_divided_among_processes() -> None:
    """[throttle] connections is the total over all processes, never more, each at least one."""
    assert shares(8, 2) == [4, 4]
    assert shares(5, 2) == [3, 2]
    assert shares(1, 2) == [1]
    assert sum(shares(7, 3)) == 7


def test_two_processes_send_everyone_exactly_once_and_record_each_attempt(
    campaign: Campaign, sink: Sink
) -> None:
    """Every recipient receives one message, and the ledger has one 'sent' attempt for each."""
    everyone = people(300)
    write(campaign, everyone)
    result = campaign.notify("send", "--segment", "all", "--transport", sink.url, "--yes")
    assert result.code == 0, result.err
    assert sink.by_recipient() == dict.fromkeys(everyone, 1)
    db = sqlite3.connect(campaign.root / "ledger.sqlite")
    assert db.execute("SELECT count(*), count(DISTINCT message) FROM attempts").fetchone() == (300, 300)
    assert db.execute("SELECT DISTINCT state FROM messages").fetchall() == [("sent",)]


def test_the_campaign_rate_holds_over_all_processes(campaign: Campaign, sink: Sink) -> None:
    """rate = 40/s with two processes: 60 messages take at least ~1.4 s, not half of it."""
    write(campaign, people(60))
    campaign.edit_config('rate = "2000/s"', 'rate = "40/s"')
    assert campaign.notify("send", "--segment", "all", "--transport", sink.url, "--yes").code == 0
    times = sorted(r.at for r in sink.received)
    assert len(times) == 60
    assert times[-1] - times[0] >= (60 - 2) / 40 * 0.9  # each process may start with one token


def test_a_domain_limit_holds_over_all_processes(campaign: Campaign, sink: Sink) -> None:
    """A domain limited to 10/s gets no more than that from both processes together, while the
    other domain is not slowed down by it."""
    slow, fast = people(16, "example.org"), people(16, "example.com")
    write(campaign, [a for pair in zip(slow, fast, strict=True) for a in pair])
    campaign.edit_config("connections = 4", 'connections = 4\ndomains = { "example.org" = "10/s" }')
    assert campaign.notify("send", "--segment", "all", "--transport", sink.url, "--yes").code == 0
    at = {r.rcpt_to: r.at for r in sink.received}
    slow_times = sorted(at[a] for a in slow)
    fast_times = sorted(at[a] for a in fast)
    assert slow_times[-1] - slow_times[0] >= (16 - 1) / 10 * 0.9
    assert fast_times[-1] - fast_times[0] < slow_times[-1] - slow_times[0]


def test_a_bad_process_count_is_a_clear_error(
    campaign: Campaign, sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NOTIFY_SEND_PROCESSES that is not a number stops the run with what to do; nothing is sent."""
    monkeypatch.setenv("NOTIFY_SEND_PROCESSES", "two")
    result = campaign.notify("send", "--segment", "all", "--transport", sink.url, "--yes")
    assert result.code == 2
    assert "NOTIFY_SEND_PROCESSES" in result.err
    assert sink.received == []
