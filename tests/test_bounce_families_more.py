"""More mail systems' own bounce formats (Messaging Server, OpenSMTPD, ...): who bounced and why
as each format's own lines say it.

Each fixture is written here around the markers, field lines and wordings the Sisimai lhost
module for that format reads (lib/sisimai/lhost/<name>.rb, named in each test), never copied
from a sample corpus.
"""

from __future__ import annotations

import time

from notifier.bounces.parse import parse_bounce

from .bouncemail import dsn as _dsn
from .bouncemail import read as _read

_SUN_SUMMARY = (
    "This report relates to a message you sent with the following header fields:\n\n"
    "  Message-id: <0NFC009FLKOUVMA0@example.com>\n"
    "  Date: Fri, 21 Nov 2014 23:34:45 +0900\n"
    "  From: Notices <bounces@example.com>\n"
    "  To: team@example.org, kijitora@example.jp\n"
    "  Subject: Notice\n\n"
    "Your message cannot be delivered to the following recipients:\n\n"
)


def test_messaging_server_reports_each_recipient_record_never_the_summary_to() -> None:
    """Sun/Oracle Messaging Server: one "Recipient address:" record per recipient; the "To:"
    of the summary above them is not who bounced. "Illegal host/domain name found" is a domain
    that does not exist, hard (messagingserver.rb)."""
    raw = (
        "From: Internet Mail Delivery <postmaster@mail.example.com>\nTo: bounces@example.com\n"
        "Subject: Delivery Notification: Delivery has failed\nMIME-version: 1.0\n"
        'Content-type: multipart/mixed; boundary="Boundary_(ID_abc)"\n\n'
        "--Boundary_(ID_abc)\nContent-type: text/plain; charset=us-ascii\n\n"
        f"{_SUN_SUMMARY}"
        "  Recipient address: ana@example.net\n"
        "  Reason: Illegal host/domain name found\n\n"
        "  Recipient address: kijitora@example.jp\n"
        "  Reason: Remote SMTP server has rejected address\n"
        "  Diagnostic code: smtp;550 5.1.1 <kijitora@example.jp>... User Unknown\n"
        "  Remote system: dns;mx.example.jp (TCP|192.0.2.1|47323|192.0.2.225|25)\n\n"
        "--Boundary_(ID_abc)\nContent-type: message/rfc822\n\n"
        "From: Notices <bounces@example.com>\nTo: team@example.org, kijitora@example.jp\n"
        "Subject: Notice\n\nHello\n--Boundary_(ID_abc)--\n"
    )
    assert _read(raw) == [
        ("ana@example.net", "host_unknown", True),
        ("kijitora@example.jp", "user_unknown", True),
    ]


def test_messaging_server_reports_the_original_address_of_a_rewritten_recipient() -> None:
    """Where the address was rewritten, "Original address:" under "Recipient address:" names the
    address that was sent to: that one is reported (messagingserver.rb)."""
    raw = (
        "From: Internet Mail Delivery <postmaster@mail.example.com>\nTo: bounces@example.com\n"
        "Subject: Delivery Notification: Delivery has failed\n\n"
        f"{_SUN_SUMMARY}"
        "  Recipient address: kijitora@mbox.example.jp\n"
        "  Original address: kijitora@example.jp\n"
        "  Reason: Remote SMTP server has rejected address\n"
        "  Diagnostic code: smtp;550 5.2.2 <kijitora@mbox.example.jp>... Mailbox full\n"
    )
    assert _read(raw) == [("kijitora@example.jp", "mailbox_full", False)]


def test_messaging_server_illegal_host_in_a_delivery_status_report() -> None:
    """With a delivery-status part whose fields say little (5.0.0), the record's "Illegal
    host/domain name found" says the domain does not exist (messagingserver.rb MessagesOf)."""
    raw = _dsn(
        "From: Internet Mail Delivery <postmaster@mail.example.com>\nTo: bounces@example.com\n"
        "Subject: Delivery Notification: Delivery has failed\n",
        f"{_SUN_SUMMARY}  Recipient address: ana@example.net\n  Reason: Illegal host/domain name found\n",
        "Original-recipient: rfc822;ana@example.net\nFinal-recipient: rfc822;ana@example.net\n"
        "Action: failed\nStatus: 5.0.0 (Illegal host/domain name found)",
    )
    assert _read(raw) == [("ana@example.net", "host_unknown", True)]


def _opensmtpd(
    lines: str,
    intro: str = "An error has occurred while attempting to deliver a message for\n"
    "    the following list of recipients:",
) -> str:
    return (
        "Received: from localhost (localhost [local]); by mx.example.com (OpenSMTPD) with ESMTPA id 3c9d;\n"
        " Tue, 29 Apr 2014 23:34:45 +0900\n"
        "From: Mailer Daemon <MAILER-DAEMON@mx.example.com>\nTo: bounces@example.com\n"
        "Subject: Delivery status notification: error\n\n"
        "    Hi!\n\n    This is the MAILER-DAEMON, please DO NOT REPLY to this e-mail.\n\n"
        f"    {intro}\n\n{lines}\n    Below is a copy of the original message:\n\n"
        "From: Notices <bounces@example.com>\nTo: kijitora@example.jp\nSubject: Notice\n\nHello\n"
    )


def test_opensmtpd_reports_every_recipient_line_with_smtpd_s_own_failures() -> None:
    """OpenSMTPD: one "ADDRESS: FAILURE" line per recipient, each read on its own; smtpd's own
    failures say why without a reply: "Domain does not exist" (hard), "Envelope expired",
    "Could not retrieve credentials", "Loop detected" (soft) (opensmtpd.rb MessagesOf)."""
    raw = _opensmtpd(
        "kijitora@example.jp: 550 5.2.2 <kijitora@example.jp>... Mailbox Full\n"
        "ana@example.net: Domain does not exist\n"
        "ben@example.org: Envelope expired\n"
        "eve@example.co: Could not retrieve credentials\n"
        "fay@example.us: Loop detected\n"
    )
    assert _read(raw) == [
        ("kijitora@example.jp", "mailbox_full", False),
        ("ana@example.net", "host_unknown", True),
        ("ben@example.org", "expired", False),
        ("eve@example.co", "security", False),
        ("fay@example.us", "network", False),
    ]


def test_opensmtpd_delay_warning_lists_delayed_recipients() -> None:
    """OpenSMTPD's "A message is delayed for more than ..." notice is a warning: its recipients
    are delayed, never bounced (smtpd bounce.c notice_warning)."""
    raw = _opensmtpd(
        "ben@example.org: Network error on destination MXs\n",
        "A message is delayed for more than 4 hours for the following\n    list of recipients:",
    )
    parsed = parse_bounce(raw.encode())
    assert [(r.address, r.action, r.reason) for r in parsed.recipients] == [
        ("ben@example.org", "delayed", "network")
    ]


def test_x1_reports_the_bracketed_lines_never_the_quoted_original_s_to() -> None:
    """Unknown MTA #1 ("Mail Deliver System"): "ADDRESS [REASON]" lines name who bounced; the
    original quoted below them from its "Received: from 192.0.2.1" line (a marker the general
    reading does not know) names others in its To: (x1.rb)."""
    raw = (
        'From: "Mail Deliver System" <MAILER-DAEMON@smtp.example.co.jp>\nTo: bounces@example.com\n'
        "Subject: Returned Mail: User unknown\n\n"
        "The original message was received at Thu, 29 Apr 2010 23:34:45 +0900 (JST)\n"
        "from bounces@example.com\n\n"
        "---The following addresses had delivery errors---\n\n"
        "kijitora@example.co.jp [User unknown]\nana@example.co.jp [Mailbox full]\n\n"
        "Received: from 192.0.2.1 by smtp.example.co.jp\n"
        "From: Notices <bounces@example.com>\nTo: team@example.org\n"
        "Subject: Your account data was exposed; passwords rejected and disabled\n\nHello\n"
    )
    assert _read(raw) == [
        ("kijitora@example.co.jp", "filtered", False),
        ("ana@example.co.jp", "mailbox_full", False),
    ]


def test_amazon_workmail_reads_the_status_inside_its_vague_one() -> None:
    """Amazon WorkMail gives 5.0.0 or 5.1.0 in its fields and the remote server's status in
    the quoted reply ("5.0.0 - Unknown error 550-'5.1.1 ... User Unknown'"): that status says
    the mailbox does not exist, hard (amazonworkmail.rb)."""
    raw = _dsn(
        "From: MAILER-DAEMON@us-west-2.amazonses.com\nTo: bounces@example.com\n"
        "Subject: Delivery Status Notification (Failure)\nX-Original-Mailer: Amazon WorkMail\n"
        "X-SES-Outgoing: 2016.01.14-54.240.27.159\n",
        "We could not deliver your message.\n\nTechnical report:",
        "Action: failed\nFinal-Recipient: rfc822; kijitora@example.jp\n"
        "Diagnostic-Code: smtp; 5.0.0 - Unknown error 550-'5.1.1 <kijitora@example.jp>... User Unknown'\n"
        "Status: 5.0.0",
        "Reporting-MTA: dsn; a27-85.smtp-out.us-west-2.amazonses.com",
    )
    assert _read(raw) == [("kijitora@example.jp", "user_unknown", True)]


def _ses(fields: str) -> str:
    return _dsn(
        "From: MAILER-DAEMON@email-bounces.amazonses.com\nTo: bounces@example.com\n"
        "Subject: Delivery Status Notification (Failure)\nX-AWS-Outgoing: 199.255.192.156\n"
        "X-SES-Outgoing: 2016.10.12-54.240.27.6\n",
        "An error occurred while trying to deliver the mail to the following recipients:\n"
        "kijitora@example.jp",
        f"Action: failed\nFinal-Recipient: rfc822; kijitora@example.jp\n{fields}",
        "Reporting-MTA: dns; a27-23.smtp-out.us-west-2.amazonses.com",
    )


def test_amazon_ses_reads_the_status_inside_its_vague_one() -> None:
    """Amazon SES (the mail form): 5.0.0 in its fields, the remote server's 5.1.1 in the quoted
    reply: the mailbox does not exist, hard (amazonses.rb)."""
    raw = _ses(
        "Diagnostic-Code: smtp; 5.0.0 - Unknown error 550-'5.1.1 <kijitora@example.jp>... User Unknown'\n"
        "Status: 5.0.0"
    )
    assert _read(raw) == [("kijitora@example.jp", "user_unknown", True)]


def test_amazon_ses_delivery_expired_is_expired_whatever_the_status() -> None:
    """SES's "Delivery expired" is SES giving up after retrying: expired, soft (amazonses.rb
    MessagesOf)."""
    raw = _ses("Diagnostic-Code: smtp; Delivery expired (message too old)\nStatus: 5.0.0")
    assert _read(raw) == [("kijitora@example.jp", "expired", False)]


def _v5(subject: str, transcript: str) -> str:
    return (
        "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.org>\nTo: bounces@example.com\n"
        f"Subject: Returned mail: {subject}\n\n"
        f"   ----- Transcript of session follows -----\n{transcript}\n\n"
        "   ----- Unsent message follows -----\nReceived: from mx.example.com by mx.example.org\n"
        "From: Notices <bounces@example.com>\nTo: team@example.org\nSubject: Notice\n\nHello\n"
    )


def test_v5_sendmail_reads_each_recipient_from_its_own_transcript_lines() -> None:
    """Sendmail 5: ">>> RCPT To:<a>", "<<< reply", "550 <a>... verdict" per recipient; the
    second recipient's full mailbox says nothing of the first's unknown user (v5sendmail.rb)."""
    raw = _v5(
        "User unknown",
        "While talking to smtp.example.org:\n>>> RCPT To:<kijitora@example.org>\n"
        "<<< 550 Requested User Mailbox not found. No such user here.\n"
        "550 <kijitora@example.org>... User unknown\n>>> RCPT To:<ana@example.org>\n"
        "<<< 552 Mailbox quota exceeded\n552 <ana@example.org>... Mailbox full",
    )
    assert _read(raw) == [
        ("kijitora@example.org", "user_unknown", True),
        ("ana@example.org", "mailbox_full", False),
    ]


def test_v5_sendmail_without_a_recipient_line_reports_the_original_s_to() -> None:
    """A transcript with only "421 host (smtp)... Deferred: Connection timed out" names no
    recipient: the returned original's To: is the one that failed, expired (v5sendmail.rb)."""
    raw = _v5(
        "Deferred",
        "421 example.org (smtp)... Deferred: Connection timed out during user open with example.org",
    )
    assert _read(raw) == [("team@example.org", "expired", False)]


def _amavis(status: str, reply: str) -> str:
    return _dsn(
        'From: "Content-filter at mx.example.jp" <postmaster@mx.example.jp>\nTo: bounces@example.com\n'
        "Subject: Undeliverable mail, MTA-BLOCKED\n",
        f"The message WAS NOT relayed to:\n<kijitora@example.jp>:\n   {reply}",
        f"Final-Recipient: rfc822;kijitora@example.jp\nAction: failed\nStatus: {status}\n"
        f"Diagnostic-Code: smtp; {reply}",
    )


def test_amavis_infected_is_a_virus_not_spam() -> None:
    """amavisd-new's "id=N - INFECTED: ..." is a virus scanner's verdict (amavis.rb MessagesOf)."""
    raw = _amavis("5.7.0", "554 5.7.0 Reject, id=12345-01 - INFECTED: Eicar-Test-Signature")
    assert _read(raw) == [("kijitora@example.jp", "virus_detected", False)]


def test_amavis_oversized_is_over_the_recipient_s_own_limit() -> None:
    """amavisd-new's "Message size exceeds recipient's size limit" is the recipient's limit, not
    the receiving system's (amavis.rb MessagesOf: exceedlimit)."""
    raw = _amavis("5.3.4", "552 5.3.4 Reject, id=12345-01 - Message size exceeds recipient's size limit")
    assert _read(raw) == [("kijitora@example.jp", "exceed_limit", False)]


def _facebook(status: str, reply: str) -> str:
    return _dsn(
        "From: Facebook <mailer-daemon@mx.facebook.com>\nTo: bounces@example.com\n"
        "Subject: Sorry, your message could not be delivered\n",
        "This message was created automatically by Facebook.",
        f"Final-Recipient: rfc822; kijitora@facebook.com\nAction: failed\nStatus: {status}\n"
        f"Diagnostic-Code: smtp; {reply}",
    )


def test_facebook_s_own_pol_p7_is_the_content_refused() -> None:
    """From Facebook's own MTA, POL-P7 (the message breaks its abuse policies) is the content
    refused: its lhost table lists it under content first (facebook.rb ReFailures, 5.x)."""
    raw = _facebook("5.7.1", "554 5.7.1 POL-P7 http://postmaster.facebook.com/response_codes#pol Refused")
    assert _read(raw) == [("kijitora@facebook.com", "content_error", False)]


def test_facebook_s_own_pol_t1_is_facebook_not_accepting_our_mail_for_now() -> None:
    """POL-T1 (Facebook is not accepting messages from our server, for an hour or two) is
    not_accept, soft as a 4xx reply (facebook.rb ReFailures, 5.x)."""
    raw = _facebook("4.7.1", "421 4.7.1 POL-T1 http://postmaster.facebook.com/response_codes#pol Try later")
    assert _read(raw) == [("kijitora@facebook.com", "not_accept", False)]


def test_messaging_server_delay_notice_lists_delayed_recipients() -> None:
    """Messaging Server's "Delivery has been delayed" notice: its recipients are still being
    tried, delayed, never bounced."""
    raw = (
        "From: Internet Mail Delivery <postmaster@mail.example.com>\nTo: bounces@example.com\n"
        "Subject: Delivery Notification: Delivery has been delayed\n\n"
        f"{_SUN_SUMMARY.replace('cannot be delivered', 'has been delayed and is still awaiting delivery')}"
        "  Recipient address: kijitora@example.jp\n"
        "  Reason: Unable to connect to remote host\n"
    )
    parsed = parse_bounce(raw.encode())
    assert [(r.address, r.action) for r in parsed.recipients] == [("kijitora@example.jp", "delayed")]
    assert parsed.kind == "delay"  # a delay marks nobody bounced


def test_a_recipient_line_of_many_at_signs_is_read_in_linear_time() -> None:
    """A hostile line of 20,000 "a@" in OpenSMTPD's, X1's or Sendmail 5's recipient lines is
    read at once (an address pattern that could go back over every "@" took seconds)."""
    junk = "a@" * 20000
    raws = (
        _opensmtpd(f"{junk}x\n"),
        'From: "Mail Deliver System" <m@example.net>\nTo: b@example.com\nSubject: Returned Mail: x\n\n'
        f"The original message was received at Thu, 29 Apr 2010\n{junk}x\n",
        _v5("User unknown", f"550 <{junk}"),
    )
    for raw in raws:
        started = time.process_time()
        parse_bounce(raw.encode())
        assert time.process_time() - started < 1.0


def test_messaging_servers_original_address_wins_over_its_rewritten_final_recipient() -> None:
    """With a delivery-status part too, the record's "Original address:" is reported: the
    Final-Recipient field names the rewritten mailbox, never the address we sent to."""
    raw = (
        "From: Internet Mail Delivery <postmaster@mail.example.jp>\nTo: bounces@example.com\n"
        "Subject: Delivery Notification: Delivery has failed\nMIME-Version: 1.0\n"
        "Content-Type: multipart/report; report-type=delivery-status;\n"
        ' boundary="Boundary_(ID_AAAA)"\n\n'
        "--Boundary_(ID_AAAA)\nContent-type: text/plain; charset=us-ascii\n\n"
        f"{_SUN_SUMMARY}  Recipient address: MAILBOX7@store.example.jp\n"
        "  Original address: kijitora@example.jp\n  Reason: disk quota exceeded\n\n"
        "--Boundary_(ID_AAAA)\nContent-type: message/DELIVERY-STATUS\n\n"
        "Reporting-MTA: dns;mail.example.jp\n\nAction: failed\nStatus: 5.2.2\n"
        "Original-recipient: rfc822;kijitora@example.jp\n"
        "Final-recipient: rfc822;MAILBOX7@store.example.jp\n\n"
        "--Boundary_(ID_AAAA)--\n"
    )
    got = [(r.address, r.reason) for r in parse_bounce(raw.encode()).recipients]
    assert got == [("kijitora@example.jp", "mailbox_full")]
