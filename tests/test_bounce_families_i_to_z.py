"""Mail systems' own bounce formats (InterScan/Trend Micro to Zoho) are read with the tables,
SMTP-command lines and recipient lines their formats publish.

Each fixture is written here around the example lines the Sisimai lhost module for that format
quotes in its comments (lib/sisimai/lhost/<name>.rb, named in each test), never copied from a
sample corpus.
"""

from __future__ import annotations

from notifier.bounces.parse import parse_bounce

from .bouncemail import dsn as _dsn
from .bouncemail import read as _read

_EXIM_NOTICE = (
    "This message was created automatically by mail delivery software.\n\n"
    "A message that you sent could not be delivered to one or more of its\n"
    "recipients. This is a permanent error. The following address(es) failed:\n\n"
)


def test_trend_micro_says_unable_to_deliver_for_an_unknown_user() -> None:
    """Trend Micro's "Unable to deliver message to <a>" (From "InterScan Notification") is an
    unknown user, hard (trendmicro.rb)."""
    raw = (
        'From: "InterScan Notification" <postmaster@example.co.jp>\nTo: bounces@example.com\n'
        "Subject: Mail could not be delivered\n\n"
        "Unable to deliver message to <kijitora@neko.example.jp>\n"
    )
    assert _read(raw) == [("kijitora@neko.example.jp", "user_unknown", True)]


def test_interscan_transcript_names_rcpt_for_the_reply_below_it() -> None:
    """InterScan MSS's "Sent <<< RCPT TO:<a>" line names the command its "Received >>> 550 ...
    user unknown" line answered: an unknown user, hard (interscanmss.rb)."""
    raw = (
        'From: "InterScan MSS" <postmaster@example.co.jp>\nTo: bounces@example.com\n'
        "Subject: Mail could not be delivered\n\n"
        "Sent <<< RCPT TO:<kijitora@example.co.jp>\n"
        "Received >>> 550 <kijitora@example.co.jp>... user unknown\n"
    )
    assert _read(raw) == [("kijitora@example.co.jp", "user_unknown", True)]


def test_kddi_says_the_relay_error_in_words_of_its_own() -> None:
    """au by KDDI's "Due to the following SMTP relay error" is a relaying refusal (soft), and
    "As their mailbox is full" a full mailbox (kddi.rb)."""
    raw = (
        "From: no-reply@mail.dion.ne.jp\nTo: bounces@example.com\nSubject: Returned mail\n\n"
        "Your mail sent on: Thu, 29 Apr 2010 11:04:47 +0900\n"
        "    Could not be delivered to: <ana@example.ne.jp>\n"
        "    Due to the following SMTP relay error.\n\n"
        "Your mail sent on: Thu, 29 Apr 2010 11:04:47 +0900\n"
        "    Could not be delivered to: <ben@example.ne.jp>\n"
        "    As their mailbox is full.\n"
    )
    assert sorted(_read(raw)) == [
        ("ana@example.ne.jp", "no_relaying", False),
        ("ben@example.ne.jp", "mailbox_full", False),
    ]


def test_mailmarshal_returns_the_affected_recipient_never_the_original_sender() -> None:
    """Trustwave MailMarshal lists the original's sender above the reply and the recipients
    under "The following recipients were affected:": only those bounced (mailmarshal.rb)."""
    raw = (
        "From: postmaster@relay.example.com\nTo: notices@example.org\n"
        'Subject: Undeliverable Mail: "Notice"\n\n'
        "Your message:\n   From:    originalsender@example.org\n   Subject: Notice\n\n"
        "Could not be delivered because of\n\n550 5.1.1 User unknown\n\n"
        "The following recipients were affected:\n    dummyuser@blabla.example.com\n\n"
        "Additional Information\n======================\n"
        "Original Sender:    <originalsender@example.org>\n"
        "Sender-MTA:         <10.11.12.13>\nRemote-MTA:         <10.0.0.1>\n"
        "Reporting-MTA:      <relay.example.com>\n"
    )
    assert _read(raw) == [("dummyuser@blabla.example.com", "user_unknown", True)]


def test_mail_ru_user_not_found_is_an_unknown_user() -> None:
    """@mail.ru's (Exim's) "user not found" with no command named is an unknown user, hard
    (mailru.rb)."""
    raw = (
        "From: Mail Delivery System <mailer-daemon@corp.mail.ru>\nTo: bounces@example.com\n"
        "Message-ID: <E1xyz-000123-AB@f10.mail.ru>\n"
        "Subject: Mail delivery failed: returning message to sender\n\n"
        f"{_EXIM_NOTICE}  kijitora@example.jp\n    user not found\n"
    )
    assert _read(raw) == [("kijitora@example.jp", "user_unknown", True)]


def test_the_same_words_from_a_format_without_that_table_keep_the_general_reading() -> None:
    """In a Sendmail notice (no mail.ru headers), "user not found" with no command stays a
    filter's verdict, soft."""
    raw = (
        "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>\nTo: bounces@example.com\n"
        "Subject: Returned mail: see transcript for details\n\n"
        "   ----- The following addresses had permanent fatal errors -----\n"
        "<kijitora@example.jp>\n    (reason: user not found)\n"
    )
    assert _read(raw) == [("kijitora@example.jp", "filtered", False)]


def test_mail_ru_refusal_after_mail_from_is_our_sender_rejected() -> None:
    """@mail.ru: a refusal "after MAIL FROM" is our sender refused, whatever the words (mailru.rb)."""
    raw = (
        "From: Mail Delivery System <mailer-daemon@corp.mail.ru>\nTo: bounces@example.com\n"
        "Message-ID: <E1xyz-000123-AB@f10.mail.ru>\n"
        "Subject: Mail delivery failed: returning message to sender\n\n"
        f"{_EXIM_NOTICE}  kijitora@example.jp\n"
        "    SMTP error from remote mail server after MAIL FROM:<bounces@example.com> SIZE=1234:\n"
        "    host neko.example.jp [192.0.2.222]: 550 5.1.1 <kijitora@example.jp>... User Unknown\n"
    )
    assert _read(raw) == [("kijitora@example.jp", "rejected", False)]


def test_messagelabs_no_such_user_is_an_unknown_user() -> None:
    """Symantec.cloud (MessageLabs, X-Msg-Ref) "No such user" is an unknown user, hard
    (messagelabs.rb ReFailures)."""
    raw = _dsn(
        "From: MAILER-DAEMON@messagelabs.com\nTo: bounces@example.com\n"
        "Subject: Mail Delivery Failure\n"
        "X-Msg-Ref: server-11.tower-143.messagelabs.com!1419367175!36473369!1\n",
        "This is an automatically generated Delivery Status Notification.",
        "Final-Recipient: rfc822; ana@example.jp\nAction: failed\nStatus: 5.0.0\n"
        "Diagnostic-Code: smtp; 550 No such user",
    )
    assert _read(raw) == [("ana@example.jp", "user_unknown", True)]


def test_messagelabs_asking_for_smtp_authentication_is_a_security_error() -> None:
    """MessageLabs' "Please turn on SMTP Authentication in your mail client" is ours to fix:
    a security error, soft (messagelabs.rb ReFailures)."""
    raw = _dsn(
        "From: MAILER-DAEMON@messagelabs.com\nTo: bounces@example.com\n"
        "Subject: Mail Delivery Failure\nX-Msg-Ref: server-11.tower-143.messagelabs.com!1!2!1\n",
        "This is an automatically generated Delivery Status Notification.",
        "Final-Recipient: rfc822; ana@example.jp\nAction: failed\nStatus: 5.0.0\n"
        "Diagnostic-Code: smtp; 553 Please turn on SMTP Authentication in your mail client",
    )
    assert _read(raw) == [("ana@example.jp", "security", False)]


def test_m_filter_names_the_command_on_its_own_line() -> None:
    """Digital Arts m-FILTER gives the command under "-------SMTP command": "unknown user"
    answered to RCPT is an unknown user, hard (mfilter.rb)."""
    raw = (
        "From: postmaster@example.jp\nTo: bounces@example.com\nSubject: failure notice\n"
        "X-Mailer: m-FILTER\nContent-Type: text/plain; charset=utf-8\n\n"
        "このメールは「m-FILTER」が自動的に生成して送信しています。\n\n"
        "以下のメールアドレスへの送信に失敗しました。\nkijitora@example.jp\n\n\n"
        "-------server message\n550 unknown user <kijitora@example.jp>\n\n"
        "-------SMTP command\nRCPT\n\n-------original message\n"
    )
    assert _read(raw) == [("kijitora@example.jp", "user_unknown", True)]


def test_mxlogic_says_a_mail_loop_in_exims_words() -> None:
    """McAfee SaaS (MX Logic, X-MX-Bounce) "Too many "Received" headers - suspected mail loop"
    is about the message, not the person: content_error, soft (mxlogic.rb MessagesOf, quoting
    Exim's deliver.c)."""
    raw = (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\nTo: bounces@example.com\n"
        "X-MX-Bounce: mta/src/queue/bounce\n"
        "X-MXL-Hash: 4c9d4d411993da17-bbd4212b6c887f6c23bab7db4bd87ef5edc00758\n"
        "Subject: Mail delivery failed: returning message to sender\n\n"
        "This message was created automatically by mail delivery software.\n\n"
        "A message that you have sent could not be delivered to one or more\n"
        "recipients.  This is a permanent error.  The following address failed:\n\n"
        '  <kijitora@example.co.jp>: Too many "Received" headers - suspected mail loop\n'
    )
    assert _read(raw) == [("kijitora@example.co.jp", "content_error", False)]


def test_lotus_notes_failure_reason_above_the_address_is_an_unknown_user() -> None:
    """Lotus Notes puts "User not listed in public Name & Address Book" above the address under
    "------- Failure Reasons --------": hard (notes.rb)."""
    raw = (
        "From: Postmaster <postmaster@notes.example.jp>\nTo: bounces@example.com\n"
        "Subject: Undeliverable message\n\n"
        "------- Failure Reasons  --------\n\n"
        "User not listed in public Name & Address Book\nkijitora@notes.example.jp\n\n"
        "------- Returned Message --------\n"
    )
    assert _read(raw) == [("kijitora@notes.example.jp", "user_unknown", True)]


def test_office365_own_status_says_our_sender_may_not_write_to_the_group() -> None:
    """Office 365's own status 5.7.133 (sender not authenticated for the group) is our sender
    refused, rejected, soft, where the words alone say only "authentication required"
    (office365.rb StatusList)."""
    raw = (
        "From: postmaster@example.onmicrosoft.com\nTo: bounces@example.com\n"
        "Subject: Undeliverable: Notice\nX-MS-Exchange-Message-Is-Ndr: \n"
        "X-MS-Exchange-CrossTenant-FromEntityHeader: Hosted\n"
        "Message-ID: <0a1b2c3d@AM5PR0101MB1234.eurprd01.prod.outlook.com>\n\n"
        "Delivery has failed to these recipients or groups:\n\n"
        "kijitora@example.com<mailto:kijitora@example.com>\n"
        "Your message couldn't be delivered.\n\n"
        "Diagnostic information for administrators:\n\n"
        "Generating server: AM5PR0101MB1234.eurprd01.prod.outlook.com\n\n"
        "kijitora@example.com\n"
        "Remote Server returned '550 5.7.133 RESOLVER.RST.SenderNotAuthenticatedForGroup; "
        "authentication required'\n\nOriginal message headers:\n"
    )
    assert _read(raw) == [("kijitora@example.com", "rejected", False)]


def test_opensmtpd_no_mx_found_is_a_domain_without_mail() -> None:
    """OpenSMTPD's "No MX found for domain" (smtpd/mta.c) names a domain that takes no mail:
    hard. Its table (opensmtpd.rb MessagesOf) files it under network trouble, a verdict Sisimai
    asks again by the words, which place it; the general vocabulary reads all of mta.c's strings."""
    raw = (
        "From: Mailer Daemon <MAILER-DAEMON@mx.example.org>\nTo: bounces@example.com\n"
        "Subject: Delivery status notification: error\n"
        "Received: from localhost (mx.example.org [local]) by mx.example.org (OpenSMTPD) with ESMTPA id 1\n\n"
        "    Hi!\n\n    This is the MAILER-DAEMON, please DO NOT REPLY to this e-mail.\n\n"
        "    An error has occurred while attempting to deliver a message for\n"
        "    the following list of recipients:\n\n"
        "kijitora@example.jp: No MX found for domain\n\n"
        "    Below is a copy of the original message:\n"
    )
    assert _read(raw) == [("kijitora@example.jp", "not_accept", True)]


def test_outlook_com_mailbox_unavailable_is_an_unknown_user() -> None:
    """Outlook.com (Hotmail) "Requested action not taken: mailbox unavailable" is an unknown
    user, hard (outlook.rb MessagesOf; the general reading and Microsoft's own table say it)."""
    raw = _dsn(
        "From: postmaster@hotmail.com\nTo: bounces@example.com\n"
        "Subject: Delivery Status Notification (Failure)\n"
        "X-Message-Delivery: Vj0xLjE7RD0wO0dEPTA7U0NMPTk7bD0xO3VzPTE=\n"
        "X-Message-Info: AuEzbeVr9u5fkDpn2vR5iCu5wb6HBeY4iruBjnutBzpStnUabbM\n",
        "This is an automatically generated Delivery Status Notification.",
        "Final-Recipient: rfc822;ana@example.com\nAction: failed\nStatus: 5.5.0\n"
        "Diagnostic-Code: smtp;550 Requested action not taken: mailbox unavailable",
        "Reporting-MTA: dns;BAY0-MC1-F21.Bay0.hotmail.com",
    )
    assert _read(raw) == [("ana@example.com", "user_unknown", True)]


def test_qmail_sender_rejected_is_our_sender_refused() -> None:
    """qmail's "Connected to H but sender was rejected." names MAIL: our sender was refused,
    whatever the reply says (qmail.rb ReSMTP)."""
    raw = (
        "From: MAILER-DAEMON@mx.example.net\nTo: bounces@example.com\nSubject: failure notice\n"
        "Received: (qmail 12345 invoked for bounce); 29 Apr 2009 12:34:56 -0000\n\n"
        "Hi. This is the qmail-send program at mx.example.net.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
        "<kijitora@example.jp>:\nConnected to 192.0.2.153 but sender was rejected.\n"
        "Remote host said: 550 5.1.1 unknown user\n\n"
        "--- Below this line is a copy of the message.\n"
    )
    assert _read(raw) == [("kijitora@example.jp", "rejected", False)]


def test_qmail_disk_quota_exceeded_is_a_full_mailbox() -> None:
    """qmail-local's "disk quota exceeded" is a full mailbox, soft (qmail.rb MessagesOf)."""
    raw = (
        "From: MAILER-DAEMON@mx.example.net\nTo: bounces@example.com\nSubject: failure notice\n\n"
        "Hi. This is the qmail-send program at mx.example.net.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n\n"
        "<kijitora@example.jp>:\nUnable to chdir to maildir. (#4.2.1)\ndisk quota exceeded\n\n"
        "--- Below this line is a copy of the message.\n"
    )
    assert _read(raw) == [("kijitora@example.jp", "mailbox_full", False)]


def test_receiving_ses_mailbox_does_not_exist_is_filtered() -> None:
    """Amazon SES receiving (X-SES-Outgoing) answers "Mailbox does not exist" from a rule set's
    bounce action: Sisimai's table reads it as filtered, soft (receivingses.rb)."""
    raw = _dsn(
        "From: MAILER-DAEMON@us-west-2.amazonses.com\nTo: bounces@example.com\n"
        "Subject: Delivery Status Notification (Failure)\nX-SES-Outgoing: 2015.10.01-54.240.27.7\n",
        "This message could not be delivered.",
        "Final-Recipient: rfc822; ana@example.com\nAction: failed\nStatus: 5.0.0\n"
        "Diagnostic-Code: smtp; 550 Mailbox does not exist",
    )
    assert _read(raw) == [("ana@example.com", "filtered", False)]


def test_receiving_ses_message_content_rejected_is_a_content_error() -> None:
    """An SES receipt rule's "Message content rejected" is about the content (content_error),
    not spam found (receivingses.rb MessagesOf)."""
    raw = _dsn(
        "From: MAILER-DAEMON@us-west-2.amazonses.com\nTo: bounces@example.com\n"
        "Subject: Delivery Status Notification (Failure)\nX-SES-Outgoing: 2015.10.01-54.240.27.7\n",
        "This message could not be delivered.",
        "Final-Recipient: rfc822; ana@example.com\nAction: failed\nStatus: 5.0.0\n"
        "Diagnostic-Code: smtp; 554 Message content rejected",
    )
    assert _read(raw) == [("ana@example.com", "content_error", False)]


def test_an_ses_outbound_bounce_is_not_read_with_the_receipt_rules_words() -> None:
    """SES's own outbound bounces carry X-SES-Outgoing too: a remote "550 5.1.1 Mailbox does not
    exist" there stays an unknown user, hard."""
    raw = _dsn(
        "From: MAILER-DAEMON@amazonses.com\nTo: bounces@example.com\n"
        "Subject: Delivery Status Notification (Failure)\nX-SES-Outgoing: 2015.10.01-54.240.27.7\n",
        "An error occurred while trying to deliver the mail to the following recipients:\nana@example.com",
        "Final-Recipient: rfc822; ana@example.com\nAction: failed\nStatus: 5.1.1\n"
        "Diagnostic-Code: smtp; 550 5.1.1 Mailbox does not exist",
    )
    assert _read(raw) == [("ana@example.com", "user_unknown", True)]


def test_postfix_refused_to_talk_to_me_is_our_host_blocked() -> None:
    """Postfix's "host H refused to talk to me: 554 ..." answered the greeting: our host was
    refused, blocked, soft (postfix.rb sets HELO for it)."""
    raw = _dsn(
        "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\nTo: bounces@example.com\n"
        "Subject: Undelivered Mail Returned to Sender\n",
        "This is the mail system at host mx.example.net.\n\n<ana@example.jp>: host "
        "mx.example.jp[192.0.2.1] refused to talk to me: 554 mx.example.jp ESMTP not accepting messages",
        "Final-Recipient: rfc822; ana@example.jp\nAction: failed\nStatus: 5.0.0\n"
        "Diagnostic-Code: X-Postfix; host mx.example.jp[192.0.2.1] refused to talk to me: 554 "
        "mx.example.jp ESMTP not accepting messages",
    )
    assert _read(raw) == [("ana@example.jp", "blocked", False)]


def _sendmail(transcript: str) -> str:
    return _dsn(
        "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>\nTo: bounces@example.com\n"
        "Subject: Returned mail: see transcript for details\n",
        "   ----- The following addresses had permanent fatal errors -----\n<ana@example.jp>\n"
        f"    (reason: 554 mx.example.jp ESMTP not accepting messages)\n\n"
        f"   ----- Transcript of session follows -----\n{transcript}",
        "Final-Recipient: RFC822; ana@example.jp\nAction: failed\nStatus: 5.0.0\n"
        "Diagnostic-Code: SMTP; 554 mx.example.jp ESMTP not accepting messages",
    )


def test_sendmail_refused_at_the_greeting_is_our_host_blocked() -> None:
    """A Sendmail transcript quoting the host's "<<< 554 ..." with no command of ours above it
    was refused at the greeting: our host blocked, soft (sendmail.rb sets EHLO then)."""
    raw = _sendmail(
        "... while talking to mx.example.jp.:\n<<< 554 mx.example.jp ESMTP not accepting messages\n"
    )
    assert _read(raw) == [("ana@example.jp", "blocked", False)]


def test_the_same_reply_after_a_command_of_ours_is_not_called_a_greeting_refusal() -> None:
    """The same reply after ">>> MAIL From:" is not read as a refusal of our host."""
    raw = _sendmail(
        "... while talking to mx.example.jp.:\n>>> MAIL From:<bounces@example.com>\n"
        "<<< 554 mx.example.jp ESMTP not accepting messages\n"
    )
    assert _read(raw)[0][1] != "blocked"


def test_sendgrid_names_the_command_on_a_line_of_its_own() -> None:
    """SendGrid writes "... in RCPT TO" on a line outside the fields: "unknown user" answered
    to RCPT is an unknown user, hard (sendgrid.rb)."""
    raw = _dsn(
        "From: MAILER-DAEMON <apps@sendgrid.net>\nReturn-Path: <apps@sendgrid.net>\n"
        "To: bounces@example.com\nSubject: Undelivered Mail Returned to Sender\n",
        "This is an automatically generated message from SendGrid.\n\n"
        "I'm sorry to have to tell you that your message was not able to be\n"
        "delivered to one of its intended recipients.\n\n"
        "If you require assistance with this, please contact SendGrid support.\n\n"
        "shironeko@example.com: 550 unknown user. Error in RCPT TO",
        "Final-Recipient: rfc822; shironeko@example.com\nAction: failed\nStatus: 5.0.0\n"
        "Diagnostic-Code: smtp; 550 unknown user",
        "Reporting-MTA: dns; sendgrid.net",
    )
    assert _read(raw) == [("shironeko@example.com", "user_unknown", True)]


def test_verizon_no_such_user_is_an_unknown_user_named_by_its_rcpt_line() -> None:
    """Verizon (vtext.com) names the recipient on "RCPT TO:" and says "550 - Requested action
    not taken: no such user here": an unknown user, hard (verizon.rb)."""
    raw = (
        "From: post_master@vtext.com\nTo: bounces@example.com\nSubject: Undeliverable Message\n"
        "Received: from smtp.vtext.com (mta.vtext.com [192.0.2.1]) by mx.example.com\n\n"
        "Error: Recipient address rejected\n\nMessage details:\n"
        "  Subject: Notice\n  Sent date: Wed Jun 12 02:21:53 GMT 2013\n"
        "  MAIL FROM: notices@example.com\n  RCPT TO: 5555551234@vtext.com\n"
        "550 - Requested action not taken: no such user here\n"
    )
    assert _read(raw) == [("5555551234@vtext.com", "user_unknown", True)]


def test_x3_smtp_line_names_the_command() -> None:
    """Unknown MTA #3's "SMTP:RCPT host H: 553 5.3.0 <a>... No such user here" names RCPT:
    an unknown user, hard (x3.rb)."""
    raw = (
        "From: Mail Delivery System <postmaster@example.net>\nTo: bounces@example.com\n"
        "Subject: Delivery status notification\n\n"
        "============================================================================\n"
        "      This is an automatically generated Delivery Status Notification.\n\n"
        "Delivery to the following recipients failed permanently:\n\n"
        "  * kijitora@example.com\n\n\n"
        "============================================================================\n"
        "                            Technical details:\n\n"
        "SMTP:RCPT host 192.0.2.8: 553 5.3.0 <kijitora@example.com>... No such user here\n"
    )
    assert _read(raw) == [("kijitora@example.com", "user_unknown", True)]


def test_x6_error_following_rcpt_is_an_unknown_user() -> None:
    """Unknown MTA #6 "rejected recipient <a> (Error following RCPT command)" names RCPT (x6.rb)."""
    raw = (
        "From: postmaster@example.net\nTo: bounces@example.com\n"
        "Subject: There was an error sending your mail\n\n"
        "1 error(s):\n\n"
        "SMTP Server <mta2.example.jp> rejected recipient <kijitora@example.jp> "
        "(Error following RCPT command). It responded as follows: [550 User unknown]\n\n"
        "The attachment contains the original mail headers.\n"
    )
    assert _read(raw) == [("kijitora@example.jp", "user_unknown", True)]


def test_x6_names_its_recipients_on_its_own_lines_only() -> None:
    """Unknown MTA #6's "The following recipients returned permanent errors: a." names the
    recipient; the host in angle brackets and the addresses below the notice are not (x6.rb)."""
    raw = (
        "From: postmaster@example.net\nTo: bounces@example.com\n"
        "Subject: There was an error sending your mail\n\n"
        "1 error(s):\n\nThe following recipients returned permanent errors: neko@example.jp.\n\n"
        "The attachment contains the original mail headers.\n\n"
        "Reply-To: desk@example.com\nCc: team@example.org\n"
    )
    assert [r[0] for r in _read(raw)] == ["neko@example.jp"]


def test_qmail_lists_each_recipient_on_its_own_line() -> None:
    """qmail-send gives each recipient a "<a>:" line with its own reply below: two recipients,
    each read from its own lines (qmail.rb)."""
    raw = (
        "From: MAILER-DAEMON@mx.example.net\nTo: bounces@example.com\nSubject: failure notice\n\n"
        "Hi. This is the qmail-send program at mx.example.net.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
        "<ana@example.jp>:\n192.0.2.153 does not like recipient.\n"
        "Remote host said: 550 5.1.1 <ana@example.jp>... User Unknown\nGiving up on 192.0.2.153.\n\n"
        "<ben@example.jp>:\n192.0.2.153 does not like recipient.\n"
        "Remote host said: 552 5.2.2 <ben@example.jp>... Mailbox Full\nGiving up on 192.0.2.153.\n\n"
        "--- Below this line is a copy of the message.\n\nFrom: notices@example.com\nTo: desk@example.org\n"
    )
    assert sorted(_read(raw)) == [
        ("ana@example.jp", "user_unknown", True),
        ("ben@example.jp", "mailbox_full", False),
    ]


def test_yahoo_bracketed_command_names_rcpt() -> None:
    """Yahoo! Mail (X-YMailISG) ends the reply with "[RCPT_TO]": an unknown user, hard (yahoo.rb)."""
    raw = (
        "From: MAILER-DAEMON@yahoo.com\nTo: bounces@example.com\n"
        "Subject: Failure Notice\nX-YMailISG: YtyUVyYWLDsbDh\n\n"
        "Sorry, we were unable to deliver your message to the following address.\n\n"
        "<kijitora@example.org>:\nRemote host said: 550 unknown user [RCPT_TO]\n\n"
        "--- Below this line is a copy of the message.\n"
    )
    assert _read(raw) == [("kijitora@example.org", "user_unknown", True)]


def test_zoho_host_not_reachable_is_expired() -> None:
    """Zoho Mail (X-ZohoMail) "Host not reachable" is a message given up on: expired, soft
    (zoho.rb)."""
    raw = (
        "From: mailer-daemon@mail.zoho.com\nTo: bounces@example.com\n"
        "Subject: Undelivered Mail Returned to Sender\nX-ZohoMail: Si CHF_MF_NL SS_10\n\n"
        "This message was created automatically by mail delivery software.\n"
        "A message that you sent could not be delivered to one or more of its recipients.\n\n"
        "[Status: Error, Address: <kijitora@example.co.jp>, ResponseCode 421, , Host not reachable.]\n"
    )
    assert _read(raw) == [("kijitora@example.co.jp", "expired", False)]


def _away(header: str) -> str:
    return (
        f"From: Ana <ana@example.jp>\nTo: notices@example.com\nSubject: Re: Notice\n{header}\n\n"
        "I am travelling until Monday and will read your message then.\n"
    )


def test_precedence_auto_reply_marks_an_auto_reply_from_its_sender() -> None:
    """A reply with "Precedence: auto_reply" is an auto-reply from its sender, never a bounce
    (Sisimai lib/sisimai/rfc3834.rb AutoReply0)."""
    parsed = parse_bounce(_away("Precedence: auto_reply").encode())
    assert (parsed.kind, [(r.address, r.reason) for r in parsed.recipients]) == (
        "auto-reply",
        [("ana@example.jp", "vacation")],
    )


def test_apple_vacation_header_marks_an_auto_reply() -> None:
    """iCloud's "X-Apple-Action: vacation" is an auto-reply (rfc3834.rb AutoReply0)."""
    assert parse_bounce(_away("X-Apple-Action: vacation").encode()).kind == "auto-reply"


def test_a_plain_reply_without_those_headers_is_no_auto_reply() -> None:
    """The same words with "Precedence: bulk" are someone's mail, not an auto-reply."""
    assert parse_bounce(_away("Precedence: bulk").encode()).kind == "not-bounce"


def test_microsoft_junk_mail_report_is_a_complaint_from_the_original_recipient() -> None:
    """Microsoft's Junk Mail Reporting Program ("complaint about message from IP", From
    staff@hotmail.com, no RFC 5965 part) is a complaint by the person its returned copy names
    in X-HmXmrOriginalRecipient (Sisimai lib/sisimai/arf.rb)."""
    raw = (
        "From: staff@hotmail.com\nTo: fbl@example.com\nSubject: complaint about message from 192.0.2.1\n"
        'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="B"\n\n'
        "--B\nContent-Type: text/plain\n\nThis is an email abuse report.\n\n"
        "--B\nContent-Type: message/rfc822\n\n"
        "X-HmXmrOriginalRecipient: <kijitora@hotmail.com>\nFrom: notices@example.com\n"
        "To: list@example.com\nSubject: Notice\nMessage-ID: <n1@example.com>\n\nHello\n\n--B--\n"
    )
    parsed = parse_bounce(raw.encode())
    assert (parsed.kind, parsed.feedback_type, [r.address for r in parsed.recipients]) == (
        "complaint",
        "abuse",
        ["kijitora@hotmail.com"],
    )
