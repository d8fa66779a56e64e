"""Bounce trust: a bounce changes a recipient's state or suppresses an address only when it is
tied to a message this campaign sent (its VERP token, provider message id or Message-ID);
several campaigns share one bounce mailbox safely; recording is all or nothing; and one bounce
read from two stores is one event."""

from __future__ import annotations

import contextlib
import email
import hashlib
import mailbox
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from notifier.ledger.sqlite import SqliteLedger

from .conftest import SMALL_LIST, Campaign
from .imapserver import USER, Dovecot
from .smtpsink import Sink
from .test_bounces import ARF, _bounce_for
from .test_ingest_sources import campaign_keyword, client, folder_state
from .test_ledger_backends import (  # pg_database: a fixture, for the PostgreSQL runs
    pg_database,  # noqa: F401
    query,
)

UNVERIFIED = "names an address we sent to, but carries none of our tokens; nothing changed"


def rows(campaign: Campaign, sql: str) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(campaign.root / "ledger.sqlite")
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def states(campaign: Campaign) -> dict[str, str]:
    return dict(
        rows(campaign, "SELECT r.email, m.state FROM messages m JOIN recipients r ON r.id=m.recipient_id")
    )


def suppressed(campaign: Campaign) -> dict[str, str]:
    return dict(rows(campaign, "SELECT key, reason FROM suppressions"))


def sent_by(sink: Sink, start: int = 0) -> dict[str, tuple[str, str]]:
    """recipient -> (VERP return path, Message-ID) of what the sink received from ``start`` on."""
    return {
        r.rcpt_to: (r.mail_from, str(email.message_from_bytes(r.data)["Message-ID"]))
        for r in sink.received[start:]
    }


def labelled(raw: bytes, label: str) -> bytes:
    return raw.replace(b"Subject: ", f"Subject: {label} ".encode(), 1)


@pytest.mark.parametrize("order", ["a-then-b", "b-then-a"])
def test_two_campaigns_sharing_one_imap_mailbox_each_record_exactly_their_own(
    campaign: Campaign, sink: Sink, imap: Dovecot, capsys: pytest.CaptureFixture[str], order: str
) -> None:
    """Two campaigns write to the same people and share one bounce mailbox: each, in either
    order, marks and suppresses exactly its own bounces (by VERP token or Message-ID), flags
    and moves only those, and a forged DSN naming one of campaign A's addresses with no token
    changes nothing and is reported as unverified."""
    campaign.write_list(SMALL_LIST.replace("US-NY,\n", "US-NY,email\n"))  # Dan is affected too
    other_root = campaign.root.parent / "campaign-b"
    shutil.copytree(campaign.root, other_root)
    other = Campaign(other_root, capsys)
    campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    a = sent_by(sink)
    other.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    b = sent_by(sink, len(a))
    assert (
        a.keys() == b.keys() == {"ana@example.com", "ben@example.org", "chloe@example.net", "dan@example.com"}
    )
    assert a["ana@example.com"][0] != b["ana@example.com"][0]

    c = client(imap)
    for raw, label in (
        (_bounce_for(a["ana@example.com"][0], "ana@example.com", "<x@y>"), "a-ana"),  # A's VERP
        # A's Message-ID, sent back to a plain address (no VERP): tied by Message-ID.
        (_bounce_for("security@example.com", "chloe@example.net", a["chloe@example.net"][1]), "a-chloe"),
        (_bounce_for(b["ben@example.org"][0], "ben@example.org", "<x@y>"), "b-ben"),  # B's VERP
        # Forged: names Dan, to whom both campaigns wrote, with a token neither key made.
        (
            _bounce_for("bounces+aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@example.com", "dan@example.com", "<x@y>"),
            "forged",
        ),
    ):
        c.append("INBOX", None, None, labelled(raw, label))
    c.logout()
    url = f"imaps://{USER}@127.0.0.1:{imap.port}/INBOX?move=Processed"

    for who in (campaign, other) if order == "a-then-b" else (other, campaign):
        result = who.notify("bounces", "ingest", url)
        if who is campaign:
            report_a = result

    assert {k for k, v in states(campaign).items() if v == "bounced"} == {
        "ana@example.com",
        "chloe@example.net",
    }
    assert suppressed(campaign) == {"ana@example.com": "user_unknown", "chloe@example.net": "user_unknown"}
    assert {k for k, v in states(other).items() if v == "bounced"} == {"ben@example.org"}
    assert suppressed(other) == {"ben@example.org": "user_unknown"}
    # Everything else A read is kept for the report, tied to no message (B's bounce for Ben only
    # when A read first: B moves its own out of the folder).
    untied = set(rows(campaign, "SELECT address, matched FROM bounce_events WHERE message IS NULL"))
    assert untied <= {("dan@example.com", "unverified"), ("ben@example.org", "unverified")}
    assert ("dan@example.com", "unverified") in untied
    unverified = [line for line in report_a.out.splitlines() if line.startswith("  unverified: ")]
    assert any(line.endswith(f"dan@example.com (bounce): {UNVERIFIED}") for line in unverified)
    assert report_a.code == 1  # the job ran, but someone should look at the unverified ones

    # Each campaign flagged and moved its own messages only; the forgery stays, unflagged.
    key_a, key_b = campaign_keyword(campaign), campaign_keyword(other)
    assert key_a != key_b
    moved_a = sorted(s.split()[1] for s, flag in folder_state(imap, "Processed", key_a) if flag)
    moved_b = sorted(s.split()[1] for s, flag in folder_state(imap, "Processed", key_b) if flag)
    assert (moved_a, moved_b) == (["a-ana", "a-chloe"], ["b-ben"])
    assert [(s.split()[1], f) for s, f in folder_state(imap, "INBOX", key_a)] == [("forged", False)]
    assert [(s.split()[1], f) for s, f in folder_state(imap, "INBOX", key_b)] == [("forged", False)]


class _FailsAt:
    """A ledger connection that fails when it reaches a statement containing ``statement`` (in
    either dialect): a crash between two steps of recording, inside the transaction."""

    def __init__(self, db: sqlite3.Connection, statement: str) -> None:
        self._db, self._statement = db, statement

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        if self._statement in sql:
            raise OSError("killed between two steps of recording")
        return self._db.execute(sql, params)

    def executemany(self, sql: str, rows: Any) -> Any:
        if self._statement in sql:  # a batch's writes (notify bounces ingest records in batches)
            raise OSError("killed between two steps of recording")
        return self._db.executemany(sql, rows)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, campaign: Campaign) -> Campaign:
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_database")
        campaign.edit_config('path = "ledger.sqlite"', f'url = "{url}"')
    return campaign


def ledger_rows(campaign: Campaign, sql: str) -> list[tuple[Any, ...]]:
    """What the campaign's database (SQLite file or PostgreSQL) holds, read past notify."""
    return query(campaign, sql)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE messages SET state='bounced'",  # after the event rows
        "INTO suppressions (key, reason, at, source) VALUES",  # after the state
        "INSERT INTO audit",  # after the suppression
    ],
)
def test_a_crash_while_recording_a_bounce_leaves_nothing_and_the_next_ingest_records_it_all(
    backend: Campaign, sink: Sink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, statement: str
) -> None:
    """Event, bounced state and suppression are one transaction (SQLite and PostgreSQL): a
    failure between any two of them leaves none, and reading the same mail again records all."""
    campaign = backend
    campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    ana = sent_by(sink)["ana@example.com"]
    box = mailbox.Maildir(tmp_path / "bounces", create=True)
    box.add(_bounce_for(ana[0], "ana@example.com", "<x@y>"))
    real_tx = SqliteLedger._tx

    @contextlib.contextmanager
    def failing_tx(self: SqliteLedger) -> Iterator[Any]:
        with real_tx(self) as db:
            yield _FailsAt(db, statement)

    monkeypatch.setattr(SqliteLedger, "_tx", failing_tx)
    crashed = campaign.notify("bounces", "ingest", str(tmp_path / "bounces"))
    assert crashed.code != 0
    monkeypatch.setattr(SqliteLedger, "_tx", real_tx)
    state = (
        "SELECT m.state FROM messages m JOIN recipients r ON r.id=m.recipient_id "
        "WHERE r.key='ana@example.com'"
    )
    assert ledger_rows(campaign, "SELECT count(*) FROM bounce_events") == [(0,)]
    assert ledger_rows(campaign, state) == [("sent",)]
    assert ledger_rows(campaign, "SELECT key, reason FROM suppressions") == []

    again = campaign.notify("bounces", "ingest", str(tmp_path / "bounces"))
    assert "0 seen before" in again.out and again.code == 0
    assert ledger_rows(campaign, state) == [("bounced",)]
    assert ledger_rows(campaign, "SELECT key, reason FROM suppressions") == [
        ("ana@example.com", "user_unknown")
    ]
    assert "ana@example.com" in campaign.notify("report", "--unreached").out


def test_one_bounce_read_from_the_maildir_and_over_imap_is_recorded_once(
    campaign: Campaign, sink: Sink, imap: Dovecot
) -> None:
    """Dovecot keeps the message with LF line ends on disk and serves it with CRLF over IMAP:
    the digest is taken over normalised line ends, so the second reading is "seen before"."""
    campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    ana = sent_by(sink)["ana@example.com"]
    c = client(imap)
    c.append("INBOX", None, None, _bounce_for(ana[0], "ana@example.com", "<x@y>"))
    c.logout()
    stored = [p for p in (imap.maildir / "cur").iterdir()] + [p for p in (imap.maildir / "new").iterdir()]
    assert len(stored) == 1 and b"\r\n" not in stored[0].read_bytes()  # the store really has LF

    from_disk = campaign.notify("bounces", "ingest", str(imap.maildir))
    assert "matched 1 by verp" in from_disk.out
    over_imap = campaign.notify("bounces", "ingest", f"imaps://{USER}@127.0.0.1:{imap.port}/INBOX")
    assert over_imap.out.startswith("Read 1 message(s): 1 seen before")
    assert rows(campaign, "SELECT count(*) FROM bounce_events") == [(1,)]


def test_a_bounce_recorded_by_an_earlier_version_is_still_seen_before(
    campaign: Campaign, sink: Sink, tmp_path: Path
) -> None:
    """Ledgers written before the digest was normalised hold the digest of the exact bytes:
    reading the same message again must not record (and count) it a second time."""
    campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    raw = _bounce_for(sent_by(sink)["ben@example.org"][0], "ben@example.org", "<x@y>", "450 4.2.2 full")
    (tmp_path / "old.eml").write_bytes(raw)
    db = sqlite3.connect(campaign.root / "ledger.sqlite")
    with db:
        db.execute(
            "INSERT INTO bounce_events (digest, at, source, kind, address, matched) "
            "VALUES (?, 0, 'old', 'bounce', 'ben@example.org', 'verp')",
            (hashlib.sha256(raw).hexdigest(),),
        )
    db.close()
    result = campaign.notify("bounces", "ingest", str(tmp_path / "old.eml"))
    assert result.out.startswith("Read 1 message(s): 1 seen before")


def test_reports_tied_to_none_of_our_messages_change_nothing(
    campaign: Campaign, sink: Sink, tmp_path: Path
) -> None:
    """Forged hard bounces and a forged complaint naming people we wrote to, soft bounces that
    would make a streak, and a hard bounce for a stranger: recorded, reported, and nobody's
    state or suppression changes."""
    campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    before = states(campaign)
    box = mailbox.Maildir(tmp_path / "bounces", create=True)
    box.add(_bounce_for("bounces+notatoken@example.com", "ana@example.com", "<forged@example.com>"))
    box.add(ARF.replace(b"angry@example.org", b"ben@example.org"))  # no token, not our Message-ID
    for day in ("01", "02", "03", "04"):
        box.add(
            _bounce_for("security@example.com", "chloe@example.net", "<x@y>", "452 4.2.2 full").replace(
                b"Subject:", f"Date: Tue, {day} Dec 2026 08:00:00 +0000\r\nSubject:".encode(), 1
            )
        )
    box.add(_bounce_for("security@example.com", "nobody@example.org", "<x@y>"))
    result = campaign.notify("bounces", "ingest", str(tmp_path / "bounces"))

    assert result.code == 1
    assert states(campaign) == before and suppressed(campaign) == {}
    assert "matched none" in result.out and "0 address(es) newly suppressed" in result.out
    assert result.out.count("  unverified: ") == 6 and result.out.count(UNVERIFIED) == 6
    assert "  unmatched: " in result.out and "nobody@example.org (bounce)" in result.out
    events = rows(campaign, "SELECT address, kind, matched, message FROM bounce_events ORDER BY address, id")
    assert {(a, k, m, msg) for a, k, m, msg in events} == {
        ("ana@example.com", "bounce", "unverified", None),
        ("ben@example.org", "complaint", "unverified", None),
        ("chloe@example.net", "bounce", "unverified", None),
        ("nobody@example.org", "bounce", "", None),
    }


def test_our_token_speaks_only_for_the_recipient_it_was_made_for(
    campaign: Campaign, sink: Sink, tmp_path: Path
) -> None:
    """Ana's VERP address is in her copy of the notice; a bounce she sends to it naming Ben
    marks and suppresses Ana (the token's recipient), never Ben."""
    campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    ana_verp = sent_by(sink)["ana@example.com"][0]
    (tmp_path / "b.eml").write_bytes(_bounce_for(ana_verp, "ben@example.org", "<x@y>"))
    campaign.notify("bounces", "ingest", str(tmp_path / "b.eml"))
    assert states(campaign)["ben@example.org"] == "sent"
    assert states(campaign)["ana@example.com"] == "bounced"
    assert suppressed(campaign) == {"ana@example.com": "user_unknown"}
