"""Bounces recorded a batch per transaction give the answers recording them one by one gives:
the same events, bounced messages, suppressions, audit entries and report, soft streaks judged
in order inside a batch, and all or nothing of a batch when recording fails (issue 15)."""

from __future__ import annotations

import email
import mailbox
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from notifier.bounces import batch
from notifier.bounces.ingest import IngestPolicy, IngestReport, ingest, ingest_policy, messages_in, record
from notifier.bounces.parse import parse_bounce
from notifier.ledger import open_ledger
from notifier.settings import load
from notifier.tokens import Tokens

from .conftest import SMALL_LIST, Campaign
from .smtpsink import Sink
from .test_bounces import ARF, VACATION, _bounce_for
from .test_ledger_backends import (  # pg_database: a fixture, for the PostgreSQL runs
    pg_database,  # noqa: F401
    query,
)

DAY = "Tue, 01 Dec 2026"


def dated(raw: bytes, when: str) -> bytes:
    """``raw`` with a Date header (the report's own time, which soft streaks go by)."""
    return f"Date: {when}\r\n".encode() + raw


def soft(verp: str, address: str, when: str) -> bytes:
    return dated(_bounce_for(verp, address, "<x@y>", code="452 4.2.2 mailbox full"), when)


def delivered(verp: str, address: str, when: str) -> bytes:
    raw = _bounce_for(verp, address, "<x@y>", code="250 2.0.0 ok")
    return dated(raw.replace(b"Action: failed", b"Action: delivered"), when)


def sent(sink: Sink) -> dict[str, tuple[str, str]]:
    """recipient -> (VERP return path, Message-ID) of what the sink received."""
    return {
        r.rcpt_to: (r.mail_from, str(email.message_from_bytes(r.data)["Message-ID"])) for r in sink.received
    }


def mixed_mailbox(folder: Path, to: dict[str, tuple[str, str]]) -> None:
    """Every kind of report ingest tells apart, in an order that puts soft streaks, resets and
    repeats inside one batch and across batches."""
    ana, ben, chloe, dan = (
        to[a][0] for a in ("ana@example.com", "ben@example.org", "chloe@example.net", "dan@example.com")
    )
    hard = dated(_bounce_for(chloe, "chloe@example.net", "<x@y>"), f"{DAY} 07:00:00 +0000")
    box = mailbox.Maildir(folder, create=True)
    for raw in (
        soft(ana, "ana@example.com", f"{DAY} 08:00:00 +0000"),
        soft(ben, "ben@example.org", f"{DAY} 08:00:00 +0000"),
        hard,
        soft(ana, "ana@example.com", f"{DAY} 20:00:00 +0000"),
        soft(ben, "ben@example.org", f"{DAY} 21:00:00 +0000"),
        delivered(ben, "ben@example.org", f"{DAY} 22:00:00 +0000"),  # Ben's streak starts again
        soft(ana, "ana@example.com", "Wed, 02 Dec 2026 09:00:00 +0000"),  # Ana's third, a day on
        soft(ben, "ben@example.org", "Wed, 02 Dec 2026 09:00:00 +0000"),
        hard.replace(b"\r\n", b"\n"),  # the same bounce read from another store
        hard,  # and again
        soft(dan, "dan@example.com", f"{DAY} 08:00:00 +0000"),
        dated(_bounce_for("someone@example.com", "stranger@example.net", "<x@y>"), f"{DAY} 09:00:00 +0000"),
        dated(_bounce_for("someone@example.com", "ana@example.com", "<x@y>"), f"{DAY} 09:30:00 +0000"),
        dated(VACATION, f"{DAY} 10:00:00 +0000"),
        dated(
            ARF.replace(b"angry@example.org", b"ben@example.org").replace(
                b"<def.breach-notice@example.com>", to["ben@example.org"][1].encode()
            ),
            f"{DAY} 11:00:00 +0000",
        ),
    ):
        box.add(raw)


def ledger_state(campaign: Campaign) -> dict[str, list[tuple[Any, ...]]]:
    """Everything an ingest writes, without the moments it wrote them."""
    return {
        "events": query(
            campaign,
            "SELECT digest, source, kind, address, message, matched, reason, hard, event_at "
            "FROM bounce_events ORDER BY id",
        ),
        "messages": query(campaign, "SELECT id, state, reason FROM messages ORDER BY id"),
        "suppressions": query(campaign, "SELECT key, reason, source FROM suppressions ORDER BY key"),
        "audit": query(campaign, "SELECT details FROM audit WHERE action='suppress.add' ORDER BY seq"),
    }


def one_by_one(campaign: Campaign, folder: Path) -> IngestReport:
    """The Maildir recorded message after message, each in its own transaction (`record`)."""
    settings = load(campaign.config, environ=dict(os.environ))
    ledger = open_ledger(settings)
    try:
        tokens, report = Tokens(settings.secret or ledger.secret()), IngestReport()
        for label, message in messages_in(folder):
            raw = message.read_bytes() if isinstance(message, Path) else message
            record(ledger, tokens, raw, parse_bounce(raw), label, report, ingest_policy(settings))
        return report
    finally:
        ledger.close()


def batched(campaign: Campaign, folder: Path, processes: int = 1) -> IngestReport:
    settings = load(campaign.config, environ=dict(os.environ))
    ledger = open_ledger(settings)
    try:
        tokens = Tokens(settings.secret or ledger.secret())
        return ingest(ledger, tokens, [folder], ingest_policy(settings), processes)
    finally:
        ledger.close()


@pytest.fixture
def everyone(campaign: Campaign, sink: Sink) -> dict[str, tuple[str, str]]:
    """The campaign sent to all four people of the small list."""
    campaign.write_list(SMALL_LIST.replace("US-NY,\n", "US-NY,email\n"))
    campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    return sent(sink)


def test_a_maildir_recorded_in_batches_leaves_the_ledger_and_report_recording_one_by_one_leaves(
    campaign: Campaign, everyone: dict[str, tuple[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ingesting a Maildir of soft streaks, resets, repeats, hard bounces, strangers, forgeries,
    an auto-reply and a complaint in batches of three gives the same events (in the same
    order), message states, suppressions, audit entries and report as one transaction per
    message."""
    mixed_mailbox(tmp_path / "bounces", everyone)
    other = Campaign(tmp_path / "one-by-one", campaign.capsys)
    shutil.copytree(campaign.root, other.root)
    monkeypatch.setattr(batch, "BATCH", 3)
    got = batched(campaign, tmp_path / "bounces")
    want = one_by_one(other, tmp_path / "bounces")
    assert got == want
    assert got.suppressed == 3 and got.already_seen == 2  # Ana's streak, Chloé's hard bounce, Ben's complaint
    assert ledger_state(campaign) == ledger_state(other)


def test_the_same_answers_come_back_when_workers_read_and_parse(
    campaign: Campaign, everyone: dict[str, tuple[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the messages read and parsed in two worker processes, the ledger ends as recording
    them one by one here leaves it."""
    mixed_mailbox(tmp_path / "bounces", everyone)
    other = Campaign(tmp_path / "one-by-one", campaign.capsys)
    shutil.copytree(campaign.root, other.root)
    monkeypatch.setattr(batch, "BATCH", 4)
    monkeypatch.setattr("notifier.bounces.parallel.WINDOW", 5)
    assert batched(campaign, tmp_path / "bounces", processes=2) == one_by_one(other, tmp_path / "bounces")
    assert ledger_state(campaign) == ledger_state(other)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_three_soft_bounces_over_a_day_in_one_batch_suppress_and_a_delivery_between_resets(
    request: pytest.FixtureRequest,
    campaign: Campaign,
    sink: Sink,
    tmp_path: Path,
    backend: str,
) -> None:
    """Soft bounces of one person that all fall in the same batch are counted one after the
    other: three over a day suppress Ana; Ben's delivery report between his soft bounces
    starts his streak again, so he stays; nothing else is suppressed."""
    if backend == "postgresql":
        url = request.getfixturevalue("pg_database")
        campaign.edit_config('path = "ledger.sqlite"', f'url = "{url}"')
    campaign.write_list(SMALL_LIST.replace("US-NY,\n", "US-NY,email\n"))
    campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    to = sent(sink)
    ana, ben = to["ana@example.com"][0], to["ben@example.org"][0]
    box = mailbox.mbox(tmp_path / "bounces.mbox")  # an mbox keeps their order
    for raw in (
        soft(ana, "ana@example.com", f"{DAY} 08:00:00 +0000"),
        soft(ben, "ben@example.org", f"{DAY} 08:00:00 +0000"),
        soft(ana, "ana@example.com", f"{DAY} 20:00:00 +0000"),
        soft(ben, "ben@example.org", f"{DAY} 20:00:00 +0000"),
        delivered(ben, "ben@example.org", f"{DAY} 21:00:00 +0000"),
        soft(ana, "ana@example.com", "Wed, 02 Dec 2026 09:00:00 +0000"),
        soft(ben, "ben@example.org", "Wed, 02 Dec 2026 09:00:00 +0000"),
    ):
        box.add(raw)
    box.close()
    report = batched(campaign, tmp_path / "bounces.mbox")
    assert report.messages == 7 and report.suppressed == 1
    assert query(campaign, "SELECT key, reason FROM suppressions") == [("ana@example.com", "soft_bounces")]


def test_a_failure_while_recording_a_batch_leaves_none_of_it_and_the_next_ingest_records_it_all(
    campaign: Campaign, everyone: dict[str, tuple[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the shared suppression list cannot be written for the second address a batch
    suppresses, no event, state or suppression of that batch stays; run again, all of it is
    recorded, once."""
    mixed_mailbox(tmp_path / "bounces", everyone)
    calls: list[str] = []

    def failing_share(self: IngestPolicy, key: str, reason: str) -> None:
        calls.append(key)
        if len(calls) == 2:
            raise OSError("disk full")

    monkeypatch.setattr(IngestPolicy, "share", failing_share)
    with pytest.raises(OSError, match="disk full"):
        batched(campaign, tmp_path / "bounces")
    assert query(campaign, "SELECT count(*) FROM bounce_events") == [(0,)]
    assert query(campaign, "SELECT count(*) FROM suppressions") == [(0,)]
    assert query(campaign, "SELECT count(*) FROM messages WHERE state='bounced'") == [(0,)]
    report = batched(campaign, tmp_path / "bounces")
    assert report.messages == 15 and report.already_seen == 2 and report.suppressed == 3
    again = batched(campaign, tmp_path / "bounces")
    assert again.already_seen == 15 and again.suppressed == 0


def test_a_maildir_is_listed_in_the_order_and_under_the_labels_the_mailbox_module_gives(
    tmp_path: Path,
) -> None:
    """Messages in cur/ (with their ":2,S" flags) and new/ come out in mailbox.Maildir's order,
    labelled by folder and key, each with the file that holds it."""
    box = mailbox.Maildir(tmp_path / "box", create=True)
    for i in range(6):
        key = box.add(f"Subject: {i}\n\nbody {i}\n".encode())
        if i % 2:
            message = box[key]
            message.set_subdir("cur")
            message.set_flags("S")
            box[key] = message
    want = [(f"{tmp_path / 'box'}/{key}", box.get_bytes(key)) for key in box.iterkeys()]
    got = [
        (label, path.read_bytes()) for label, path in messages_in(tmp_path / "box") if isinstance(path, Path)
    ]
    assert got == want and len(got) == 6
