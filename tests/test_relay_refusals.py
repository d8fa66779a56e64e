"""Refusals that are about us, not the recipient, against a real SMTP server on 127.0.0.1: a
filter's "user unknown" after DATA, a 421, a relay that refuses everyone, a reply lost after the
message went out."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from notifier.errors import RelayRefused
from notifier.pipeline import deliver as pipeline
from notifier.pipeline.relay import STOP_AFTER
from notifier.transports import MemoryTransport

from .conftest import Campaign
from .smtpsink import Fault, Sink
from .test_pipeline import FAST, setup

BLOCKED = "554 5.7.1 <{rcpt}>: Service unavailable; client host blocked"


def rows(c: Campaign, sql: str, *args: object) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(c.root / "ledger.sqlite")
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def message(c: Campaign, email: str) -> tuple[Any, ...]:
    """(state, reason, attempts, possibly_duplicated) of ``email``'s message."""
    return rows(
        c,
        "SELECT m.state, m.reason, m.attempts, m.possibly_duplicated FROM messages m "
        "JOIN recipients r ON r.id=m.recipient_id WHERE r.email=?",
        email,
    )[0]


def people_list(c: Campaign, n: int) -> list[str]:
    people = [f"p{i:03d}@example.com" for i in range(n)]
    c.write_list("email,first_name,exposed\n" + "".join(f"{p},P{i},email\n" for i, p in enumerate(people)))
    return people


def test_user_unknown_after_data_is_a_content_refusal_that_never_suppresses(
    campaign: Campaign, sink: Sink
) -> None:
    """'550 5.1.1 user unknown' in answer to the message (after DATA) is recorded as `filtered`,
    and the address stays off the suppression list."""
    sink.fault("ana@example.com", Fault("data", "550 5.1.1 user unknown"))
    campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    state, reason, _, _ = message(campaign, "ana@example.com")
    assert (state, reason) == ("failed", "filtered")
    assert rows(campaign, "SELECT key FROM suppressions") == []


def test_a_421_is_deferred_then_delivered_and_never_called_an_address_problem(
    campaign: Campaign, sink: Sink
) -> None:
    """'421 4.3.2 shutting down' then success: one copy delivered on the retry, the 421 attempt
    recorded as temporary with a reason about the server, nobody suppressed."""
    sink.fault("ana@example.com", Fault("rcpt", "421 4.3.2 Service shutting down", hang_up=True))
    result = campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    assert result.code == 0, result.out + result.err
    assert message(campaign, "ana@example.com")[:3] == ("sent", None, 2)
    first = rows(
        campaign,
        "SELECT a.verdict, a.code, a.reason FROM attempts a JOIN messages m ON m.id=a.message "
        "JOIN recipients r ON r.id=m.recipient_id WHERE r.email='ana@example.com' ORDER BY a.id",
    )[0]
    assert first == ("temporary", 421, "system")
    assert sink.by_recipient()["ana@example.com"] == 1
    assert rows(campaign, "SELECT key FROM suppressions") == []


def test_a_relay_that_refuses_everyone_stops_the_run_and_fails_nobody(campaign: Campaign, sink: Sink) -> None:
    """'554 5.7.1 ... client host blocked' to every recipient: the run stops with exit 1 and says
    it is our reputation or configuration, with the reply; nobody is failed or suppressed; the
    next run, once the relay accepts again, sends to everyone exactly once."""
    people = people_list(campaign, 300)
    sink.handler.refuse_all = BLOCKED
    result = campaign.notify("send", "--segment", "all", "--transport", sink.url, "--yes")
    assert result.code == 1
    assert "reputation or configuration" in result.err
    assert "client host blocked" in result.err and "blocklist" in result.err
    assert not re.search(r"p\d{3}@", result.err + result.out)  # no recipient's address printed
    states: dict[str, int] = dict(rows(campaign, "SELECT state, count(*) FROM messages GROUP BY state"))
    assert set(states) <= {"pending", "deferred"}, states
    assert sum(states.values()) == 300
    # Stopped at the threshold, give or take what the sending processes already had on the wire:
    # the refused ones are recorded as attempts, deferred and due now; most were never tried.
    refused = rows(campaign, "SELECT count(*) FROM attempts WHERE code=554")[0][0]
    assert STOP_AFTER <= refused < 150
    assert rows(campaign, "SELECT key FROM suppressions") == []
    assert rows(campaign, "SELECT status FROM runs") == [("stopped",)]

    sink.handler.refuse_all = ""
    again = campaign.notify("send", "--segment", "all", "--transport", sink.url, "--yes")
    assert again.code == 0, again.out + again.err
    assert sink.by_recipient() == {p: 1 for p in people}


def test_a_short_list_refused_as_a_whole_also_stops(campaign: Campaign, sink: Sink) -> None:
    """Fewer recipients than the threshold, every one refused alike: the same stop, nobody failed."""
    sink.handler.refuse_all = BLOCKED
    result = campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    assert result.code == 1 and "reputation or configuration" in result.err
    assert {s for (s,) in rows(campaign, "SELECT state FROM messages")} <= {"pending", "deferred"}


def test_refusals_about_us_mixed_with_acceptances_fail_only_those_recipients(tmp_path: Path) -> None:
    """A receiver that blocks us while others accept: its recipients fail (not suppressed) and the
    run goes on; no relay-wide stop."""
    ledger, factory, run_id = setup(tmp_path, 60)
    refused = {f"p{i}@example.com" for i in range(0, 60, 2)}
    mem = MemoryTransport(replies={p: [(554, "5.7.1 client host blocked")] for p in refused})
    report = asyncio.run(
        pipeline.deliver(
            ledger=ledger, factory=factory, transport=mem, throttle=FAST, run_id=run_id, stop=asyncio.Event()
        )
    )
    assert (report.sent, report.failed, report.returned) == (30, 30, 0)
    assert ledger.suppressions() == []


def test_the_same_refusal_twenty_times_in_a_row_stops_even_after_acceptances(tmp_path: Path) -> None:
    """Accepted at first, then refused alike 20 times in a row: the stop comes at the 20th, and
    those 20 go back to the queue (deferred, due now) instead of failing."""
    ledger, factory, run_id = setup(tmp_path, 60)
    mem = MemoryTransport(
        replies={f"p{i}@example.com": [(550, "5.7.1 blocked using Spamhaus")] for i in range(10, 60)}
    )
    with pytest.raises(RelayRefused) as caught:
        asyncio.run(
            pipeline.deliver(
                ledger=ledger,
                factory=factory,
                transport=mem,
                throttle=FAST,
                run_id=run_id,
                stop=asyncio.Event(),
            )
        )
    assert "550 5.7.1 blocked using Spamhaus" in str(caught.value)
    states = ledger.counts("breach-notice")
    assert states.get("failed", 0) == 0
    assert states["sent"] == 10 and states["deferred"] == STOP_AFTER


def test_a_reply_lost_after_the_message_went_out_flags_the_resend(campaign: Campaign, sink: Sink) -> None:
    """The server queues Ana's message, then the connection drops before its reply: the resend is
    recorded 'possibly duplicated', and `notify status` and `report --possibly-duplicated` name her."""
    sink.fault("ana@example.com", Fault("data", "", hang_up=True, keep=True))
    campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    assert sink.by_recipient()["ana@example.com"] == 2  # she really has two copies
    assert message(campaign, "ana@example.com")[0] == "sent"
    assert message(campaign, "ana@example.com")[3] == 1
    assert message(campaign, "ben@example.org")[3] == 0
    status = json.loads(campaign.notify("status", "--json").out)
    assert status["notices"][0]["possibly_duplicated"] == {"count": 1, "recipients": ["ana@example.com"]}
    assert "possibly duplicated: 1" in campaign.notify("status").out
    report = json.loads(campaign.notify("report", "--possibly-duplicated", "--format", "json").out)
    assert [r["email"] for r in report] == ["ana@example.com"]
