"""Reading bounce mail: RFC 3464 reports, RFC 5965 complaints, auto-replies and plain-text
bounces, from fixtures written for these tests."""

from __future__ import annotations

import email
import json
import mailbox
import sqlite3
from pathlib import Path

from notifier.bounces.parse import parse_bounce

from .conftest import Campaign
from .smtpsink import Sink

DSN = b"""From: MAILER-DAEMON@mx.example.net
To: bounces+abcdef@bounces.example.com
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

This is the mail system at host mx.example.net. I'm sorry to have to inform you
that your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; gone@example.net
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <gone@example.net>: Recipient address rejected: User unknown

Final-Recipient: rfc822; full@example.net
Action: delayed
Status: 4.2.2
Diagnostic-Code: smtp; 452 4.2.2 Mailbox full

--B
Content-Type: text/rfc822-headers

From: Example Security <security@example.com>
To: gone@example.net
Message-ID: <abc.breach-notice@example.com>
Subject: Notice of Data Breach

--B--
"""

ARF = b"""From: feedback@fbl.example.org
To: abuse@example.com
Subject: FW: complaint
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="F"

--F
Content-Type: text/plain

This is an email abuse report.

--F
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: SomeFBL/1.0
Version: 1
Original-Mail-From: <bounces+xyz@bounces.example.com>
Original-Rcpt-To: <angry@example.org>

--F
Content-Type: message/rfc822

From: Example Security <security@example.com>
To: angry@example.org
Message-ID: <def.breach-notice@example.com>
Subject: Notice of Data Breach

Dear customer
--F--
"""

PLAIN = b"""From: Mail Delivery System <Mailer-Daemon@relay.example.org>
To: bounces+qqq@bounces.example.com
Subject: Mail delivery failed: returning message to sender
X-Failed-Recipients: nobody@example.org

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  nobody@example.org
    SMTP error from remote mail server after RCPT TO:<nobody@example.org>:
    550 5.1.1 <nobody@example.org>... User Unknown

------ This is a copy of the message, including all the headers. ------

From: Example Security <security@example.com>
To: nobody@example.org
Message-ID: <ghi.breach-notice@example.com>
"""

VACATION = b"""From: Ana <ana@example.org>
To: security@example.com
Subject: Out of office: Notice of Data Breach
Auto-Submitted: auto-replied

I am away until Monday.
"""


def test_a_delivery_status_report_lists_each_recipient() -> None:
    parsed = parse_bounce(DSN)
    assert parsed.kind == "bounce"
    assert parsed.original_message_id == "<abc.breach-notice@example.com>"
    assert parsed.envelope_to == "bounces+abcdef@bounces.example.com"  # the VERP token comes back
    gone, full = parsed.recipients
    assert (gone.address, gone.action, gone.status, gone.reply_code, gone.reason, gone.hard) == (
        "gone@example.net",
        "failed",
        "5.1.1",
        "550",
        "user_unknown",
        True,
    )
    assert (full.action, full.reason, full.hard) == ("delayed", "mailbox_full", False)


def test_a_feedback_report_is_a_complaint() -> None:
    parsed = parse_bounce(ARF)
    assert parsed.kind == "complaint" and parsed.feedback_type == "abuse"
    assert [r.address for r in parsed.recipients] == ["angry@example.org"]
    assert parsed.original_message_id == "<def.breach-notice@example.com>"


def test_a_plain_text_bounce_names_the_failed_address_not_the_others() -> None:
    parsed = parse_bounce(PLAIN)
    assert parsed.kind == "bounce"
    (r,) = parsed.recipients
    assert (r.address, r.reason, r.hard) == ("nobody@example.org", "user_unknown", True)


def test_an_auto_reply_is_not_a_bounce() -> None:
    """An RFC 3834 auto-reply names its sender as an auto-reply (vacation), never as bounced."""
    parsed = parse_bounce(VACATION)
    assert parsed.kind == "auto-reply"
    got = [(r.address, r.reason, r.hard) for r in parsed.recipients]
    assert got == [("ana@example.org", "vacation", False)]


def test_an_ordinary_message_is_not_a_bounce() -> None:
    assert (
        parse_bounce(b"From: a@example.org\r\nSubject: hello\r\n\r\nhi bob@example.org\r\n").kind
        == "not-bounce"
    )


def test_notify_bounces_parse_reads_files_without_touching_the_ledger(
    campaign: Campaign, tmp_path: Path
) -> None:
    (tmp_path / "dsn.eml").write_bytes(DSN)
    (tmp_path / "arf.eml").write_bytes(ARF)
    result = campaign.notify("bounces", "parse", str(tmp_path / "dsn.eml"), str(tmp_path / "arf.eml"))
    assert "gone@example.net: failed, 5.1.1, 550, user_unknown, hard" in result.out
    assert "arf.eml: complaint" in result.out
    data = json.loads(campaign.notify("bounces", "parse", "--json", str(tmp_path / "dsn.eml")).out)
    assert data[0]["recipients"][0]["address"] == "gone@example.net"
    assert not (campaign.root / "ledger.sqlite").exists()


def _bounce_for(
    received_from: str, to_address: str, message_id: str, code: str = "550 5.1.1 user unknown"
) -> bytes:
    return (
        f"From: MAILER-DAEMON@mx.example.net\r\nTo: {received_from}\r\nSubject: Undelivered Mail\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n"
        f"Final-Recipient: rfc822; {to_address}\r\nAction: failed\r\nStatus: {code.split()[1]}\r\n"
        f"Diagnostic-Code: smtp; {code}\r\n\r\n"
        f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nTo: {to_address}\r\n"
        f"Message-ID: {message_id}\r\n\r\n--B--\r\n"
    ).encode()


def test_ingest_matches_by_verp_marks_bounced_suppresses_and_is_idempotent(
    campaign: Campaign, sink: Sink, tmp_path: Path
) -> None:
    """A hard bounce sent back to the VERP address of Ana's message marks it bounced and
    suppresses her; a complaint carrying the Message-ID we sent Ben suppresses Ben; reading the
    same mailbox again changes nothing; an unknown address is reported, never dropped, and
    suppresses nobody."""
    campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    ana = next(r for r in sink.received if r.rcpt_to == "ana@example.com")
    ben = next(r for r in sink.received if r.rcpt_to == "ben@example.org")
    ben_id = email.message_from_bytes(ben.data)["Message-ID"]
    box = mailbox.Maildir(tmp_path / "bounces", create=True)
    box.add(_bounce_for(ana.mail_from, "ana@example.com", "<unknown@example.com>"))
    box.add(
        ARF.replace(b"angry@example.org", b"ben@example.org").replace(
            b"<def.breach-notice@example.com>", ben_id.encode()
        )
    )
    box.add(_bounce_for("someone@example.com", "stranger@example.net", "<x@y>"))
    first = campaign.notify("bounces", "ingest", str(tmp_path / "bounces"))
    assert "matched 1 by message-id, 1 by verp" in first.out
    assert "unmatched:" in first.out and "stranger@example.net" in first.out
    assert first.code == 1
    db = sqlite3.connect(campaign.root / "ledger.sqlite")
    states = dict(
        db.execute("SELECT r.email, m.state FROM messages m JOIN recipients r ON r.id=m.recipient_id")
    )
    assert states["ana@example.com"] == "bounced" and states["ben@example.org"] == "sent"
    suppressed = dict(db.execute("SELECT key, reason FROM suppressions"))
    # The stranger's bounce is tied to nothing we sent: anyone could have written it.
    assert suppressed == {"ana@example.com": "user_unknown", "ben@example.org": "complaint"}
    again = campaign.notify("bounces", "ingest", str(tmp_path / "bounces"))
    assert "3 seen before" in again.out and "0 address(es) newly suppressed" in again.out
    assert db.execute("SELECT count(*) FROM bounce_events").fetchone()[0] == 3
    assert len(list((tmp_path / "bounces" / "new").iterdir())) == 3  # nothing moved or deleted


def test_ingest_reads_mbox_and_eml_files(campaign: Campaign, tmp_path: Path) -> None:
    eml = tmp_path / "one.eml"
    eml.write_bytes(DSN)
    mbox_path = tmp_path / "box.mbox"
    box = mailbox.mbox(mbox_path)
    box.add(PLAIN)
    box.close()
    result = campaign.notify("bounces", "ingest", str(eml), str(mbox_path))
    assert result.out.startswith("Read 2 message(s)")
