"""Restoring trust: follow-up notices on a schedule (injected clock, windows across time zones,
a missed grace period), a real worker process, one-click unsubscribe over real HTTP, and the
hash-chained audit trail."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import io
import json
import re
import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from notifier.bounces.sns import SnsVerifier
from notifier.followups.schedule import Schedule, decide, run_due, schedules
from notifier.followups.windows import parse_window
from notifier.ledger import SqliteLedger
from notifier.settings import load

from .conftest import Campaign
from .servehelp import RunningServe
from .smtpsink import Sink

FOLLOW_UP_FACTS = """
[serve]
public_url = "https://notify.example.com"

[changes]
credentials_reset = "We reset every password and access key to the email platform."
two_factor = "Two-step sign-in is now required for every staff account."

[investigation]
findings = ["The attacker used one stolen staff password.", "No payment data was reached."]
"""
DAY = 86400.0


def follow_up_campaign(campaign: Campaign) -> Campaign:
    campaign.config.write_text(campaign.config.read_text() + FOLLOW_UP_FACTS)
    return campaign


def db_rows(campaign: Campaign, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    db = sqlite3.connect(campaign.root / "ledger.sqlite")
    try:
        return list(db.execute(sql, params))
    finally:
        db.close()


def messages(campaign: Campaign) -> list[email.message.EmailMessage]:
    out = []
    for path in campaign.outbox():
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(msg, email.message.EmailMessage)
        out.append(msg)
    return out


def first_sent_at(campaign: Campaign) -> float:
    value = db_rows(campaign, "SELECT min(sent_at) FROM messages WHERE notice='breach-notice'")[0][0]
    assert isinstance(value, float)
    return value


# ---- decisions with an injected clock ------------------------------------------------------


def schedule(**kw: object) -> Schedule:
    base: dict[str, object] = dict(
        id=1, notice="what-we-changed", segment="notified", after_s=7 * DAY, at=None, window="",
        state="waiting", created_at=0.0, created_by="comms", confirmed_at=None, last_run_at=None, note="",
    )  # fmt: skip
    base.update(kw)
    return Schedule(**base)  # type: ignore[arg-type]


def test_a_relative_schedule_waits_for_the_first_notice_then_its_delay() -> None:
    s = schedule()
    assert decide(s, now=1000.0, first_at=None, grace=DAY).action == "wait"
    assert decide(s, now=6 * DAY, first_at=0.0, grace=DAY).action == "wait"
    assert decide(s, now=7 * DAY + 60, first_at=0.0, grace=DAY).action == "send"


def test_an_absolute_schedule_is_due_at_its_time() -> None:
    at = dt.datetime(2026, 12, 8, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1))).timestamp()
    s = schedule(after_s=None, at=at)
    assert decide(s, now=at - 1, first_at=None, grace=DAY).action == "wait"
    assert decide(s, now=at + 1, first_at=None, grace=DAY).action == "send"


def test_a_schedule_missed_beyond_the_grace_period_waits_for_confirmation() -> None:
    s = schedule()
    late = decide(s, now=9 * DAY, first_at=0.0, grace=DAY)
    assert late.action == "confirm" and "schedule confirm 1" in late.why and "48 h" in late.why
    assert decide(schedule(confirmed_at=9 * DAY), now=9 * DAY, first_at=0.0, grace=DAY).action == "send"
    # Once it has run, later runs (a window, retries) are not "missed".
    assert decide(schedule(last_run_at=7 * DAY), now=9 * DAY, first_at=0.0, grace=DAY).action == "send"


def test_send_windows_follow_each_recipients_local_time() -> None:
    window = parse_window("09:00-17:00", {"US-AZ": "America/Phoenix"}, "UTC")
    at = dt.datetime(2026, 12, 8, 8, 30, tzinfo=dt.UTC).timestamp()  # 08:30 UTC
    assert window.open_for({"country": "DE"}, at)  # 09:30 in Berlin
    assert not window.open_for({"country": "GB"}, at)  # 08:30 in London
    assert not window.open_for({"country": "US", "region": "US-NY"}, at)  # 03:30 in New York
    later = dt.datetime(2026, 12, 8, 17, 30, tzinfo=dt.UTC).timestamp()
    assert window.open_for({"country": "US", "region": "US-CA"}, later)  # 09:30 in Los Angeles
    assert window.open_for({"country": "US", "region": "US-AZ"}, later)  # 10:30 in Phoenix (override)
    assert not window.open_for({"country": "DE"}, later)  # 18:30 in Berlin
    assert window.open_for({}, dt.datetime(2026, 12, 8, 12, tzinfo=dt.UTC).timestamp())  # campaign zone
    night = parse_window("22:00-06:00", {}, "UTC")
    assert night.open_for({}, dt.datetime(2026, 12, 8, 23, tzinfo=dt.UTC).timestamp())
    assert not night.open_for({}, dt.datetime(2026, 12, 8, 12, tzinfo=dt.UTC).timestamp())


# ---- run-due on a real campaign ---------------------------------------------------------------


def test_run_due_sends_inside_the_window_once_and_a_missed_schedule_waits(campaign: Campaign) -> None:
    follow_up_campaign(campaign)
    assert campaign.notify("send", "--segment", "affected", "--yes").code == 0
    first = first_sent_at(campaign)
    made = campaign.notify(
        "schedule", "--notice", "what-we-changed", "--after", "7d", "--window", "09:00-17:00"
    )
    assert made.code == 0 and "7 day(s) after the first notice" in made.out
    settings = load(campaign.config)
    out = io.StringIO()

    def at(day: float, utc_hour: int) -> float:
        base = dt.datetime.fromtimestamp(first + day * DAY, dt.UTC).replace(hour=utc_hour, minute=30)
        return base.timestamp()

    before = len(campaign.outbox())
    run_due(settings, out, now=lambda: at(6, 12))
    assert "waiting" in out.getvalue() and len(campaign.outbox()) == before
    # Day 7 (or 8: the window must be after the due time), 08:30 UTC: Europe's 09:30 is open,
    # London and New York are not yet.
    day = 7 if at(7, 8) >= first + 7 * DAY else 8
    run_due(settings, out, now=lambda: at(day, 8))
    got = {str(m["To"]) for m in messages(campaign) if "What we have changed" in str(m["Subject"])}
    assert any("chloe@example.net" in t for t in got)  # FR
    assert not any("ben@example.org" in t for t in got)  # US-CA: 00:30 there
    # 17:30 UTC: California is at 09:30.
    run_due(settings, out, now=lambda: at(day, 17))
    got_list = [str(m["To"]) for m in messages(campaign) if "What we have changed" in str(m["Subject"])]
    assert any("ben@example.org" in t for t in got_list)
    assert len(got_list) == len(set(got_list))  # nobody twice
    # Ana (ES) and Chloé (FR) in the European window, Ben (US-CA) later: the segment is done.
    assert [s.state for s in _schedules(campaign)] == ["done"]
    count = len(campaign.outbox())
    run_due(settings, out, now=lambda: at(day + 1, 12))
    assert len(campaign.outbox()) == count  # idempotent: nothing more

    # A second schedule whose time passed two days ago with nothing run: not sent blindly.
    campaign.notify("schedule", "--notice", "investigation-complete", "--after", "1d")
    late = io.StringIO()
    assert run_due(settings, late, now=lambda: first + 3 * DAY + 60) == 1
    assert "NOT SENT" in late.getvalue() and "schedule confirm 2" in late.getvalue()
    assert len(campaign.outbox()) == count
    listed = campaign.notify("schedule", "list").out
    assert "needs-confirm" in listed and "nothing ran for" in listed
    assert campaign.notify("schedule", "confirm", "2").code == 0
    run_due(settings, io.StringIO(), now=lambda: first + 3 * DAY + 120)
    assert any("investigation is complete" in str(m["Subject"]) for m in messages(campaign))


def _schedules(campaign: Campaign) -> list[Schedule]:
    ledger = SqliteLedger(campaign.root / "ledger.sqlite")
    try:
        return schedules(ledger)
    finally:
        ledger.close()


def test_follow_ups_name_the_original_notice_and_carry_signed_one_click_unsubscribe(
    campaign: Campaign,
) -> None:
    follow_up_campaign(campaign)
    campaign.notify("send", "--segment", "affected", "--yes")
    campaign.notify("send", "--segment", "notified", "--notice", "what-we-changed", "--yes")
    legal = [m for m in messages(campaign) if "Notice of Data Breach" in str(m["Subject"])]
    follow = [m for m in messages(campaign) if "What we have changed" in str(m["Subject"])]
    assert legal and follow and len(follow) == len(legal)
    assert all(m["List-Unsubscribe"] is None for m in legal)  # never on the legally required notice
    msg = follow[0]
    header = str(msg["List-Unsubscribe"])
    assert re.fullmatch(
        r"<https://notify\.example\.com/u/[a-z2-7]+>, <mailto:unsubscribe\+[a-z2-7]+@[^>]+>", header
    )
    assert str(msg["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    signed = str(msg["DKIM-Signature"]).replace(" ", "").replace("\n", "").lower()
    assert "list-unsubscribe:list-unsubscribe-post" in signed or (
        "list-unsubscribe" in signed and "list-unsubscribe-post" in signed
    )
    body = msg.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    reference = "INC-2026-0117"
    assert reference in str(msg["Subject"]) or reference in text
    assert "What is new".upper() in text and "does not stop any notice the law requires" in text
    assert "https://notify.example.com/u/" in text
    assert "pixel" not in str(msg).lower() and "<img" not in str(msg.get_body(("html",)))
    assert campaign.notify("lint", "--notice", "what-we-changed").code == 0


def test_a_follow_up_needs_a_public_unsubscribe_address(campaign: Campaign) -> None:
    campaign.notify("send", "--segment", "affected", "--yes")
    result = campaign.notify("send", "--segment", "notified", "--notice", "what-we-changed", "--yes")
    assert result.code != 0 and "public_url" in result.err


# ---- one-click unsubscribe over real HTTP -------------------------------------------------------


Served = tuple[Campaign, RunningServe]


@pytest.fixture
def served(campaign: Campaign) -> Iterator[Served]:
    follow_up_campaign(campaign)
    campaign.notify("send", "--segment", "affected", "--yes")
    campaign.notify("send", "--segment", "notified", "--notice", "what-we-changed", "--yes")
    serve = RunningServe(campaign, SnsVerifier(frozenset()), unsubscribe=True)
    try:
        yield campaign, serve
    finally:
        serve.close()


def _token_for(campaign: Campaign, address: str) -> str:
    for m in messages(campaign):
        if address in str(m["To"]) and m["List-Unsubscribe"] is not None:
            found = re.search(r"/u/([a-z2-7]+)>", str(m["List-Unsubscribe"]))
            assert found
            return found.group(1)
    raise AssertionError(f"no follow-up to {address}")


def test_one_click_unsubscribe_is_immediate_idempotent_and_unforgeable(
    served: Served,
) -> None:
    campaign, serve = served
    token = _token_for(campaign, "ana@example.com")
    page = serve.request(f"/u/{token}")
    assert page[0] == 200 and "<form method='post'" in page[1] and "the law requires" in page[1]
    assert db_rows(campaign, "SELECT count(*) FROM unsubscribes") == [(0,)]  # a GET never unsubscribes
    assert serve.request(f"/u/{token}", b"List-Unsubscribe=One-Click")[0] == 200
    assert serve.request(f"/u/{token}", b"List-Unsubscribe=One-Click")[0] == 200  # replayed
    assert db_rows(campaign, "SELECT key, via FROM unsubscribes") == [("ana@example.com", "one-click")]
    assert db_rows(campaign, "SELECT count(*) FROM audit WHERE action='unsubscribe'") == [(1,)]
    forged = token[:-2] + ("aa" if token[-2:] != "aa" else "bb")
    assert serve.request(f"/u/{forged}", b"List-Unsubscribe=One-Click")[0] == 404
    row = int(db_rows(campaign, "SELECT max(id) FROM messages")[0][0])  # type: ignore[call-overload]
    verp = serve.tokens.verp_token(row)  # a bounce token must not work as an unsubscribe token
    assert serve.request(f"/u/{verp}", b"List-Unsubscribe=One-Click")[0] == 404
    assert serve.request(f"/u/{token}", b"something=else")[0] == 400
    assert "already unsubscribed" in serve.request(f"/u/{token}")[1]


def test_unsubscribing_shrinks_the_follow_ups_never_the_legal_notice(
    served: Served,
) -> None:
    campaign, serve = served
    serve.request(f"/u/{_token_for(campaign, 'ana@example.com')}", b"List-Unsubscribe=One-Click")
    before = {str(m["To"]) for m in messages(campaign) if "investigation" in str(m["Subject"])}
    assert not before
    campaign.notify("send", "--segment", "notified", "--notice", "investigation-complete", "--yes")
    follow = [str(m["To"]) for m in messages(campaign) if "investigation is complete" in str(m["Subject"])]
    assert follow and not any("ana@example.com" in t for t in follow)
    skipped = db_rows(
        campaign,
        "SELECT m.state, m.reason FROM messages m JOIN recipients r ON r.id=m.recipient_id "
        "WHERE m.notice='investigation-complete' AND r.key='ana@example.com'",
    )
    assert skipped == [("suppressed", "unsubscribed")]
    # The legally required notice still reaches her (here: a deliberate resend).
    campaign.notify("send", "--segment", "affected", "--resend", "--yes")
    legal_to_ana = [
        m
        for m in messages(campaign)
        if "Notice of Data Breach" in str(m["Subject"]) and "ana@" in str(m["To"])
    ]
    assert len(legal_to_ana) == 2


def test_mail_to_the_unsubscribe_address_is_honoured(served: Served, tmp_path: Path) -> None:
    campaign, _serve = served
    token = _token_for(campaign, "chloe@example.net")
    mail = tmp_path / "unsub.eml"
    mail.write_bytes(
        f"From: chloe@example.net\nTo: unsubscribe+{token}@example.com\n"
        "Subject: unsubscribe\n\nunsubscribe\n".encode()
    )
    assert campaign.notify("bounces", "ingest", str(mail)).code == 0
    assert db_rows(campaign, "SELECT key, via FROM unsubscribes") == [("chloe@example.net", "mailto")]


# ---- a real worker process --------------------------------------------------------------------


def test_a_worker_sends_a_due_follow_up_and_stops_cleanly_on_sigterm(campaign: Campaign, sink: Sink) -> None:
    follow_up_campaign(campaign)
    campaign.edit_config('url = "outbox:outbox"', f'url = "{sink.url}"')
    assert campaign.notify("send", "--segment", "affected", "--yes").code == 0
    first_wave = len(sink.received)
    campaign.notify("schedule", "--notice", "what-we-changed", "--after", "0s")
    proc = campaign.spawn("worker", "--interval", "0.3")
    try:
        sink.wait_for(first_wave * 2, timeout=30)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and [s.state for s in _schedules(campaign)] != ["done"]:
            time.sleep(0.1)
        assert [s.state for s in _schedules(campaign)] == ["done"]
        second = campaign.notify("worker", "--interval", "1")
        assert second.code != 0 and "another notify worker is already running" in second.err
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Worker stopped." in out
    subjects = [r.data for r in sink.received[first_wave:]]
    assert len(subjects) == first_wave and all(b"What we have changed" in d for d in subjects)
    assert db_rows(campaign, "SELECT count(*) FROM messages WHERE state='sending'") == [(0,)]


# ---- the audit trail ----------------------------------------------------------------------------


def _tamper(campaign: Campaign, *statements: str) -> None:
    db = sqlite3.connect(campaign.root / "ledger.sqlite")
    try:
        db.execute("DROP TRIGGER audit_no_update")
        db.execute("DROP TRIGGER audit_no_delete")
        for sql in statements:
            db.execute(sql)
        db.commit()
    finally:
        db.close()


@pytest.fixture
def audited(campaign: Campaign) -> Campaign:
    campaign.notify("send", "--segment", "affected", "--yes")
    campaign.notify("suppress", "add", "dan@example.com")
    campaign.notify("suppress", "remove", "dan@example.com")
    ok = campaign.notify("audit", "verify")
    assert ok.code == 0 and "Audit log intact" in ok.out
    actions = [a for (a,) in db_rows(campaign, "SELECT action FROM audit ORDER BY seq")]
    assert actions[:4] == ["ledger.create", "list.import", "send.start", "send.stop"]
    assert "suppress.add" in actions and "suppress.remove" in actions
    return campaign


def test_the_audit_log_refuses_updates_and_deletes(audited: Campaign) -> None:
    db = sqlite3.connect(audited.root / "ledger.sqlite")
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute("UPDATE audit SET user='someone-else' WHERE seq=1")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute("DELETE FROM audit WHERE seq=1")
    finally:
        db.close()


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        (
            ["UPDATE audit SET details=replace(details, 'subscribers', 'other') WHERE seq=2"],
            "entry 2 (list.import) was changed",
        ),
        (["DELETE FROM audit WHERE seq=2"], "entries 2..2 are missing"),
        (
            [
                "UPDATE audit SET seq=seq+100 WHERE seq IN (2, 3)",
                "UPDATE audit SET seq=2 WHERE seq=103",
                "UPDATE audit SET seq=3 WHERE seq=102",
            ],
            "does not follow the entry before it",
        ),
        (["DELETE FROM audit WHERE seq=(SELECT max(seq) FROM audit)"], "truncated"),
    ],
    ids=["edited", "deleted", "reordered", "truncated"],
)
def test_tampering_with_the_audit_log_is_detected(
    audited: Campaign, statements: list[str], expected: str
) -> None:
    _tamper(audited, *statements)
    result = audited.notify("audit", "verify")
    assert result.code == 1
    assert expected in result.out and "TAMPERED" in result.out


def test_the_evidence_pack_says_who_was_told_when_without_personal_data(
    audited: Campaign, tmp_path: Path
) -> None:
    out = tmp_path / "evidence"
    assert audited.notify("audit", "export", "--output", str(out)).code == 0
    pack = json.loads((out / "evidence.json").read_text())
    summary = (out / "summary.txt").read_text()
    for path in (out / "evidence.json", out / "summary.txt"):
        assert path.stat().st_mode & 0o777 == 0o600
    notice = pack["notices"]["breach-notice"]
    assert notice["by_jurisdiction"]["FR"]["states"] == {"sent": 1}
    assert pack["audit"]["intact"] and pack["audit"]["entries"][1]["action"] == "list.import"
    assert {r["list_id"] for r in pack["recipients"]} >= {"R1", "R2", "R3"}
    assert any(d.get("id") == "CA-IND" for d in pack["deadlines"])
    text = json.dumps(pack) + summary
    for secret in ("ana@example.com", "ben@example.org", "Lopez", "Okafor", "Dear "):
        assert secret not in text
    assert "hash chain intact" in summary and "FR: 1 people" in summary


def test_an_older_notify_refuses_a_newer_ledger(campaign: Campaign) -> None:
    campaign.notify("lists", "check")
    campaign.notify("send", "--segment", "affected", "--yes")
    db = sqlite3.connect(campaign.root / "ledger.sqlite")
    try:
        assert db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == ("3",)
        db.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
        db.commit()
    finally:
        db.close()
    result = campaign.notify("status")
    assert result.code != 0 and "written by a newer notify (schema 99" in result.err


def test_two_schedules_of_one_notice_finish_on_their_own_segments(campaign: Campaign) -> None:
    follow_up_campaign(campaign)
    campaign.notify("send", "--segment", "affected", "--yes")
    first = first_sent_at(campaign)
    campaign.notify(
        "schedule",
        "--notice",
        "what-we-changed",
        "--after",
        "1d",
        "--segment",
        "eu",
        "--window",
        "09:00-17:00",
    )
    campaign.notify(
        "schedule",
        "--notice",
        "what-we-changed",
        "--after",
        "1d",
        "--segment",
        "us",
        "--window",
        "09:00-17:00",
    )
    # The first 11:00 UTC after the schedules fell due: within the 24 h grace whatever the time of
    # day the suite runs at (a fixed "two days later" was past the grace for a send after 11:00 UTC).
    due = dt.datetime.fromtimestamp(first + DAY, dt.UTC)
    noon = due.replace(hour=11, minute=0, second=0, microsecond=0)
    noon_utc = (noon if noon > due else noon + dt.timedelta(days=1)).timestamp()
    # 11:00 UTC: noon in Paris and Madrid, 03:00 in California.
    run_due(load(campaign.config), io.StringIO(), now=lambda: noon_utc)
    by_id = {s.id: s.state for s in _schedules(campaign)}
    assert by_id == {1: "done", 2: "sending"}  # the US schedule waits for California's morning
