"""Formats that list their recipients themselves (Exim's two-space lines, Gmail's older notice,
DragonFly's "error delivering your mail to", Exchange 2003's "ADDRESS on DATE"): who bounced is
read from those lines, never from the summary or the returned original. Fixtures are written here
after the layouts that Sisimai's lib/sisimai/lhost/<name>.rb reads (quoted per test)."""

from __future__ import annotations

from .bouncemail import read

_HEAD = (
    "From: Mail Delivery System <Mailer-Daemon@mx.example.net>\nTo: bounces@notices.example.com\n"
    "Subject: Mail delivery failed: returning message to sender\n"
    "Message-Id: <E1P1YNN-0003AD-Ga@mx.example.net>\n\n"
    "This message was created automatically by mail delivery software.\n\n"
    "A message that you sent could not be delivered to one or more of its\n"
    "recipients. This is a permanent error. The following address(es) failed:\n\n"
)
_COPY = "\n------ This is a copy of the message, including all the headers. ------\n\nFrom: n@example.com\n"


def test_every_listed_recipient_is_read_even_where_its_own_lines_say_little() -> None:
    # "  ADDRESS" then indented lines; the second recipient's lines carry only a host name.
    got = read(
        _HEAD + "  one@example.org\n    SMTP error from remote mail server after RCPT TO:<one@example.org>:\n"
        "    host mx.example.org [192.0.2.1]: 550 5.1.1 <one@example.org>: Recipient address rejected\n"
        "  two@example.org\n    delivery to pipe forbidden\n" + _COPY
    )
    assert [(a, reason) for a, reason, _ in got] == [
        ("one@example.org", "user_unknown"),
        ("two@example.org", "system"),
    ]


def test_an_undisclosed_address_is_the_address_it_was_generated_from() -> None:
    # "  an undisclosed address\n    (generated from someone@example.org)" (exim.rb alias).
    got = read(
        _HEAD + "  an undisclosed address\n    (generated from someone@example.org)\n"
        "    all relevant MX records point to non-existent hosts\n" + _COPY
    )
    assert [(a, reason, hard) for a, reason, hard in got] == [("someone@example.org", "host_unknown", True)]


def test_a_forwarded_address_is_read_as_the_final_address_in_angle_brackets() -> None:
    # "  alias@example.org <someone@example.net>: ..." names the address mail went on to.
    got = read(_HEAD + "  alias@example.org <someone@example.net>: mailbox is full\n" + _COPY)
    assert [(a, reason) for a, reason, _ in got] == [("someone@example.net", "mailbox_full")]


def test_gmail_lists_its_recipients_on_lines_of_their_own() -> None:
    # Gmail's older notice (gmail.rb StartingOf): the address a remote reply names as a contact
    # ("send an e-mail message ... to help@dnsbl.example.lv") is nobody who bounced.
    got = read(
        "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\nTo: bounces@notices.example.com\n"
        "Subject: Delivery Status Notification (Failure)\n\n"
        "This is an automatically generated Delivery Status Notification\n\n"
        "Delivery to the following recipient failed permanently:\n\n     someone@example.lv\n\n"
        "Technical details of permanent failure:\nPERM_FAILURE: SMTP Error (state 9): 550 5.7.1 Your "
        "message was blocked by EXAMPLE DNSBL. If you are not a spammer, send an e-mail message from "
        "another address to help@dnsbl.example.lv.\n\n"
        "   ----- Original message -----\n\nFrom: n@example.com\n"
    )
    assert [a for a, _, _ in got] == ["someone@example.lv"]


def test_dragonfly_names_its_recipient_even_at_a_postmaster_address() -> None:
    # dma's "There was an error delivering your mail to <ADDRESS>." (dragonfly.rb): a postmaster@
    # named there is who the mail was for, not the mail system's own address.
    got = read(
        "From: MAILER-DAEMON <>\nTo: notices@example.com\nSubject: Mail delivery failed\n"
        "Received: from MAILER-DAEMON\n\tid e0724\n\tby df.example.com (DragonFly Mail Agent v0.13);\n"
        "\tTue, 11 Jun 2024 18:15:33 +0900\n\n"
        "This is the DragonFly Mail Agent v0.13 at df.example.com.\n\n"
        "There was an error delivering your mail to <postmaster@example.org>.\n\n"
        "email.example.org [192.0.2.25] did not like our RCPT TO:\n"
        "552 5.2.2 <postmaster@example.org>: Recipient address rejected: Mailbox full\n\n"
        "Message headers follow.\n\nTo: <postmaster@example.org>\nFrom: <notices@example.com>\n"
    )
    assert got == [("postmaster@example.org", "mailbox_full", False)]


def test_exchange_2003_lists_its_recipients_after_the_summary_of_the_original() -> None:
    # exchange2003.rb: "did not reach the following recipient(s):" then "ADDRESS on DATE" or an
    # X.400 "...SMTP=ADDRESS on DATE"; the summary's To: (a list) is nobody who bounced.
    got = read(
        "From: System Administrator <postmaster@example.net>\nTo: bounces@notices.example.com\n"
        "Subject: Undeliverable: Notice\nX-MS-Embedded-Report: \n\n"
        "Your message\n\n  To:      staff@example.net\n  Subject: Notice\n"
        "  Sent:    Thu, 29 Apr 2010 23:34:45 +0900\n\n"
        "did not reach the following recipient(s):\n\n"
        "one@example.net on Thu, 29 Apr 2010 23:34:46 +0900\n"
        "    The recipient name is not recognized\n"
        "\tThe MTS-ID of the original message is: c=JP;a= ;p=neko;l=NEKO\n"
        "    MSEXCH:IMS:KIJITORA CAT:EXAMPLE:LHOST-RELAY 0 (000C05A6) Unknown Recipient\n"
        "c=US;a= ;p=EXAMPLE;o=Hub;dda:SMTP=two@example.net; on Thu, 29 Apr 2010 23:34:46 +0900\n"
        "    The recipient name is not recognized\n"
        "    MSEXCH:IMS:KIJITORA CAT:EXAMPLE:LHOST-RELAY 0 (000C05A6) Unknown Recipient\n"
    )
    assert sorted(got) == [
        ("one@example.net", "user_unknown", True),
        ("two@example.net", "user_unknown", True),
    ]
