"""Sending through Amazon SES: moto's server on 127.0.0.1 over HTTP, with a proxy in front
that injects SES's errors and answers GetAccount (which moto lacks)."""

from __future__ import annotations

import base64
import json
import sqlite3

import pytest

from notifier.transports.ses import ERRORS, parse_ses_url

from .conftest import Campaign
from .sesproxy import SEND_PATH, Fault, Ses

AFFECTED = {"ana@example.com", "ben@example.org", "chloe@example.net"}


def states(c: Campaign) -> dict[str, tuple[str, str]]:
    db = sqlite3.connect(c.root / "ledger.sqlite")
    rows = db.execute(
        "SELECT r.email, m.state, COALESCE(m.queue_id, '') FROM messages m "
        "JOIN recipients r ON r.id=m.recipient_id"
    ).fetchall()
    return {e: (s, q) for e, s, q in rows}


def test_messages_go_out_raw_and_are_readable_back_from_ses(campaign: Campaign, ses: Ses) -> None:
    """Our own bytes (DKIM signature included) reach SES unchanged, tagged with campaign and
    notice, and the ledger keeps each SES MessageId for matching SNS events later."""
    ses.set_account(rate=100)
    result = campaign.notify("send", "--segment", "affected", "--transport", ses.url(), "--yes")
    assert result.code == 0, result.err
    stored = ses.sent_messages()
    assert {m["destinations"][0] for m in stored} >= AFFECTED
    raw = next(m["raw_data"] for m in stored if "chloe@example.net" in m["destinations"])
    assert raw.startswith("DKIM-Signature: v=1; a=rsa-sha256")
    assert "Dear Chlo=C3=A9," in raw
    bodies = ses.state.send_bodies
    assert {"Name": "campaign", "Value": "test"} in bodies[0]["EmailTags"]
    assert {"Name": "notice", "Value": "breach-notice"} in bodies[0]["EmailTags"]
    assert base64.b64decode(bodies[0]["Content"]["Raw"]["Data"]).startswith(b"DKIM-Signature:")
    ids = {m["id"] for m in stored}
    assert {q for s, q in states(campaign).values() if s == "sent"} <= ids


def test_the_account_quota_is_read_where_getaccount_is_missing(campaign: Campaign, ses: Ses) -> None:
    """moto has no SESv2 GetAccount: the v1 quota (1 msg/s, 200 a day) is used, and the
    configured 2000/s is capped to it."""
    result = campaign.notify("send", "--segment", "affected", "--transport", ses.url(), "--yes")
    assert result.code == 0, result.err
    assert "SES account: 1 msg/s maximum" in result.out and "sending at 1 msg/s" in result.out
    times = ses.state.send_times
    assert len(times) == 3 and times[-1] - times[0] >= 1.9  # evenly spaced at 1/s, no burst


def test_the_send_stops_cleanly_before_the_24_hour_quota_and_resumes(campaign: Campaign, ses: Ses) -> None:
    ses.set_account(rate=100, max_24h=10, sent=8)
    first = campaign.notify("send", "--segment", "affected", "--transport", ses.url(), "--yes")
    assert first.code == 1
    assert "Stopped before the SES 24-hour quota runs out (2 sends were left)" in first.out
    assert "Sending can resume from about" in first.out
    assert sorted(s for s, _ in states(campaign).values()) == ["pending", "sent", "sent"]
    ses.set_account(rate=100, max_24h=10, sent=0)
    second = campaign.notify("send", "--segment", "affected", "--transport", ses.url(), "--yes")
    assert second.code == 0
    assert len(ses.sent_messages()) == 3  # nobody twice


def test_throttling_is_retried_with_backoff(campaign: Campaign, ses: Ses) -> None:
    ses.set_account(rate=100)
    ses.fault(
        Fault(SEND_PATH, 429, "TooManyRequestsException", "Maximum sending rate exceeded."),
        Fault(SEND_PATH, 400, "ThrottlingException", "Rate exceeded"),
    )
    result = campaign.notify("send", "--segment", "affected", "--transport", ses.url(), "--yes")
    assert result.code == 0, result.err
    assert all(s == "sent" for s, _ in states(campaign).values() if s != "pending")
    db = sqlite3.connect(campaign.root / "ledger.sqlite")
    codes = [c for (c,) in db.execute("SELECT code FROM attempts ORDER BY id")]
    assert codes.count(454) == 2 and codes.count(250) == 3


def test_a_rejected_message_fails_that_recipient_only(campaign: Campaign, ses: Ses) -> None:
    ses.set_account(rate=100)
    ses.fault(Fault(SEND_PATH, 400, "MessageRejected", "Email address is on the suppression list."))
    result = campaign.notify("send", "--segment", "affected", "--transport", ses.url(), "--yes")
    assert result.code == 1
    got = states(campaign)
    failed = [e for e, (s, _) in got.items() if s == "failed"]
    assert len(failed) == 1 and sum(1 for s, _ in got.values() if s == "sent") == 2
    db = sqlite3.connect(campaign.root / "ledger.sqlite")
    assert (
        db.execute("SELECT last_text FROM messages WHERE state='failed'")
        .fetchone()[0]
        .startswith("MessageRejected: Email address is on the suppression list")
    )


def test_a_paused_account_stops_the_run_loudly_and_loses_nobody(campaign: Campaign, ses: Ses) -> None:
    ses.set_account(rate=100)
    ses.fault(Fault(SEND_PATH, 400, "SendingPausedException", "Sending is paused for this account."))
    result = campaign.notify("send", "--segment", "affected", "--transport", ses.url(), "--yes")
    assert result.code == 1
    assert "SendingPausedException" in result.err and "resume it in the SES console" in result.err
    assert "sending" not in {s for s, _ in states(campaign).values()}
    again = campaign.notify("send", "--segment", "affected", "--transport", ses.url(), "--yes")
    assert again.code == 0 and {m["destinations"][0] for m in ses.sent_messages()} >= AFFECTED


def test_an_unverified_from_identity_stops_before_anyone_is_failed(campaign: Campaign, ses: Ses) -> None:
    """SES (moto too) refuses every message from an unverified identity: that is the
    account's problem, not the recipients', so the run stops and says what to do."""
    ses.reset()
    ses.set_account(rate=100)
    result = campaign.notify("send", "--segment", "affected", "--transport", ses.url(), "--yes")
    assert result.code == 1
    assert "Did not have authority to send" in result.err and "verify the domain" in result.err
    assert "failed" not in {s for s, _ in states(campaign).values()}


def test_a_dropped_connection_is_retried(campaign: Campaign, ses: Ses) -> None:
    ses.set_account(rate=100)
    ses.fault(Fault(SEND_PATH, drop=True))
    result = campaign.notify("send", "--segment", "affected", "--transport", ses.url(), "--yes")
    assert result.code == 0, result.err
    assert sum(1 for s, _ in states(campaign).values() if s == "sent") == 3


def test_an_answer_lost_after_ses_took_the_message_flags_the_resend(campaign: Campaign, ses: Ses) -> None:
    """When SES received the message but its answer never came back, the retry is sent and named
    "possibly duplicated", so nobody is left out and the second copy is on record."""
    ses.set_account(rate=100)
    ses.fault(Fault(SEND_PATH, lose_reply=True))
    result = campaign.notify("send", "--segment", "affected", "--transport", ses.url(), "--yes")
    assert result.code == 0, result.err
    assert sum(1 for s, _ in states(campaign).values() if s == "sent") == 3
    assert len(ses.sent_messages()) == 4  # SES holds both copies of the one whose answer was lost
    report = campaign.notify("report", "--possibly-duplicated", "--format", "json")
    assert report.code == 0, report.err
    assert len(json.loads(report.out)) == 1


def test_check_reports_identity_dkim_sandbox_and_quota(campaign: Campaign, ses: Ses) -> None:
    ses.set_account(rate=14, max_24h=2, production=False)
    campaign.edit_config('url = "outbox:outbox"', f'url = "{ses.url()}"')
    result = campaign.notify("check", "--json")
    findings = {f["id"]: f for f in json.loads(result.out)["findings"]}
    assert findings["TRANSPORT-1"]["status"] == "PASS"
    assert findings["SES-1"]["status"] == "PASS"
    assert findings["SES-2"]["status"] == "INFO"  # no Easy DKIM in moto, but we sign with [dkim]
    assert findings["SES-4"]["status"] == "FAIL" and "Request production access" in findings["SES-4"]["fix"]
    assert findings["SES-5"]["status"] == "WARN" and "4 recipients at 14/s" in findings["SES-5"]["found"]
    assert result.code == 1


def test_error_table_covers_every_error_sendemail_can_raise() -> None:
    """Like httpx's exception map: each error in the SESv2 model of SendEmail has a row."""
    import boto3

    model = boto3.client("sesv2", region_name="eu-west-1").meta.service_model.operation_model("SendEmail")
    names = {shape.name for shape in model.error_shapes}
    assert names <= set(ERRORS), names - set(ERRORS)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ses://nowhere", "is not an AWS region"),
        ("ses://eu-west-1?region=x", "unknown option"),
        ("ses://AKIA:secret@eu-west-1", "credentials do not belong in the URL"),
    ],
)
def test_bad_ses_urls_say_what_is_wrong(url: str, words: str) -> None:
    from notifier.errors import TransportConfigError

    with pytest.raises(TransportConfigError, match=words):
        parse_ses_url(url)
