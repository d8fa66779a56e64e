"""`notify serve` receiving Amazon SES events through SNS, over real HTTP, with real
signatures: the signing certificate comes from a local HTTPS server whose CA only the test
trust knows. Forged, replayed, wrong-topic and badly-hosted messages are refused; accepted
events reach the ledger once."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from notifier.bounces.sns import SnsError, SnsTrust, SnsVerifier

from .conftest import Campaign
from .servehelp import RunningServe
from .sesproxy import Ses
from .snsfake import TOPIC, FakeSns


@pytest.fixture
def fake_sns(tmp_path: Path) -> Iterator[FakeSns]:
    sns = FakeSns(tmp_path).start()
    try:
        yield sns
    finally:
        sns.stop()


def sent_through_ses(campaign: Campaign, ses: Ses) -> dict[str, str]:
    """Send the notice through SES (moto) so the ledger holds real SES message ids."""
    ses.set_account(rate=100)
    result = campaign.notify("send", "--segment", "affected", "--transport", ses.url(), "--yes")
    assert result.code == 0, result.err
    db = sqlite3.connect(campaign.root / "ledger.sqlite")
    try:
        rows = db.execute(
            "SELECT r.email, m.queue_id FROM messages m JOIN recipients r ON r.id=m.recipient_id"
        )
        return {email: queue_id for email, queue_id in rows if queue_id}
    finally:
        db.close()


def bounce(
    ses_id: str, address: str, kind: str = "Permanent", diagnostic: str = "smtp; 550 5.1.1 no such user"
) -> dict[str, Any]:
    return {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": kind,
            "bounceSubType": "General",
            "bouncedRecipients": [
                {"emailAddress": address, "status": diagnostic[10:15], "diagnosticCode": diagnostic}
            ],
            "timestamp": "2026-12-01T10:00:00.000Z",
        },
        "mail": {"messageId": ses_id, "source": "security@example.com", "destination": [address]},
    }


def ledger_rows(campaign: Campaign, sql: str) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(campaign.root / "ledger.sqlite")
    try:
        return list(db.execute(sql))
    finally:
        db.close()


def test_signed_events_are_matched_by_ses_message_id_and_recorded_once(
    campaign: Campaign, ses: Ses, fake_sns: FakeSns
) -> None:
    ids = sent_through_ses(campaign, ses)
    endpoint = RunningServe(campaign, SnsVerifier(frozenset({TOPIC}), fake_sns.trust))
    try:
        hard = fake_sns.notification(bounce(ids["ana@example.com"], "ana@example.com"), version="1")
        complaint = fake_sns.notification(
            {
                "eventType": "Complaint",
                "complaint": {
                    "complainedRecipients": [{"emailAddress": "ben@example.org"}],
                    "complaintFeedbackType": "abuse",
                },
                "mail": {"messageId": ids["ben@example.org"], "destination": ["ben@example.org"]},
            },
            version="2",
        )
        delivery = fake_sns.notification(
            {
                "notificationType": "Delivery",
                "delivery": {"recipients": ["chloe@example.net"], "smtpResponse": "250 ok"},
                "mail": {"messageId": ids["chloe@example.net"], "destination": ["chloe@example.net"]},
            }
        )
        for message in (hard, complaint, delivery):
            assert endpoint.post(message)[0] == 200
        # SNS delivers at least once: the same notification again changes nothing.
        assert endpoint.post(hard) == (200, "already recorded\n")
    finally:
        endpoint.close()
    events = ledger_rows(
        campaign, "SELECT kind, address, matched, reason, hard FROM bounce_events ORDER BY id"
    )
    assert events == [
        ("bounce", "ana@example.com", "provider-id", "user_unknown", 1),
        ("complaint", "ben@example.org", "provider-id", "complaint", 0),
        ("delivered", "chloe@example.net", "provider-id", "delivered", 0),
    ]
    suppressed = {
        k: r for k, r, _, _ in ledger_rows(campaign, "SELECT key, reason, at, source FROM suppressions")
    }
    assert suppressed == {"ana@example.com": "user_unknown", "ben@example.org": "complaint"}
    audited = ledger_rows(campaign, "SELECT action FROM audit WHERE action='sns.event'")
    assert len(audited) == 3  # one entry per event, none for the redelivery
    status = json.loads(campaign.notify("status", "--json").out)
    notice = status["notices"][0]
    assert notice["counts"]["bounced"] == 1
    assert notice["outcomes"] == {
        "delivered": 1,
        "accepted": 2,
        "complained": 1,
        "bounced": 1,
        "deferred": 0,
        "unreached": 1,
    }
    assert notice["by_reason"]["user_unknown"]["bounced"] == 1
    assert notice["by_domain"]["example.com"]["unreached"] == 1
    by_reason = list(csv.reader(io.StringIO(campaign.notify("report", "--by", "reason").out)))
    assert by_reason[0] == [
        "reason",
        "delivered",
        "accepted",
        "complained",
        "bounced",
        "deferred",
        "unreached",
    ]
    assert ["user_unknown", "0", "0", "0", "1", "0", "1"] in by_reason


def test_forged_replayed_wrong_topic_and_foreign_certificates_are_refused(
    campaign: Campaign, ses: Ses, fake_sns: FakeSns
) -> None:
    ids = sent_through_ses(campaign, ses)
    endpoint = RunningServe(campaign, SnsVerifier(frozenset({TOPIC}), fake_sns.trust))
    event = bounce(ids["ana@example.com"], "ana@example.com")
    try:
        forged = fake_sns.notification(event)
        forged["Message"] = forged["Message"].replace("ana@example.com", "ben@example.org")
        old = fake_sns.notification(event, age=7200)
        other_topic = fake_sns.notification(event, topic="arn:aws:sns:eu-west-1:999999999999:someone-else")
        elsewhere = fake_sns.sign(
            dict(fake_sns.notification(event), SigningCertURL="https://attacker.example/cert.pem")
        )
        plain_http = fake_sns.sign(
            dict(fake_sns.notification(event), SigningCertURL=fake_sns.cert_url.replace("https", "http"))
        )
        answers = [endpoint.post(m) for m in (forged, old, other_topic, elsewhere, plain_http)]
        assert [code for code, _ in answers] == [403] * 5
        assert "does not verify" in answers[0][1]
        assert "replay" in answers[1][1]
        assert "sns_topics" in answers[2][1]
        assert "Amazon SNS host" in answers[3][1] and "Amazon SNS host" in answers[4][1]
        assert endpoint.post(b"not json")[0] == 400
    finally:
        endpoint.close()
    assert ledger_rows(campaign, "SELECT count(*) FROM bounce_events") == [(0,)]
    assert ledger_rows(campaign, "SELECT count(*) FROM suppressions") == [(0,)]


def test_subscriptions_are_confirmed_only_for_allowed_topics(campaign: Campaign, fake_sns: FakeSns) -> None:
    campaign.notify("lists", "check")
    endpoint = RunningServe(campaign, SnsVerifier(frozenset({TOPIC}), fake_sns.trust))
    try:
        assert endpoint.post(fake_sns.subscription(topic="arn:aws:sns:eu-west-1:1:other"))[0] == 403
        assert fake_sns.confirmations == []
        assert endpoint.post(fake_sns.subscription()) == (200, "subscription confirmed\n")
        assert len(fake_sns.confirmations) == 1 and "ConfirmSubscription" in fake_sns.confirmations[0]
    finally:
        endpoint.close()


def test_production_trust_accepts_only_https_amazon_sns_hosts() -> None:
    trust = SnsTrust()
    trust.check_url("https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem", "cert")
    for url in (
        "http://sns.eu-west-1.amazonaws.com/x.pem",
        "https://sns.eu-west-1.amazonaws.com.evil.example/x.pem",
        "https://evil.example/sns.eu-west-1.amazonaws.com/x.pem",
        "https://127.0.0.1:8443/x.pem",
    ):
        with pytest.raises(SnsError):
            trust.check_url(url, "cert")


def test_notify_serve_starts_on_loopback_and_stops_on_sigterm(campaign: Campaign) -> None:
    import signal

    proc = campaign.spawn("serve", "--port", "0")
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("Listening on http://127.0.0.1:"), line
        url = line.split()[2]
        request = urllib.request.Request(url, b"{}", {"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        refused.value.close()
        assert refused.value.code == 400
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
        assert "Stopped" in out and "sns_topics is empty" in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
