"""notify send against a real SMTP server on 127.0.0.1, with faults injected in it."""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import re
import sqlite3
import threading
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

from notifier.pipeline import deliver as pipeline
from notifier.tokens import Tokens

from .conftest import Campaign
from .smtpsink import Fault, Sink


def parse(data: bytes) -> EmailMessage:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def ledger_states(c: Campaign) -> dict[str, str]:
    db = sqlite3.connect(c.root / "ledger.sqlite")
    rows = db.execute(
        "SELECT r.email, m.state FROM messages m JOIN recipients r ON r.id = m.recipient_id"
    ).fetchall()
    db.close()
    return {e: s for e, s in rows}


def test_each_segment_recipient_receives_one_personalised_message(campaign: Campaign, sink: Sink) -> None:
    """Everyone in the segment gets exactly one message, addressed and written to them."""
    result = campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    assert result.code == 0, result.err
    got = sink.by_recipient()
    # Dan has no exposed categories, so he is not in "affected".
    assert got == {"ana@example.com": 1, "ben@example.org": 1, "chloe@example.net": 1}
    chloe = next(r for r in sink.received if r.rcpt_to == "chloe@example.net")
    msg = parse(chloe.data)
    assert msg["To"] == "Chloé Dubois <chloe@example.net>"
    assert msg["Subject"].startswith("Notice of Data Breach")
    assert msg["MIME-Version"] == "1.0"
    assert msg["Date"] and msg["Message-ID"]
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None
    assert "Dear Chloé," in text.get_content()
    assert "your postal address" in text.get_content()
    html_src = html.get_content()
    # CSS is inlined (premailer) into the elements themselves.
    assert re.search(r'<h1 style="[^"]*font-size:26px', html_src)
    assert "your postal address" in html_src
    # VERP envelope sender that leads back to this message's ledger row.
    assert re.fullmatch(r"bounces\+[a-z2-7]+@bounces\.example\.com", chloe.mail_from)


def test_verp_token_maps_back_to_the_ledger_row(campaign: Campaign, sink: Sink) -> None:
    """The return path's token decodes, under the campaign key, to that recipient's message row."""
    campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    db = sqlite3.connect(campaign.root / "ledger.sqlite")
    key = bytes.fromhex(db.execute("SELECT value FROM meta WHERE key='token_key'").fetchone()[0])
    rows = dict(db.execute("SELECT m.id, r.email FROM messages m JOIN recipients r ON r.id=m.recipient_id"))
    tokens = Tokens(key)
    for r in sink.received:
        row = tokens.parse_return_path(r.mail_from)
        assert row is not None and rows[row] == r.rcpt_to


def test_running_again_sends_nothing_new(campaign: Campaign, sink: Sink) -> None:
    """A second run of the same command finds everyone done and sends no duplicate."""
    campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    again = campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    assert again.code == 0
    assert "Nothing to send" in again.out
    assert len(sink.received) == 3


def test_resend_sends_again_on_purpose(campaign: Campaign, sink: Sink) -> None:
    """--resend delivers to people already sent, and the ledger keeps both attempts."""
    campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    result = campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes", "--resend")
    assert "AGAIN" in result.out
    assert len(sink.received) == 6
    db = sqlite3.connect(campaign.root / "ledger.sqlite")
    assert db.execute("SELECT count(*) FROM attempts").fetchone()[0] == 6


def test_a_retry_carries_the_same_message_id(campaign: Campaign, sink: Sink) -> None:
    """451 first, accepted second: one delivered copy, and its Message-ID is the planned one."""
    sink.fault("ana@example.com", Fault("rcpt", "451 4.3.0 try again later"))
    campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    db = sqlite3.connect(campaign.root / "ledger.sqlite")
    (mid, attempts) = db.execute(
        "SELECT m.message_id, m.attempts FROM messages m JOIN recipients r ON r.id=m.recipient_id "
        "WHERE r.email='ana@example.com'"
    ).fetchone()
    assert attempts == 2
    ana = [r for r in sink.received if r.rcpt_to == "ana@example.com"]
    assert len(ana) == 1 and parse(ana[0].data)["Message-ID"] == mid


def test_faults_leave_ledger_and_server_in_agreement(campaign: Campaign, sink: Sink) -> None:
    """421+hang-up, 451, 550, a slow reply and a connection dropped at DATA: afterwards every
    'sent' in the ledger was received exactly once and every 'failed' was not received."""
    people = [f"p{i}@example.com" for i in range(30)]
    campaign.write_list(
        "email,first_name,exposed\n" + "".join(f"{p},P{i},email\n" for i, p in enumerate(people))
    )
    sink.fault(people[2], Fault("rcpt", "421 4.3.2 shutting down", hang_up=True))
    sink.fault(people[5], Fault("rcpt", "451 4.7.1 greylisted"), Fault("rcpt", "451 4.7.1 greylisted"))
    sink.fault(people[7], Fault("rcpt", "550 5.1.1 user unknown"))
    sink.fault(people[9], Fault("data", "", hang_up=True))  # dropped after the data, before the reply
    sink.fault(people[11], Fault("rcpt", delay=6.0))  # longer than the client's 5 s timeout
    sink.fault(people[13], Fault("data", "554 5.7.1 rejected as spam"))
    result = campaign.notify("send", "--segment", "all", "--transport", sink.url, "--yes")
    states = ledger_states(campaign)
    got = sink.by_recipient()
    assert states[people[7]] == "failed" and states[people[13]] == "failed"
    for p in people:
        if states[p] == "sent":
            assert got.get(p) == 1, p
        else:
            assert p not in got, p
    assert sum(1 for s in states.values() if s == "sent") == 28
    assert result.code == 1  # two permanent failures need attention
    status = campaign.notify("status", "--json")
    data = json.loads(status.out)
    codes = {e["code"]: e for e in data["notices"][0]["errors"]}
    assert codes[550]["last_reply"].startswith("5.1.1")
    assert codes[554]["count"] == 1


def test_permanent_failures_are_never_retried(campaign: Campaign, sink: Sink) -> None:
    """A 550 is recorded with its code and text and not attempted again by later runs."""
    sink.fault("ana@example.com", Fault("rcpt", "550 5.1.1 no such user"))
    campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    db = sqlite3.connect(campaign.root / "ledger.sqlite")
    rows = db.execute(
        "SELECT a.code, a.text FROM attempts a JOIN messages m ON m.id=a.message "
        "JOIN recipients r ON r.id=m.recipient_id WHERE r.email='ana@example.com'"
    ).fetchall()
    assert rows == [(550, "5.1.1 no such user")]


def test_the_retry_window_turns_endless_deferrals_into_failures(campaign: Campaign, sink: Sink) -> None:
    """A recipient deferred past retry_window is failed as expired, with the last reply kept."""
    campaign.edit_config('retry_window = "48h"', 'retry_window = "0.3s"')
    sink.fault("ana@example.com", *[Fault("rcpt", "452 4.2.2 mailbox full")] * 50)
    campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    db = sqlite3.connect(campaign.root / "ledger.sqlite")
    state, text = db.execute(
        "SELECT m.state, m.last_text FROM messages m JOIN recipients r ON r.id=m.recipient_id "
        "WHERE r.email='ana@example.com'"
    ).fetchone()
    assert state == "failed"
    assert "gave up" in text and "4.2.2 mailbox full" in text


def test_starttls_is_required_unless_turned_off(campaign: Campaign, sink: Sink) -> None:
    """The default tls=starttls refuses a server without STARTTLS, and nothing is sent."""
    url = f"smtp://127.0.0.1:{sink.port}"
    result = campaign.notify("send", "--segment", "affected", "--transport", url, "--yes")
    assert result.code == 1
    assert "STARTTLS" in result.err
    assert sink.received == []


def test_an_unreachable_server_stops_before_anything_is_claimed(campaign: Campaign) -> None:
    """Connection refused at start: a clear error, and the ledger still has everyone pending."""
    result = campaign.notify(
        "send", "--segment", "affected", "--transport", "smtp://127.0.0.1:1?tls=none", "--yes"
    )
    assert result.code == 1
    assert "cannot connect" in result.err
    assert set(ledger_states(campaign).values()) == {"pending"}


def test_no_password_is_accepted_in_the_url_or_sent_in_clear(campaign: Campaign, sink: Sink) -> None:
    """Secrets come from the environment only, and AUTH never travels without TLS."""
    r1 = campaign.notify("send", "--segment", "all", "--transport", "smtp://u:pw@127.0.0.1:25", "--yes")
    assert r1.code == 2 and "NOTIFY_SMTP_PASSWORD" in r1.err
    r2 = campaign.notify(
        "send", "--segment", "all", "--transport", f"smtp://u@127.0.0.1:{sink.port}?tls=none", "--yes"
    )
    assert r2.code == 2
    assert sink.received == []


@pytest.mark.parametrize("connections", [4, 10])
def test_messages_in_flight_never_exceed_the_documented_bound(
    campaign: Campaign, sink: Sink, connections: int
) -> None:
    """Against a slow relay, the messages claimed but not yet recorded ('sending' in the ledger,
    what a kill -9 would resend as possibly duplicated) never exceed 2·max(16, 4·connections) +
    connections, the figure the README states."""
    campaign.edit_config("connections = 4", f"connections = {connections}")
    campaign.write_list("email,exposed\n" + "".join(f"p{i}@example.com,email\n" for i in range(400)))
    sink.handler.data_delay = 0.01  # the relay, not rendering, is the bottleneck: the pipeline fills
    seen: list[int] = []
    done = threading.Event()

    def watch() -> None:
        path = campaign.root / "ledger.sqlite"
        while not done.is_set():
            with contextlib.suppress(sqlite3.Error):  # not created yet, or busy for a moment
                db = sqlite3.connect(path, timeout=0.1)
                try:
                    seen.append(
                        db.execute("SELECT count(*) FROM messages WHERE state='sending'").fetchone()[0]
                    )
                finally:
                    db.close()
            time.sleep(0.0005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        result = campaign.notify("send", "--segment", "all", "--transport", sink.url, "--yes")
    finally:
        done.set()
        watcher.join()
    assert result.code == 0, result.err
    bound = pipeline.in_flight_bound(connections)
    assert max(seen) <= bound
    assert max(seen) >= pipeline.batch_size(connections)  # the measurement saw a full pipeline
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    stated = re.search(r"at most 2 × max\(16, 4 × `connections`\) \+ `connections` messages", readme)
    assert stated, "the README states the in-flight bound"
    assert f"{pipeline.in_flight_bound(4)} with the default 4 connections" in readme
    assert f"{pipeline.in_flight_bound(10)} with 10" in readme
