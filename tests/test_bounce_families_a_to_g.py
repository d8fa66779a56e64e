"""Mail systems' own bounce formats, Aol to Google, read with what each format says of itself:
its own tables, the SMTP command on a line of its own, its own recipient lines.

Each fixture is written here around the example lines the Sisimai module for the format quotes in
its comments (lib/sisimai/lhost/<name>.rb, named in each test); each fails without the family.
"""

from __future__ import annotations

import dataclasses

from notifier.bounces.families.reason_order import settled
from notifier.bounces.parse import parse_bounce
from notifier.bounces.report import BouncedRecipient

from .bouncemail import dsn as _dsn
from .bouncemail import read as _read


def _aol(extra_headers: str) -> str:
    return _dsn(
        f"From: MAILER-DAEMON@aol.com\nTo: bounces@example.com\nSubject: Undelivered Mail\n{extra_headers}",
        "I'm sorry to have to inform you that your message could not be delivered.",
        "Final-Recipient: rfc822; ana@example.jp\nAction: failed\nStatus: 5.4.4\n"
        "Diagnostic-Code: X-Postfix; Host or domain name not found. Name service error for "
        "name=example.jp type=MX: Malformed or unexpected name server reply",
    )


def test_aol_relay_says_host_or_domain_name_not_found_for_a_domain_that_does_not_exist() -> None:
    """Aol's relay (X-AOL-IP) "Host or domain name not found" is an unknown domain, hard, even
    with a malformed MX answer after it (aol.rb MessagesOf, hostunknown first)."""
    assert _read(_aol("X-AOL-IP: 192.0.2.135\n")) == [("ana@example.jp", "host_unknown", True)]


def test_the_same_postfix_words_from_another_relay_are_network_trouble() -> None:
    """Without Aol's header, a malformed name server reply is trouble on the way: soft."""
    assert _read(_aol("")) == [("ana@example.jp", "network", False)]


def test_apache_james_names_the_recipient_on_its_rcpt_to_lines() -> None:
    """Apache James ("[BOUNCE]") lists the recipients as "  RCPT TO:" lines in its message
    details (more indented below): the list its "To:" names and the sender are not bounced
    (apachejames.rb; James AbstractNotify.java)."""
    raw = (
        "From: postmaster@mx.example.org\nTo: bounces@example.com\nSubject: [BOUNCE]\n"
        "Message-ID: <1.1430237650.JavaMail.root@mx.example.org>\n\n"
        "Hi. This is the James mail server at mx.example.org.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
        "Error message below:\n550 - Requested action not taken: no such user here\n\n"
        "Message details:\n  Subject: Notice\n  Sent date: Thu Apr 29 01:20:50 JST 2015\n"
        "  MAIL FROM: notices@example.com\n  RCPT TO: ana@example.org\n           ben@example.org\n"
        "  From: Notices <notices@example.com>\n  To: staff@example.org\n"
        "  Size (in bytes): 1024\n  Number of lines: 64\n"
    )
    assert [a for a, _, _ in _read(raw)] == ["ana@example.org", "ben@example.org"]


def test_courier_dns_lookup_failed_is_network_trouble() -> None:
    """Courier's esmtp client "DNS lookup failed." is a network problem, soft (courier.rb;
    esmtpclient.c), where the general reading could only say "on hold"."""
    raw = _dsn(
        "From: Courier mail server at mx.example.jp <@>\nTo: bounces@example.com\n"
        "Subject: NOTICE: mail delivery status.\nMessage-ID: <courier.4D025E3A.00001792@mx.example.jp>\n",
        "UNDELIVERABLE MAIL\n\n<ana@example.co.jp>:\n    DNS lookup failed.",
        "Final-Recipient: rfc822; ana@example.co.jp\nAction: failed\nStatus: 5.0.0\n"
        "Diagnostic-Code: smtp; DNS lookup failed.",
    )
    assert _read(raw) == [("ana@example.co.jp", "network", False)]


def test_dragonfly_names_rcpt_on_its_own_line_so_an_unknown_user_is_hard() -> None:
    """dma's "HOST [IP] did not like our RCPT TO:" names the command above the reply: "550
    Unknown user" then judged only the address (dragonfly.rb; dma net.c)."""
    raw = (
        "From: MAILER-DAEMON@df.example.jp\nTo: bounces@example.com\nSubject: Mail delivery failed\n"
        "Received: from df.example.jp (DragonFly Mail Agent v0.13); Tue, 1 Jan 2025 00:00:00 +0900\n\n"
        "This is the DragonFly Mail Agent v0.13 at df.example.jp.\n\n"
        "There was an error delivering your mail to <ana@example.com>.\n\n"
        "email.example.jp [192.0.2.25] did not like our RCPT TO:\n550 Unknown user\n\n"
        "Original message follows.\n\nFrom: notices@example.com\nTo: ana@example.com\n"
    )
    assert _read(raw) == [("ana@example.com", "user_unknown", True)]


def test_exchange_2007_recipient_size_limit_is_a_message_too_big() -> None:
    """Exchange 2007's RESOLVER.RST.RecipSizeLimit says our message is too big, not that the
    mailbox is (exchange2007.rb NDRSubject)."""
    raw = (
        "From: postmaster@example.jp\nTo: bounces@example.com\nSubject: Undeliverable: Notice\n"
        "Content-Language: en-US\n\nDelivery has failed to these recipients or groups:\n\n"
        "ana@example.jp\nThe message is too large.\n\nDiagnostic information for administrators:\n\n"
        "Generating server: mta2.example.jp\n\nana@example.jp\n"
        "#550 5.2.3 RESOLVER.RST.RecipSizeLimit; message too large for this recipient ##\n\n"
        "Original message headers:\n\nFrom: notices@example.com\n"
    )
    assert _read(raw) == [("ana@example.jp", "message_too_big", False)]


def test_exchange_2007_not_authorized_is_our_sender_rejected() -> None:
    """Exchange 2007's RESOLVER.RST.NotAuthorized (5.7.1) says our sender may not write to the
    recipient: rejected, not our host blocked (exchange2007.rb NDRSubject)."""
    raw = (
        "From: postmaster@example.jp\nTo: bounces@example.com\nSubject: Undeliverable: Notice\n"
        "Content-Language: en-US\n\nDelivery has failed to these recipients or groups:\n\n"
        "ana@example.jp\n\nDiagnostic information for administrators:\n\n"
        "Generating server: mta2.example.jp\n\nana@example.jp\n"
        "#550 5.7.1 RESOLVER.RST.NotAuthorized; not authorized ##\n\n"
        "Original message headers:\n\nFrom: notices@example.com\n"
    )
    assert _read(raw) == [("ana@example.jp", "rejected", False)]


_EXIM = (
    "From: Mail Delivery System <Mailer-Daemon@mx.example.jp>\nTo: bounces@example.com\n"
    "Subject: Mail delivery failed: returning message to sender\n"
    "Message-Id: <E1P1YNN-0003AD-Ga@mx.example.jp>\n\n"
    "This message was created automatically by mail delivery software.\n\n"
    "A message that you sent could not be delivered to one or more of its\n"
    "recipients. This is a permanent error. The following address(es) failed:\n\n"
    "  ana@example.jp\n    {}\n\n"
    "------ This is a copy of the message, including all the headers. ------\n\nFrom: notices@example.com\n"
)


def test_exim_user_not_found_is_an_unknown_user() -> None:
    """Exim's own "user not found" (route.c: no such local user) is an unknown mailbox, hard,
    though it names no SMTP command (exim.rb MessagesOf)."""
    assert _read(_EXIM.format("user not found")) == [("ana@example.jp", "user_unknown", True)]


def test_the_same_words_from_another_mta_keep_the_filters_verdict() -> None:
    """ "user not found" with no command in a notice that is not Exim's stays a filter's verdict."""
    raw = (
        "From: postmaster@mx.example.jp\nTo: bounces@example.com\nSubject: Returned mail\n\n"
        "Your message could not be delivered to the following recipient:\n\n"
        "  ana@example.jp: user not found\n"
    )
    assert _read(raw) == [("ana@example.jp", "filtered", False)]


def test_exim_mx_record_saying_no_smtp_service_is_a_domain_taking_no_mail() -> None:
    """Exim's "an MX or SRV record indicated no SMTP service" (routers/dnslookup.c) is a domain
    that accepts no mail: hard (exim.rb MessagesOf notaccept)."""
    raw = _EXIM.format("an MX or SRV record indicated no SMTP service")
    assert _read(raw) == [("ana@example.jp", "not_accept", True)]


def test_fml_refusing_a_non_member_returns_the_list_with_our_sender_rejected() -> None:
    """fml (X-MLServer) names the list that refused our post on its "<LIST>." line; "You are not
    a member of this mailing list" is our sender refused: soft, never the list's fault (fml.rb)."""
    raw = (
        "From: staff-admin@example.com\nTo: bounces@example.com\n"
        "Subject: NOT MEMBER article from notices@example.com\n"
        "Message-ID: <200303141830.FML12345.fml@example.com>\nX-MLServer: fml [fml 8.0]\n\n"
        "You are not a member of this mailing list <staff@example.com>.\n\n"
        "If you know the general guide of this list, please send mail with\nthe mail body\n\n"
        "Original mail as follows:\n\nFrom: notices@example.com\nTo: staff@example.com\n\nhi\n"
    )
    parsed = parse_bounce(raw.encode())
    assert (parsed.kind, [(r.address, r.reason, r.hard) for r in parsed.recipients]) == (
        "bounce",
        [("staff@example.com", "rejected", False)],
    )


def test_fml_duplicated_message_id_is_a_message_the_list_finds_not_compliant() -> None:
    """fml's "Duplicated Message-ID in <LIST>." (fml.rb ErrorTable systemerror, a verdict Sisimai
    asks again) is read as Sisimai 5.x reads it, not compliant (notcompliantrfc.rb Index): soft,
    a bounce for the list address, not a message to ignore."""
    raw = (
        "From: staff-admin@example.com\nTo: bounces@example.com\nSubject: Duplicated Message-ID\n"
        "Message-ID: <200303141830.FML12345.fml@example.com>\nX-MLServer: fml [fml 8.0]\n\n"
        "Duplicated Message-ID in <staff@example.com>.\nOriginal mail as follows:\n\n"
        "From: notices@example.com\nTo: staff@example.com\n\nhi\n"
    )
    assert _read(raw) == [("staff@example.com", "not_compliant", False)]


_GMAIL = (
    "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\nTo: bounces@example.com\n"
    "Subject: Delivery Status Notification (Failure)\n\n"
    "This is an automatically generated Delivery Status Notification\n\n"
    "Delivery to the following recipient failed permanently:\n\n     ana@example.jp\n\n"
    "Technical details of permanent failure:\n{}\n\n"
    "----- Original message -----\n\nFrom: notices@example.com\nTo: ana@example.jp\n"
)
_RETURNED = (
    "Google tried to deliver your message, but it was rejected by the recipient domain. We "
    "recommend contacting the other email provider for further information about the cause of this "
    "error. The error that the other server returned was:\n"
)


def test_gmail_state_14_is_an_unknown_user_answered_at_rcpt() -> None:
    """Gmail's "(state 14)" says the reply answered RCPT: "User unknown" is then hard, not a
    filter's verdict (gmail.rb, google.rb StateTable)."""
    raw = _GMAIL.format(_RETURNED + "550 550 <ana@example.jp>: User unknown (state 14).")
    assert _read(raw) == [("ana@example.jp", "user_unknown", True)]


def test_gmail_state_14_with_a_full_mailbox_status_is_a_full_mailbox() -> None:
    """A specific status in the reply ("5.2.2 ... Mailbox Full (state 14)") outranks the state."""
    raw = _GMAIL.format(_RETURNED + "550 550 5.2.2 <ana@example.jp>... Mailbox Full (state 14).")
    assert _read(raw) == [("ana@example.jp", "mailbox_full", False)]


def test_gmail_state_6_is_the_receiving_systems_lack_of_tls() -> None:
    """Gmail's "(state 6)" ("Remote server does not support TLS") is the receiving system's
    trouble, soft, where the general reading could only say on hold (gmail.rb StateTable)."""
    raw = _GMAIL.format(_RETURNED + "500 Remote server does not support TLS (state 6).")
    assert _read(raw) == [("ana@example.jp", "system", False)]


def test_gmail_dns_error_domain_name_not_found_is_an_unknown_domain() -> None:
    """Gmail's "DNS Error: Domain name not found" is a domain that does not exist: hard."""
    assert _read(_GMAIL.format("DNS Error: Domain name not found")) == [
        ("ana@example.jp", "host_unknown", True)
    ]


def test_google_workspace_address_not_found_is_an_unknown_user() -> None:
    """Google Workspace's "because the address couldn't be found" (no DSN fields; the recipient
    from the returned message's To:) is an unknown user (googleworkspace.rb, gsuite.rb)."""
    raw = (
        "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\nTo: bounces@example.com\n"
        "Subject: Delivery Status Notification (Failure)\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="B"\n\n'
        "--B\nContent-Type: text/plain\n\n** Address not found **\n\n"
        "Your message wasn't delivered to ana@example.jp because the address couldn't be found. "
        "Check for typos or unnecessary spaces and try again.\n\n"
        "--B\nContent-Type: message/rfc822\n\nFrom: notices@example.com\nTo: ana@example.jp\n"
        "Subject: Notice\n\nhi\n--B--\n"
    )
    assert _read(raw) == [("ana@example.jp", "user_unknown", True)]


_FULL = BouncedRecipient("ana@example.jp", "failed", "", "550", "mailbox full", "mailbox_full", False)


def test_a_formats_unknown_user_does_not_overrule_a_full_mailbox_the_words_say() -> None:
    """A format's tentative verdict yields to a reason Sisimai checks before it (MailboxFull
    comes before UserUnknown in reason.rb ClassOrder[0])."""
    assert settled("user_unknown", _FULL) == "mailbox_full"


def test_a_formats_unknown_user_overrules_the_general_filters_verdict() -> None:
    """A format's tentative verdict overrules a reason Sisimai checks after it (Filtered)."""
    assert settled("user_unknown", dataclasses.replace(_FULL, reason="filtered")) == "user_unknown"
