"""What kind of message arrived: a bounce, a delay warning, an auto-reply or a complaint. Each
kind is acted on differently (only a final bounce or a complaint changes who is written to), so
a bounce that looks like an auto-reply, or a complaint whose MIME is broken, must not be missed.
Fixtures are written here after each format's published layout."""

from __future__ import annotations

from notifier.bounces.parse import parse_bounce

_EXIM_BODY = (
    "This message was created automatically by mail delivery software.\n\n"
    "A message that you sent could not be delivered to one or more of its\n"
    "recipients. This is a permanent error. The following address(es) failed:\n\n"
    "  gone@example.org\n    SMTP error from remote mail server after RCPT TO:<gone@example.org>:\n"
    "    host mx.example.org [192.0.2.1]: 550 5.1.1 User unknown\n\n"
    "------ This is a copy of the message, including all the headers. ------\n\n"
    "From: notices@example.com\nTo: gone@example.org\nSubject: Notice\n\nhello\n"
)


def test_a_bounce_in_a_known_format_is_a_bounce_even_with_auto_reply_headers() -> None:
    # Some relays stamp every message they generate "Auto-Submitted: auto-replied"; Exim's own
    # layout still says it is a bounce (Sisimai reads RFC 3834 only after every MTA module).
    raw = (
        "From: Mail Delivery System <Mailer-Daemon@mx.example.net>\nTo: bounces@notices.example.com\n"
        "Subject: Out of Office: Notice\nAuto-Submitted: auto-replied\n"
        "Message-Id: <E1P1YNN-0003AD-Ga@mx.example.net>\n\n" + _EXIM_BODY
    ).encode()
    parsed = parse_bounce(raw)
    assert parsed.kind == "bounce"
    got = [(r.address, r.reason, r.hard) for r in parsed.recipients]
    assert got == [("gone@example.org", "user_unknown", True)]


def test_an_auto_reply_naming_a_colleague_stays_an_auto_reply() -> None:
    # An Exchange "Automatic reply" from a system a format is recognised by: the address in its
    # words is somebody to write to instead, never somebody who bounced.
    raw = (
        b"From: Someone <someone@example.org>\nTo: notices@example.com\n"
        b"Subject: Automatic reply: Notice\nAuto-Submitted: auto-replied\n"
        b"X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent\n"
        b"X-MS-Exchange-Message-Is-Ndr: \nContent-Language: en-US\n\n"
        b"I am out of the office until Monday. For anything urgent, write to colleague@example.org.\n"
    )
    parsed = parse_bounce(raw)
    assert parsed.kind == "auto-reply"
    assert [(r.address, r.reason) for r in parsed.recipients] == [("someone@example.org", "vacation")]


def test_a_bounce_with_a_german_subject_and_auto_reply_headers_is_a_bounce() -> None:
    raw = (
        "From: Mail Delivery System <Mailer-Daemon@mx.example.net>\nTo: bounces@notices.example.com\n"
        "Subject: Unzustellbar: Notice\nAuto-Submitted: auto-replied\n\n" + _EXIM_BODY
    ).encode()
    assert parse_bounce(raw).kind == "bounce"


def test_a_complaint_whose_mime_is_broken_is_still_a_complaint() -> None:
    # An RFC 5965 report whose boundary does not match: its fields are lines of the text.
    raw = (
        b"From: feedback@isp.example.net\nTo: fbl@notices.example.com\nSubject: Abuse report\n"
        b"MIME-Version: 1.0\n"
        b'Content-Type: multipart/report; report-type=feedback-report; boundary="right"\n\n'
        b"--wrong\nContent-Type: text/plain\n\nThis is an email abuse report for an email message "
        b"received from IP 192.0.2.1.\n\n--wrong\nContent-Type: message/feedback-report\n\n"
        b"Feedback-Type: abuse\nUser-Agent: ExampleFBL/1.0\nVersion: 1\n"
        b"Original-Rcpt-To: <complainer@example.org>\n\n--wrong--\n"
    )
    parsed = parse_bounce(raw)
    assert parsed.kind == "complaint"
    assert [r.address for r in parsed.recipients] == ["complainer@example.org"]


def test_a_warning_that_delivery_was_postponed_is_a_delay_not_a_bounce() -> None:
    # "Delivery ... has been postponed due to a full mailbox. We will continue to try ...": a
    # delay marks nobody bounced.
    raw = (
        b"From: postmaster@mail.example.net\nTo: bounces@notices.example.com\n"
        b"Subject: Mail Delivery Warning\n\n"
        b"This is an advisory-only email.  Please do not reply to it.\n\n"
        b'Delivery of email to this address\n\n"someone@example.org"\n\n'
        b"has been postponed due to a full mailbox.\n\n"
        b"We will continue to try to deliver your message over the next few days.\n"
    )
    parsed = parse_bounce(raw)
    assert parsed.kind == "delay"
    assert [(r.address, r.reason, r.action) for r in parsed.recipients] == [
        ("someone@example.org", "mailbox_full", "delayed")
    ]


def test_a_notice_from_the_null_sender_is_a_bounce_not_an_auto_reply() -> None:
    # Exim's filter answering "From: <>" with Auto-Submitted: auto-replied and no subject.
    raw = (
        b"From: <>\nTo: bounces@notices.example.com\nAuto-Submitted: auto-replied\n"
        b"Message-Id: <E1NPawY-00030K-TS@mx.example.net>\n\n"
        b"You sent mail to someone@example.org. That's not a valid user here.\n"
    )
    parsed = parse_bounce(raw)
    assert parsed.kind == "bounce"
    assert [r.address for r in parsed.recipients] == ["someone@example.org"]


def test_the_returned_originals_headers_quoted_without_a_marker_name_nobody() -> None:
    # A Sendmail transcript followed by the original's headers with no line announcing them:
    # the original's To: is where the notice went before a forward, not who bounced.
    raw = (
        b"From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>\nTo: bounces@notices.example.com\n"
        b"Subject: Returned mail: see transcript for details\n\n"
        b"The original message was received at Wed, 7 Apr 2010 00:39:02 +0100 (BST)\n\n"
        b"from mx2.example.net [192.0.2.7]\n<fred@mailhost.example.org>\n... while talking to localhost:\n"
        b">>> DATA\n<<< 552 5.2.2 Over quota\n554 5.0.0 Service unavailable\n\n"
        b"Return-Path: <bounces@notices.example.com>\nMIME-Version: 1.0\n"
        b"Date: Wed, 7 Apr 2010 00:38:24 +0100\nFrom: Notices <notices@example.com>\nSubject: Notice\n"
        b"To: Fred <fred@example.org>\nMessage-Id: <1@notices.example.com>\n\n"
        b"Your account details were exposed; the old password is now invalid and access was denied.\n"
    )
    parsed = parse_bounce(raw)
    got = [(r.address, r.reason) for r in parsed.recipients]
    assert got == [("fred@mailhost.example.org", "mailbox_full")]


def test_auto_replies_in_other_languages_and_exchanges_oof_marker_are_auto_replies() -> None:
    for headers in (
        "Subject: [Automatyczna =?iso-8859-2?Q?odpowied=BC?=] Notice\n",  # Polish client
        "Subject: Arpus biroja automatiska atbilde: Notice\n",  # Latvian client
        "Subject: Notice\nX-Auto-Response-Suppress: OOF\n",  # Exchange's out-of-office reply
    ):
        raw = f"From: Someone <someone@example.org>\nTo: notices@example.com\n{headers}\nI am away.\n"
        parsed = parse_bounce(raw.encode())
        assert parsed.kind == "auto-reply", headers
        assert [r.address for r in parsed.recipients] == ["someone@example.org"]


def _report(fields: str) -> bytes:
    return (
        "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>\nTo: bounces@notices.example.com\n"
        "Subject: Return receipt\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
        "--B\nContent-Type: text/plain\n\nThe original message was received.\n\n"
        "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n"
        f"{fields}\n\n--B--\n"
    ).encode()


def test_an_action_with_a_comment_is_read_by_its_first_word() -> None:
    # Sendmail: "Action: relayed (to non-DSN-aware mailer)" with Status 2.1.5 is a success.
    parsed = parse_bounce(
        _report(
            "Final-Recipient: RFC822; someone@example.net\n"
            "Action: relayed (to non-DSN-aware mailer)\nStatus: 2.1.5"
        )
    )
    assert parsed.kind == "delivered"


def test_postfixs_address_verification_report_is_a_delivery_not_a_bounce() -> None:
    # "sendmail -bv": "Action: deliverable" with Status 2.1.5.
    parsed = parse_bounce(
        _report("Final-Recipient: rfc822; someone@example.net\nAction: deliverable\nStatus: 2.1.5")
    )
    assert parsed.kind == "delivered"


def test_a_final_address_at_a_bare_host_name_reports_the_original_address() -> None:
    # Messaging Server's local delivery agent: the address we sent to is the original one.
    parsed = parse_bounce(
        _report(
            "Original-recipient: rfc822;someone@example.com\nFinal-recipient: rfc822;someone@sims-ms-daemon\n"
            "Action: failed\nStatus: 5.2.2 (recipient reached disk quota)"
        )
    )
    assert [(r.address, r.reason) for r in parsed.recipients] == [("someone@example.com", "mailbox_full")]


def test_a_final_address_no_mail_system_accepts_is_still_who_the_report_is_about() -> None:
    parsed = parse_bounce(
        _report("Final-Recipient: RFC822; someone@#example.net\nAction: failed\nStatus: 5.1.2")
    )
    assert [(r.address, r.reason, r.hard) for r in parsed.recipients] == [
        ("someone@#example.net", "host_unknown", True)
    ]


def test_a_double_bounce_reports_only_its_own_recipient() -> None:
    # The returned original is itself a bounce with its own delivery-status part (Sendmail
    # returning a bounce it could not deliver): that inner report is about somebody else.
    inner = _report("Final-Recipient: RFC822; inner@example.com\nAction: failed\nStatus: 5.1.1").decode()
    raw = (
        "From: Mail Delivery Subsystem <MAILER-DAEMON@mx2.example.net>\nTo: bounces@notices.example.com\n"
        "Subject: Returned mail: see transcript for details\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="OUTER"\n\n'
        "--OUTER\nContent-Type: text/plain\n\n"
        "   ----- The following addresses had permanent fatal errors -----\n"
        "<outer@example.org>\n\n--OUTER\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx2\n\n"
        "Final-Recipient: RFC822; outer@example.org\nAction: failed\nStatus: 5.1.1\n\n"
        f"--OUTER\nContent-Type: message/rfc822\n\n{inner}\n--OUTER--\n"
    )
    assert [r.address for r in parse_bounce(raw.encode()).recipients] == ["outer@example.org"]


def test_a_final_address_with_control_characters_is_nobody() -> None:
    # Taken as written only when nothing in it could end a header or hide in a log line.
    parsed = parse_bounce(
        _report("Final-Recipient: RFC822; some\x1b[2Jone@example\nAction: failed\nStatus: 5.1.1")
    )
    assert parsed.recipients == []
