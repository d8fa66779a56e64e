"""The delivery loop with an in-memory transport: states, retries and fatal errors."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from notifier.campaign import builtin_templates
from notifier.errors import TransportUnavailable
from notifier.ledger import Claimed, SqliteLedger
from notifier.lists.segments import resolve
from notifier.models import Envelope, Outcome, Recipient, State, Verdict
from notifier.pipeline import deliver as pipeline
from notifier.pipeline.build import MessageFactory
from notifier.pipeline.record import RunReport, next_state
from notifier.pipeline.stages import import_lists, plan
from notifier.render.notice import load_notice
from notifier.settings import Sender, Throttle
from notifier.tokens import Tokens
from notifier.transports import MemoryTransport

FACTS = {
    "org": {"name": "Ex", "legal_name": "Ex Ltd", "website": "https://ex.example"},
    "incident": {
        "reference": "R1",
        "occurred": dt.date(2026, 11, 1),
        "discovered": dt.datetime(2026, 11, 2, tzinfo=dt.UTC),
        "what_happened": "x",
        "likely_consequences": ["y"],
        "what_we_are_doing": ["z"],
        "what_you_can_do": ["w"],
        "law_enforcement_delay": False,
    },
    "contact": {"email": "c@ex.example"},
    "dpo": {"name": "D", "email": "d@ex.example"},
    "categories": {},
    "notice": {"name": "breach-notice", "date": dt.date(2026, 11, 3), "reference": "R1"},
}
SENDER = Sender("sec@ex.example", "Ex Security", "", "bounces.ex.example")
FAST = Throttle(rate=1e6, retry_base=0.01, retry_max=0.05, linger=5.0)


def setup(tmp_path: Path, n: int) -> tuple[SqliteLedger, MessageFactory, int]:
    lst = tmp_path / "l.csv"
    lst.write_text(
        "email,exposed\n" + "".join(f"p{i}@example.com,email\n" for i in range(n)), encoding="utf-8"
    )
    ledger = SqliteLedger(tmp_path / "ledger.sqlite")
    imports = import_lists(ledger, [lst])
    plan(ledger, "breach-notice", imports, resolve("all", {}), resend=False)
    notice = load_notice(builtin_templates(), "breach-notice", FACTS)
    factory = MessageFactory(notice, SENDER, Tokens(b"k" * 32))
    run_id = ledger.start_run("breach-notice", "all", "memory", {})
    return ledger, factory, run_id


def deliver(
    ledger: SqliteLedger,
    factory: MessageFactory,
    run_id: int,
    transport: object,
    throttle: Throttle = FAST,
    limit: int | None = None,
) -> RunReport:
    return asyncio.run(
        pipeline.deliver(
            ledger=ledger,
            factory=factory,
            transport=transport,  # type: ignore[arg-type]
            throttle=throttle,
            run_id=run_id,
            stop=asyncio.Event(),
            limit=limit,
        )
    )


def test_temporary_failures_are_retried_in_the_same_run(tmp_path: Path) -> None:
    ledger, factory, run_id = setup(tmp_path, 5)
    mem = MemoryTransport(replies={"p1@example.com": [(451, "4.3.0 later"), (421, "4.3.2 busy")]})
    report = deliver(ledger, factory, run_id, mem)
    assert report.sent == 5 and report.attempts == 7
    assert ledger.counts("breach-notice") == {"sent": 5}


def test_deferred_beyond_linger_end_the_run_and_wait(tmp_path: Path) -> None:
    """A retry due later than `linger` is left deferred with its time, and the run ends."""
    ledger, factory, run_id = setup(tmp_path, 2)
    mem = MemoryTransport(replies={"p0@example.com": [(451, "4.3.0 later")]})
    report = deliver(ledger, factory, run_id, mem, throttle=Throttle(rate=1e6, retry_base=600, linger=1))
    assert report.sent == 1 and report.deferred == 1
    assert report.next_retry_at is not None
    assert ledger.counts("breach-notice") == {"sent": 1, "deferred": 1}


class DiesOnThird(MemoryTransport):
    async def send(self, envelope: Envelope, data: bytes) -> Outcome:
        if len(self.sent) == 2:
            raise TransportUnavailable("the relay refused our login")
        return await super().send(envelope, data)


def test_a_transport_that_dies_stops_the_run_and_loses_nothing(tmp_path: Path) -> None:
    """The error surfaces, the sent ones are recorded, and nothing is left 'sending'."""
    ledger, factory, run_id = setup(tmp_path, 40)
    with pytest.raises(TransportUnavailable):
        deliver(ledger, factory, run_id, DiesOnThird())
    counts = ledger.counts("breach-notice")
    assert counts["sent"] == 2 and counts.get("sending", 0) == 0 and counts["pending"] == 38


def _claimed(attempts: int, first: float | None) -> Claimed:
    return Claimed(1, Recipient("a@x.example", "a@x.example", "l", 2, {}), attempts, first, False)


@pytest.mark.parametrize(
    ("verdict", "code", "expected"),
    [
        (Verdict.ACCEPTED, 250, State.SENT),
        (Verdict.PERMANENT, 550, State.FAILED),
        (Verdict.TEMPORARY, 451, State.DEFERRED),
        (Verdict.TEMPORARY, None, State.DEFERRED),
    ],
)
def test_next_state(verdict: Verdict, code: int | None, expected: State) -> None:
    state, next_at, _ = next_state(Outcome(verdict, code, "t"), _claimed(0, None), Throttle(), now=100.0)
    assert state is expected
    assert (next_at is not None) == (expected is State.DEFERRED)


def test_temporary_failure_after_the_window_is_final() -> None:
    t = Throttle(retry_window=3600)
    state, _, text = next_state(
        Outcome(Verdict.TEMPORARY, 451, "4.7.1 greylisted"), _claimed(9, 0.0), t, now=3600.0
    )
    assert state is State.FAILED and "gave up after retrying for 1 h" in text
