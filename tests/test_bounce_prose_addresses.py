"""Who bounced, when a notice names addresses in its prose: quoted, in X.400 form, beside a
directory's suggestions, or where the list or the author is named too. Each fixture is written
here after the wording of the system named in its test (no sample file is copied)."""

from __future__ import annotations

from notifier.bounces.parse import parse_bounce
from tests.bouncemail import read


def test_a_notice_in_a_charset_python_does_not_know_is_still_read() -> None:
    # Real notices declare labels such as "ansi_x3.110-1983"; before, the reader raised.
    raw = (
        b"From: MAILER-DAEMON@mx.example.net\nTo: bounces@notices.example.com\n"
        b"Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
        b'Content-Type: text/plain; charset="ansi_x3.110-1983"\n\n'
        b"<gone@example.org>: host mx.example.org said: 550 5.1.1 User unknown\n"
        b"    (in reply to RCPT TO command)\n"
    )
    parsed = parse_bounce(raw)
    assert [(r.address, r.hard) for r in parsed.recipients] == [("gone@example.org", True)]


def test_an_address_quoted_in_prose_loses_its_quote() -> None:
    # Exim 2.x: "The following message, addressed to 'someone@example.org', failed because ..."
    got = read(
        "From: Mail Delivery System <Mailer-Daemon@mx.example.net>\nTo: bounces@notices.example.com\n"
        "Subject: Mail delivery failure\n\n"
        "The following message, addressed to 'someone@example.org',\n"
        "failed because it has not been collected after 30 days\n"
    )
    assert [(a, reason) for a, reason, _ in got] == [("someone@example.org", "expired")]


def test_an_x400_address_is_read_without_its_smtp_attribute() -> None:
    # Exchange 5.5's Internet Mail Service names the recipient as an X.400 address.
    got = read(
        "From: System Administrator <postmaster@example.net>\nTo: bounces@notices.example.com\n"
        "Subject: Undeliverable: Your account\n\n"
        "Your message\n\n  To:      someone@example.org\n  Subject: Your account\n\n"
        "did not reach the following recipient(s):\n\n"
        "c=US;a= ;p=EXAMPLE;o=Hub;dda:SMTP=someone@example.org; on Fri, 4 Oct 2002\n"
        "    The recipient name is not recognized\n"
    )
    assert [a for a, _, _ in got] == ["someone@example.org"]


def test_a_list_named_by_its_return_path_is_never_the_recipient() -> None:
    # A bounce to Mailman's "news-bounces@" return path that names "news@" as the refused
    # sender: news@ is the list, and with nobody else named nobody is marked bounced.
    got = read(
        "From: Mail Delivery System <MAILER-DAEMON@example.net>\nTo: <news-bounces@lists.example.com>\n"
        "Subject: Mail Delivery Problem\n\n"
        "Your mail to the following recipients could not be delivered because\n"
        "they are not accepting mail from news@lists.example.com:\n\tsomeone\n"
    )
    assert "news@lists.example.com" not in [a for a, _, _ in got]


def test_a_message_its_author_sent_to_themselves_bounces_for_that_address() -> None:
    # A test send to one's own address: the returned copy's From and To are the same person.
    got = read(
        "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\nTo: relay@mx.example.net\n"
        "Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="B"\n\n'
        "--B\nContent-Type: text/plain\n\nThis is the Postfix program at host mx.example.net.\n\n"
        "<me@example.org>: Name service error for domain example.org: Host not found, try again\n\n"
        "--B\nContent-Type: message/rfc822\n\n"
        "From: me@example.org\nTo: me@example.org\nSubject: testing\n\nhello\n--B--\n"
    )
    assert [a for a, _, _ in got] == ["me@example.org"]


def test_the_returned_copys_envelope_recipient_picks_among_a_directorys_suggestions() -> None:
    # A site's own notice that suggests other people to contact, then quotes the original with
    # "> " prefixes; its Received header says "for <someone@example.org>".
    got = read(
        "From: MAILER-DAEMON@example.net\nTo: bounces@notices.example.com\n"
        "Subject: Returned mail: User unknown\n\n"
        "The standard form of email address here is lastnameNumber@example.net.\n"
        "The address to which your message was addressed, someone@example.org, did not match.\n\n"
        "  Someone Else            +1 555 0100       other@example.org\n\n"
        "Original message as received is as follows:\n"
        "=========================================\n"
        ">Received: from mx.example.com by mail.example.net with ESMTP id X1 for <someone@example.org>;"
        " Sun, 27 May 2001 14:21:25 -0700\n"
        ">From: notices@example.com\n"
    )
    assert [a for a, _, _ in got] == ["someone@example.org"]


def test_an_mdaemon_warning_that_a_user_is_unknown_is_a_bounce() -> None:
    # MDaemon: "Subject: Warning: someone@example.org - User unknown!", sent by MDaemon@host.
    parsed = parse_bounce(
        b"From: MDaemon@mail.example.net\nTo: bounces@notices.example.com\n"
        b"Subject: Warning: someone@example.org - User unknown!\n\n"
        b"someone@example.org - no such user here.\n\nThere is no user by that name at this server.\n"
    )
    assert parsed.kind == "bounce"
    assert [r.address for r in parsed.recipients] == ["someone@example.org"]


def test_every_recipient_a_notice_lists_with_its_own_words_is_read() -> None:
    # Yahoo's older notice: each address on its own line, its reason on the next; before, only
    # the one whose words looked like an error ("disabled") was kept.
    got = read(
        "From: MAILER-DAEMON@mx.example.net\nTo: bounces@notices.example.com\n"
        "Subject: failure delivery\n\n"
        "Message from example.net.\nUnable to deliver message to the following address(es).\n\n"
        "<one@example.org>:\nThis user doesn't have a example.net account (one@example.org) [0]\n\n"
        "<two@example.org>:\nSorry your message to two@example.org cannot be delivered. "
        "This account has been disabled or discontinued [#102].\n\n"
        "<three@example.org>:\nThis user doesn't have a example.net account (three@example.org) [0]\n\n"
        "--- Original message follows.\n"
    )
    assert sorted(a for a, _, _ in got) == ["one@example.org", "three@example.org", "two@example.org"]


def test_a_reason_said_once_before_several_recipients_applies_to_each() -> None:
    # Netscape Messaging Server: the reason first, then one "did not receive" line per recipient.
    got = read(
        "From: Mail Delivery Subsystem <MAILER-DAEMON@mail.example.net>\n"
        "To: bounces@notices.example.com\nSubject: Delivery Notification: Delivery has failed\n\n"
        "This Message was undeliverable due to the following reason:\n\n"
        "Your message was not delivered because the destination computer was\n"
        "not reachable within the allowed queue period.  The amount of time\n"
        "a message is queued before it is returned depends on local configuration parameters.\n\n"
        "Most likely there is a network problem that prevented delivery, but\n"
        "it is also possible that the computer is turned off, or does not\n"
        "have a mail system running right now.\n\n"
        "The following recipients did not receive your message:\n\n     <one@example.org>\n"
        "The following recipients did not receive your message:\n\n     <two@example.org>\n\n"
        "Please reply to Postmaster@mail.example.net if you feel this message to be in error.\n"
    )
    assert sorted((a, reason, hard) for a, reason, hard in got) == [
        ("one@example.org", "expired", False),
        ("two@example.org", "expired", False),
    ]


def test_a_charset_label_with_a_nul_in_it_is_read_as_utf8() -> None:
    raw = (
        b"From: MAILER-DAEMON@mx.example.net\nTo: bounces@notices.example.com\n"
        b"Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
        b'Content-Type: text/plain; charset="utf\x00-8"\n\n'
        b"<gone@example.org>: host mx.example.org said: 550 5.1.1 User unknown\n"
    )
    assert [r.address for r in parse_bounce(raw).recipients] == ["gone@example.org"]


def test_aols_screen_names_are_its_addresses_and_the_recipients_own_filter() -> None:
    # Aol's "Mail Delivery Problem" (written by Exchange 2003) lists screen names only.
    raw = (
        "X-MimeOLE: Produced By Microsoft Exchange V6.5\n"
        'From: "Mail Delivery Subsystem" <MAILER-DAEMON@aol.com>\nTo: <bounces@notices.example.com>\n'
        "Subject: Mail Delivery Problem\n\n"
        "Sorry bounces@notices.example.com. Your mail to the following recipients could not be\n"
        "delivered because they are not accepting mail with attachments or embedded images:\n"
        "\tscreenname\n\totherone\n"
    )
    assert sorted(read(raw)) == [
        ("otherone@aol.com", "filtered", False),
        ("screenname@aol.com", "filtered", False),
    ]
