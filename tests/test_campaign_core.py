"""The run's shared parts: the Campaign builds every message (one MessageFactory), and signals
reach a run and a waiting worker through pipeline.ui."""

from __future__ import annotations

import ast
import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from notifier.errors import TransportConfigError
from notifier.lists import audience
from notifier.pipeline.campaign import Campaign, notice_context
from notifier.pipeline.ui import SilentUI, interrupt_on_signals, stop_on_signals
from notifier.render.notice import load_notice
from notifier.settings import load

from .conftest import Campaign as Fixture

PACKAGE = Path(__file__).resolve().parent.parent / "notifier"


def _factory_calls() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                f = node.func
                name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
                if name == "MessageFactory":
                    found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    return found


def test_a_message_factory_is_made_in_one_place() -> None:
    """Only pipeline/campaign.py constructs a MessageFactory: send, run-due, worker, the preview
    and `notify check` all build messages through Campaign.factory."""
    assert [c for c in _factory_calls() if not c.startswith("pipeline/campaign.py:")] == []


def test_the_check_sample_is_unsigned_and_creates_no_ledger(campaign: Fixture) -> None:
    """Campaign.sample builds the member's message as send would, unsigned, with a throw-away
    token key: a check never creates the campaign's ledger or key."""
    settings = load(campaign.config)
    built = Campaign.open(settings, segment="all")
    lists = audience.read_lists(settings.list_files)
    first = next(audience.members(lists, built.segment, None, notice=settings.notice, first_notice=""))
    sample = built.sample(first)
    assert b"Subject:" in sample and first.recipient.email.encode() in sample
    assert b"DKIM-Signature" not in sample
    assert not settings.ledger_path.exists()


def test_showing_a_message_needs_no_transport_but_opening_a_run_checks_it(campaign: Fixture) -> None:
    """A campaign around a compiled notice builds messages even with a broken transport URL (the
    preview's pages), while Campaign.open refuses that URL before anything is touched."""
    campaign.edit_config('url = "outbox:outbox"', 'url = "carrier-pigeon://loft"')
    settings = load(campaign.config)
    notice = load_notice(settings.templates_dir, settings.notice, notice_context(settings, settings.notice))
    lists = audience.read_lists(settings.list_files)
    built = Campaign.of(settings, notice)
    member = next(audience.members(lists, built.segment, None, notice=notice.name, first_notice=""))
    assert b"Subject:" in built.sample(member)
    with pytest.raises(TransportConfigError):
        Campaign.open(settings, segment="all")
    assert not settings.ledger_path.exists()


def _mine(signum: int, frame: Any) -> None:
    pass


def test_a_run_puts_back_the_signal_handlers_it_found() -> None:
    """When a run's handlers come off, the handler that was there before (a waiting worker's)
    is back, not the default that would kill the worker on its next SIGTERM."""
    before = signal.signal(signal.SIGTERM, _mine)
    try:

        async def main() -> None:
            remove = stop_on_signals(asyncio.get_running_loop(), asyncio.Event(), SilentUI())
            remove()

        asyncio.run(main())
        assert signal.getsignal(signal.SIGTERM) is _mine
    finally:
        signal.signal(signal.SIGTERM, before)


def test_between_runs_a_signal_stops_the_worker_and_its_handlers_go_back() -> None:
    """While a worker waits, SIGTERM sets its UI's ``interrupted``; afterwards the handlers that
    were there before are restored."""
    before = signal.getsignal(signal.SIGTERM)
    ui = SilentUI()
    with interrupt_on_signals(ui):
        os.kill(os.getpid(), signal.SIGTERM)
        assert ui.interrupted.wait(5)
    assert signal.getsignal(signal.SIGTERM) is before
