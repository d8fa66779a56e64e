"""SMTP replies classified into one reason vocabulary; our own problems never look hard."""

from __future__ import annotations

import json

import pytest

from notifier.bounces.replies import OUR_PROBLEM, classify_reply, quote_reply

from .conftest import Campaign
from .smtpsink import Fault, Sink


@pytest.mark.parametrize(
    ("code", "text", "reason", "hard"),
    [
        (550, "5.1.1 <x@example.org>: Recipient address rejected: User unknown", "user_unknown", True),
        (550, "5.1.2 Host or domain name not found", "host_unknown", True),
        (552, "5.2.2 Mailbox full", "mailbox_full", False),
        (452, "4.2.2 The email account that you tried to reach is over quota", "mailbox_full", False),
        (451, "4.7.1 Greylisted, please try again later", "policy", False),
        (421, "4.7.28 Our system has detected an unusual rate of unsolicited mail", "rate_limited", False),
        (550, "5.7.1 Message rejected as spam by Content Filtering", "spam_detected", False),
        (550, "5.7.1 Service unavailable; client host blocked using Spamhaus", "blocked", False),
        (550, "5.7.26 This mail is unauthenticated, which poses a security risk", "authentication", False),
        (
            550,
            "5.7.515 Access denied, sending domain does not meet the required authentication level",
            "authentication",
            False,
        ),
        (550, "5.1.6 Recipient addresses moved", "has_moved", True),
        (554, "Transaction failed", "system", False),
        (550, "Requested action not taken: mailbox unavailable", "user_unknown", True),
        (None, "connection lost", "network", False),
        (454, "Throttling failure: Maximum sending rate exceeded.", "rate_limited", False),
        (250, "2.0.0 Ok: queued", "delivered", False),
    ],
)
def test_replies_are_classified(code: int | None, text: str, reason: str, hard: bool) -> None:
    got = classify_reply(code, text)
    assert (got.reason, got.hard) == (reason, hard)


def test_authentication_and_policy_failures_never_suppress() -> None:
    """5.7.x is about us (reputation, SPF/DKIM/DMARC), not about the recipient's address."""
    for text in ("5.7.1 blocked", "5.7.26 unauthenticated", "5.7.0 policy", "4.7.0 rate"):
        got = classify_reply(550, text)
        assert got.reason in OUR_PROBLEM and not got.suppresses


def test_status_and_report_show_the_reason(campaign: Campaign, sink: Sink) -> None:
    sink.fault("ana@example.com", Fault("rcpt", "550 5.1.1 user unknown"))
    sink.fault("ben@example.org", Fault("rcpt", "554 5.7.1 rejected as spam"))
    campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    status = json.loads(campaign.notify("status", "--json").out)
    assert status["notices"][0]["reasons"] == {"user_unknown": 1, "spam_detected": 1}
    text = campaign.notify("status").out
    assert "not delivered, by reason:" in text and "user_unknown 1" in text
    rows = json.loads(campaign.notify("report", "--state", "failed", "--format", "json").out)
    assert {r["email"]: r["reason"] for r in rows} == {
        "ana@example.com": "user_unknown",
        "ben@example.org": "spam_detected",
    }


def test_a_hard_failure_is_suppressed_for_later_notices_and_a_policy_one_is_not(
    campaign: Campaign, sink: Sink
) -> None:
    """550 5.1.1 puts the address on the suppression list; 550 5.7.1 (our reputation) does not.
    A later notice skips the suppressed address, counts it, and sends it once taken off."""
    sink.fault("ana@example.com", Fault("rcpt", "550 5.1.1 user unknown"))
    sink.fault("ben@example.org", Fault("rcpt", "550 5.7.1 blocked using Spamhaus"))
    campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    listed = campaign.notify("suppress", "list", "--format", "json")
    assert [e["address"] for e in json.loads(listed.out)] == ["ana@example.com"]
    update = campaign.root / "templates" / "update"
    import shutil

    shutil.copytree(campaign.root / "templates" / "breach-notice", update)
    sink.handler.received.clear()
    result = campaign.notify(
        "send", "--segment", "affected", "--notice", "update", "--transport", sink.url, "--yes"
    )
    assert "1 suppressed" in result.out
    assert "ana@example.com" not in sink.by_recipient() and "ben@example.org" in sink.by_recipient()
    assert campaign.notify("suppress", "remove", "ana@example.com").out.startswith("1 address(es) removed")
    campaign.notify("send", "--segment", "affected", "--notice", "update", "--transport", sink.url, "--yes")
    assert sink.by_recipient()["ana@example.com"] == 1


def test_addresses_can_be_suppressed_by_hand(campaign: Campaign) -> None:
    added = campaign.notify("suppress", "add", "Dan@Example.com", "--reason", "asked by phone")
    assert added.out.startswith("1 address(es) added")
    assert "dan@example.com  asked by phone (manual" in campaign.notify("suppress", "list").out
    result = campaign.notify("send", "--segment", "all", "--yes")
    assert "1 suppressed" in result.out and len(campaign.outbox()) == 3


def test_report_unreached_lists_who_needs_a_substitute_notice(campaign: Campaign, sink: Sink) -> None:
    """Invalid rows, hard failures and suppressed people, with their postal fields."""
    import csv
    import io

    campaign.write_list(
        "email,first_name,postal_address,exposed\n"
        "ok@example.com,Ok,1 Road,email\n"
        "gone@example.com,Gone,2 Road,email\n"
        "not-an-address,Bad,3 Road,email\n"
    )
    sink.fault("gone@example.com", Fault("rcpt", "550 5.1.1 user unknown"))
    campaign.notify("send", "--segment", "all", "--transport", sink.url, "--yes")
    rows = list(csv.DictReader(io.StringIO(campaign.notify("report", "--unreached").out)))
    assert {(r["state"], r["postal_address"]) for r in rows} == {("failed", "2 Road"), ("invalid", "3 Road")}


@pytest.mark.parametrize(
    ("code", "text", "reason"),
    [
        (550, "5.1.1 user unknown", "filtered"),
        (550, "5.1.1 <x@example.org>: Recipient address rejected: User unknown", "filtered"),
        (554, "5.1.1 message refused", "filtered"),
        (550, "5.7.1 Message rejected as spam by Content Filtering", "spam_detected"),
    ],
)
def test_user_unknown_after_data_is_the_content_filter_not_the_address(
    code: int, text: str, reason: str
) -> None:
    """The server took the recipient at RCPT; refusing the message after DATA, whatever status it
    quotes, is a content refusal that never suppresses the address."""
    got = classify_reply(code, text, command="DATA")
    assert (got.reason, got.hard, got.suppresses) == (reason, False, False)


@pytest.mark.parametrize("text", ["4.3.2 Service shutting down", "4.1.1 mailbox unavailable, closing"])
def test_a_421_never_names_the_address(text: str) -> None:
    """421 is the server closing the channel: temporary, and its reason is about the server."""
    got = classify_reply(421, text, command="RCPT")
    assert got.reason == "system" and not got.hard


def test_reply_texts_are_printed_without_addresses() -> None:
    """A relay's reply quoted in a message to the operator blanks every address and stays one line."""
    assert quote_reply(554, "5.7.1 <ana@example.com>: client host\r\nblocked") == (
        "554 5.7.1 <address>: client host blocked"
    )
