"""Bounce formats that carry their own verdict are read with their own tables, and "unknown
user" words without a command or status are read as Sisimai reads them.

Fixtures are written here from each format's published layout (Sisimai's lhost modules quote
the lines they read: lib/sisimai/lhost/{domino,imailserver,mcafee,powermta,googlegroups,ezweb}.rb).
"""

from __future__ import annotations

from .bouncemail import dsn as _dsn
from .bouncemail import read as _read


def test_unknown_user_words_with_no_command_or_status_are_a_filters_verdict() -> None:
    """ "550 unknown user" in an Exim-style notice that names no SMTP command and no status is
    soft (``filtered``): the words alone do not say the address was judged at RCPT."""
    raw = (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\nTo: bounces@example.com\n"
        "Subject: Mail delivery failed\n\n"
        "This message was created automatically by mail delivery software.\n\n"
        "A message that you have sent could not be delivered to one or more\n"
        "recipients.  This is a permanent error.  The following address failed:\n\n"
        "  <ana@example.jp>: 550 unknown user\n"
    )
    assert _read(raw) == [("ana@example.jp", "filtered", False)]


def test_the_same_words_in_answer_to_rcpt_are_an_unknown_mailbox() -> None:
    """Postfix's "Recipient address rejected: User unknown" is only ever said at RCPT: hard."""
    raw = _dsn(
        "From: MAILER-DAEMON@mx.example.net\nTo: bounces@example.com\nSubject: Undelivered Mail\n",
        "I'm sorry to have to inform you that your message could not be delivered.",
        "Final-Recipient: rfc822; ana@example.jp\nAction: failed\nStatus: 5.0.0\n"
        "Diagnostic-Code: smtp; 550 <ana@example.jp>: Recipient address rejected: User unknown",
    )
    assert _read(raw) == [("ana@example.jp", "user_unknown", True)]


def test_domino_directory_misses_are_unknown_users_whatever_the_command() -> None:
    """Domino's "not listed in Domino Directory" (its subject "DELIVERY FAILURE:") is hard."""
    raw = (
        "From: Postmaster <postmaster@example.jp>\nTo: bounces@example.com\n"
        "Subject: DELIVERY FAILURE: User ana (ana@example.jp) not listed in Domino Directory\n\n"
        "Your message\n\n  Subject: Notice\n\nwas not delivered to:\n\n  ana@example.jp\n\n"
        "because:\n\n  User ana (ana@example.jp) not listed in Domino Directory\n"
    )
    assert _read(raw) == [("ana@example.jp", "user_unknown", True)]


def test_imail_names_the_reason_at_the_start_of_the_recipients_line() -> None:
    """IMail's "Unknown user: ADDRESS" (X-Mailer <SMTP32 v...>) is hard; its "User mailbox
    exceeds allowed size" is a full mailbox."""
    raw = (
        "From: Postmaster <postmaster@example.com>\nTo: bounces@example.com\nSubject: Undeliverable Mail\n"
        "X-Mailer: <SMTP32 v8.22>\n\nUnknown user: ana@example.com\n"
        "User mailbox exceeds allowed size: ben@example.com\n\nOriginal message follows.\n"
    )
    assert sorted(_read(raw)) == [
        ("ana@example.com", "user_unknown", True),
        ("ben@example.com", "mailbox_full", False),
    ]


def test_mcafee_appliance_unknown_user_is_hard() -> None:
    """McAfee Email Appliance (X-NAI-Header) "550 Unknown user ADDRESS" is an unknown user."""
    raw = _dsn(
        "From: postmaster@example.co.jp\nTo: bounces@example.com\nSubject: Delivery Status\n"
        "X-NAI-Header: Modified by McAfee Email and Web Security Virtual Appliance\n",
        "--- The following addresses had delivery problems ---\n\n"
        "<ana@example.co.jp>   (Unknown user ana@example.co.jp)",
        "Final-Recipient: RFC822; ana@example.co.jp\nAction: failed\nStatus: 5.0.0\n"
        "Diagnostic-Code: SMTP; 550 Unknown user ana@example.co.jp",
    )
    assert _read(raw) == [("ana@example.co.jp", "user_unknown", True)]


def test_powermta_bounce_category_settles_the_reason() -> None:
    """PowerMTA's X-PowerMTA-BounceCategory "bad-mailbox" outranks a status of 5.2.1."""
    raw = _dsn(
        "From: postmaster@mx2.example.com\nTo: bounces@example.com\nSubject: Delivery report\n",
        "Hello, this is the mail server on mx2.example.com.",
        "Final-Recipient: rfc822;ana@example.org\nAction: failed\nStatus: 5.2.1\n"
        "Diagnostic-Code: smtp;550 5.2.1 <ana@example.org>... User Unknown\n"
        "X-PowerMTA-BounceCategory: bad-mailbox",
    )
    assert _read(raw) == [("ana@example.org", "user_unknown", True)]


def test_a_google_group_that_refuses_the_post_is_rejected_in_any_language() -> None:
    """Google Groups' notice lists four possible causes as bullet points: the group refused the
    post (rejected, soft), whatever language the notice is in."""
    raw = (
        "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\nTo: bounces@example.com\n"
        "Subject: Delivery Status Notification (Failure)\nX-Failed-Recipients: team@googlegroups.com\n\n"
        "Hola:\n\nQueremos informarte de que el grupo quizás no exista.\n\n"
        " * Es posible que no escribieras correctamente el nombre del grupo.\n"
        " * El propietario del grupo puede haber eliminado el grupo.\n"
        " * Es posible que primero debas unirte a él.\n"
        " * Es posible que este grupo no admita publicaciones.\n\n"
        "Google Groups\n\n----- Original message -----\n\nTo: team@googlegroups.com\n"
    )
    assert _read(raw) == [("team@googlegroups.com", "rejected", False)]


def test_ezweb_says_a_disabled_account_above_the_recipient_line() -> None:
    """au EZweb puts "The user(s) account is disabled." above the recipient's line: suspended
    (soft), even though that line quotes "user unknown"."""
    raw = (
        "From: Mail Administrator <Postmaster@ezweb.ne.jp>\nTo: bounces@example.com\n"
        "Subject: Mail System Error - Returned Mail\nMessage-Id: <1.2@lsean.ezweb.ne.jp>\n\n"
        "The user(s) account is disabled.\n\n"
        "<ana@ezweb.ne.jp>: 550 user unknown (in reply to RCPT TO command)\n"
    )
    assert _read(raw) == [("ana@ezweb.ne.jp", "suspended", False)]


def test_a_sendmail_line_with_its_own_reply_is_not_read_with_the_next_recipients() -> None:
    """In a Sendmail transcript, "554 <a>... Connection reset" is a's whole verdict: the "Host
    unknown" lines of the next recipient below it do not make a's address dead."""
    raw = (
        "From: Mail Delivery Subsystem <MAILER-DAEMON@example.com>\nTo: bounces@example.com\n"
        "Subject: Returned mail: User unknown\n\n"
        "   ----- Transcript of session follows -----\n"
        "554 <ana@example.edu>... Remote protocol error: Connection reset by peer during result wait\n"
        "550 example.or.jp (smtp)... 550 Host unknown\n"
        "554 <ben@example.or.jp>... 550 Host unknown (Authoritative answer from name server)\n"
        "   ----- Unsent message follows -----\nTo: ana@example.edu\n\nhi\n"
    )
    read = dict((a, (reason, hard)) for a, reason, hard in _read(raw))
    assert read["ben@example.or.jp"] == ("host_unknown", True)
    assert read["ana@example.edu"][1] is False


def test_your_mail_is_not_our_mail_command() -> None:
    """ "our MAIL FROM" names the command a failure answered; "your mail from ..." in a
    sentence about the message does not."""
    from notifier.bounces.commands import command_in

    assert command_in("550 refused: our MAIL FROM was rejected") == "MAIL"
    assert command_in("550 your mail from this sender was refused") == ""
