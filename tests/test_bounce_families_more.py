"""More mail systems' own bounce formats (Messaging Server, OpenSMTPD, ...): who bounced and why
as each format's own lines say it.

Each fixture is written here around the markers, field lines and wordings the Sisimai lhost
module for that format reads (lib/sisimai/lhost/<name>.rb, named in each test), never copied
from a sample corpus.
"""

from __future__ import annotations

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
