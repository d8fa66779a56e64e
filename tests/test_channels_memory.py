"""The send plan's channel gate holds counts and one batch of decisions, never the whole list
(issue 15 must-have 3: memory flat in list size; issue 16's decisions recorded as before)."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from notifier.channels.gate import ChannelGate
from notifier.channels.policy import ChannelPolicy
from notifier.channels.rules import load_channel_rules
from notifier.ledger import SqliteLedger
from notifier.ledger.base import ChannelRow
from notifier.lists.recipients import dedupe_key, read_list
from notifier.lists.segments import resolve
from notifier.pipeline.stages import plan

PLACES = (("US", "US-NY"), ("US", "US-TX"), ("DE", ""), ("US", "US-CA"))


def policy() -> ChannelPolicy:
    return ChannelPolicy(load_channel_rules(), True, frozenset({"email"}), 1.0)


def views(n: int) -> Iterator[dict[str, Any]]:
    for i in range(n):
        country, region = PLACES[i % len(PLACES)]
        yield {
            "email": f"person.{i}@example.com",
            "country": country,
            "region": region,
            "exposed": ["email", "name"],
            "consent": "2024-01-01" if i % 3 else "",
            "consent_scope": "esign" if i % 3 else "",
        }


def gate_peak(n: int) -> int:
    """Peak bytes traced while ``n`` people pass the gate (decisions go to a sink that keeps none)."""
    gate = ChannelGate(policy(), key=dedupe_key, batch=1000)
    gate.record_into(lambda rows: len(rows))
    admit = gate.include(None)
    tracemalloc.start()
    try:
        for view in views(n):
            admit(view, "list.csv:1")
        gate.flush()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_gates_memory_does_not_grow_with_the_list() -> None:
    """Ten times the people through the channel gate take about the same peak memory."""
    small, large = gate_peak(2000), gate_peak(20000)
    assert large < 1.5 * small, (small, large)


def test_decisions_are_recorded_a_batch_at_a_time_while_the_plan_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 12-person plan with batches of 5 records 5, 5, then 2 decisions, and the ledger holds all 12."""
    lst = tmp_path / "list.csv"
    lst.write_text(
        "id,email,country,region,exposed,consent,consent_scope\n"
        + "".join(
            f"P{i},p{i}@example.com,US,US-NY,email,{consent}\n"
            for i, consent in enumerate([",", "2024-01-01,express"] * 6)
        ),
        encoding="utf-8",
    )
    ledger = SqliteLedger(tmp_path / "ledger.sqlite")
    imported = ledger.import_list(str(lst), "x", read_list(lst))
    sizes: list[int] = []
    record = ledger.record_channels

    def spy(notice: str, rows: list[ChannelRow]) -> int:
        sizes.append(len(rows))
        return record(notice, rows)

    monkeypatch.setattr(ledger, "record_channels", spy)
    gate = ChannelGate(policy(), key=dedupe_key, batch=5)
    summary = plan(ledger, "n", [imported], resolve("affected", {"affected": "recipient.exposed"}),
                   resend=False, channels=gate)  # fmt: skip
    stored = {c.channel: c.people for c in ledger.channel_counts("n") if c.people}
    ledger.close()
    assert sizes == [5, 5, 2]
    assert stored == {"email": 6, "none-possible": 6} == dict(gate.by_channel)
    assert summary.targets == 6
