"""Where our reason decision was aligned with Sisimai 5.x's published logic (lib/sisimai/reason.rb
and lib/sisimai/reason/*.rb in rb-sisimai): one bounce per rule, built here from the formats (a
Postfix-style RFC 3464 report or an Exim plain-text bounce) with wordings from Sisimai's own
per-reason tables, each cited beside its test."""

from __future__ import annotations

from notifier.bounces.parse import parse_bounce
from notifier.bounces.report import BouncedRecipient

RCPT = "kijitora@example.jp"


def _dsn(status: str, diagnostic: str, command: str = "RCPT", action: str = "failed") -> bytes:
    """A Postfix-style delivery-status report for one recipient."""
    said = f" (in reply to {command} command)" if command else ""
    return (
        "From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\n"
        "To: notices@example.org\nSubject: Undelivered Mail Returned to Sender\n"
        "Date: Thu, 1 Oct 2026 10:00:00 +0000\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="BB"\n\n'
        "--BB\nContent-Type: text/plain\n\nThis is the mail system at host mx.example.org.\n\n"
        f"<{RCPT}>: host mx.example.jp[192.0.2.1] said: {diagnostic}{said}\n\n"
        "--BB\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\n"
        f"Final-Recipient: rfc822; {RCPT}\nAction: {action}\nStatus: {status}\n"
        f"Remote-MTA: dns; mx.example.jp\nDiagnostic-Code: smtp; {diagnostic}\n\n"
        "--BB\nContent-Type: text/rfc822-headers\n\nFrom: notices@example.org\n"
        f"To: {RCPT}\nSubject: Notice\n\n--BB--\n"
    ).encode()


def _exim(reply: str, after: str = "end of data") -> bytes:
    """An Exim 'Mail delivery failed' bounce quoting the remote server's reply."""
    return (
        "From: Mail Delivery System <Mailer-Daemon@mx.example.org>\nTo: notices@example.org\n"
        "Subject: Mail delivery failed: returning message to sender\n"
        f"Date: Thu, 1 Oct 2026 10:00:00 +0000\nX-Failed-Recipients: {RCPT}\n\n"
        "This message was created automatically by mail delivery software.\n\n"
        "A message that you sent could not be delivered to one or more of its\n"
        "recipients. This is a permanent error. The following address(es) failed:\n\n"
        f"  {RCPT}\n    host mx.example.jp [192.0.2.1]\n"
        f"    SMTP error from remote mail server after {after}:\n    {reply}\n\n"
        "------ This is a copy of the message, including all the headers. ------\n\n"
        f"From: notices@example.org\nTo: {RCPT}\nSubject: Notice\n\nHello\n"
    ).encode()


def _one(raw: bytes) -> BouncedRecipient:
    parsed = parse_bounce(raw)
    assert parsed.kind == "bounce"
    assert [r.address for r in parsed.recipients] == [RCPT]
    return parsed.recipients[0]


def test_8bit_header_refusal_is_a_content_error_we_can_fix() -> None:
    """A refusal for 8-bit data in a header is our message's content (Sisimai contenterror.rb
    Index), not an unexplained hold."""
    r = _one(_exim("554 5.0.0 Improper use of 8-bit data in message header"))
    assert (r.reason, r.hard) == ("content_error", False)


def test_too_many_received_headers_is_content_not_network() -> None:
    """Exchange's 'Routing loop detected -- too many Received: headers' is read as the message's
    headers (Sisimai contenterror.rb), not as network trouble (networkerror.rb knows only
    'message probably in a routing loop')."""
    r = _one(_dsn("5.0.0", "554 5.0.0 Routing loop detected -- too many Received: headers", "DATA"))
    assert (r.reason, r.hard) == ("content_error", False)


def test_mail_looping_elsewhere_stays_network() -> None:
    """A forwarding loop on the way is still network trouble (Sisimai networkerror.rb)."""
    r = _one(_dsn("5.4.6", "554 5.4.6 Message probably in a routing loop", "DATA"))
    assert r.reason == "network"


def test_executable_attachment_refusal_is_a_virus_verdict() -> None:
    """Gmail's 'it has a potentially executable attachment' is a virus scanner's verdict
    (Sisimai virusdetected.rb Index), not an unexplained hold."""
    r = _one(_exim("552 5.0.0 This message was blocked because it has a potentially executable attachment"))
    assert (r.reason, r.hard) == ("virus_detected", False)


def test_content_security_block_is_policy() -> None:
    """Gmail's 'this message was blocked because its content presents a potential security
    issue' is the receiver's policy (Sisimai policyviolation.rb Index)."""
    r = _one(
        _exim("552 5.0.0 This message was blocked because its content presents a potential security issue")
    )
    assert (r.reason, r.hard) == ("policy", False)


def test_organisation_policy_refusal_is_policy() -> None:
    """'The message was rejected by organization policy' (Office 365 transport rules; Sisimai
    policyviolation.rb Index) names the receiver's policy, not an unexplained hold."""
    r = _one(_dsn("5.0.0", "550 5.0.0 The message was rejected by organization policy", "DATA"))
    assert r.reason == "policy"


def test_user_unknown_status_with_not_accept_words_is_not_accept() -> None:
    """An X.1.1 whose words say the host accepts no mail is read by the words, as Sisimai's
    UserUnknown PreMatches then Reason.anotherone do: not_accept."""
    r = _one(_dsn("5.1.1", "550 5.1.1 SMTP protocol returned a permanent error"))
    assert (r.reason, r.hard) == ("not_accept", True)


def test_user_unknown_status_with_rejected_words_stays_user_unknown() -> None:
    """An X.1.1 at RCPT whose words also say 'rejected' stays an unknown user: Sisimai's second
    reading (ClassOrder[1]) never gives rejected by words."""
    r = _one(_dsn("5.1.1", "550 5.1.1 <kijitora@example.jp>: Recipient address rejected: User unknown"))
    assert (r.reason, r.hard) == ("user_unknown", True)


def test_quoted_vacation_reply_is_an_auto_reply_not_a_hold() -> None:
    """A report whose only words are an auto-reply's is read as vacation, soft, as Sisimai's
    Reason.get asks Vacation.match before falling back to onhold."""
    r = _one(_dsn("5.0.0", "550 I am away on vacation until Monday", ""))
    assert (r.reason, r.hard) == ("vacation", False)


def test_words_saying_nothing_stay_on_hold() -> None:
    """Words that name no reason still leave the bounce on hold, not vacation or another guess."""
    r = _one(_dsn("5.0.0", "550 Requested action aborted", ""))
    assert r.reason == "on_hold"


def test_refusal_naming_helo_in_upper_case_is_our_host_blocked() -> None:
    """A reply that names only the HELO command ("550 Access denied - Invalid HELO name (See
    RFC2821 4.1.1.1)", SpamCop-style MTAs) is our host refused at the greeting (Sisimai
    smtp/command.rb ``find``, then reason.rb ``anotherone``: HELO is blocked), not on hold."""
    r = _one(_dsn("5.0.0", "550 Access denied - Invalid HELO name (See RFC2821 4.1.1.1)", ""))
    assert (r.reason, r.hard) == ("blocked", False)


def test_unknown_user_at_a_named_rcpt_step_is_unknown() -> None:
    """A transcript line "STEP: RCPT TO" (the format Sisimai's x6.rb reads) places the refusal at
    RCPT: 'unknown user' there is the address itself, hard."""
    r = _one(_dsn("5.0.0", "STEP: RCPT TO 550 Unknown user", ""))
    assert (r.reason, r.hard) == ("user_unknown", True)


def test_helo_field_in_a_quoted_log_names_no_command() -> None:
    """'HELO=[host]' in a quoted filter log is a field, not the HELO command: a URL blocklist's
    refusal of the message stays spam, not our host blocked at the greeting."""
    diagnostic = (
        "550-REJECTED - Blacklisted URL in message. (example.com) in [black]. "
        "550-H=mail.example.org [192.0.2.11] HELO=[mail.example.org]"
    )
    r = _one(_dsn("5.0.0", diagnostic, ""))
    assert r.reason == "spam_detected"


def _qmail(reply: str) -> bytes:
    """A qmail-send failure notice quoting the remote qmail-smtpd's reply."""
    return (
        "From: MAILER-DAEMON@mx.example.org\nTo: notices@example.org\n"
        "Subject: failure notice\nDate: Thu, 1 Oct 2026 10:00:00 +0000\n\n"
        "Hi. This is the qmail-send program at mx.example.org.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
        f"<{RCPT}>:\n192.0.2.1 does not like recipient.\nRemote host said: {reply}\n"
        "Giving up on 192.0.2.1.\n\n"
        "--- Below this line is a copy of the message.\n\n"
        f"From: notices@example.org\nTo: {RCPT}\nSubject: Notice\n\nHello\n"
    ).encode()


def test_qmail_rcpthosts_refusal_is_no_relaying_and_suppresses_nobody() -> None:
    """qmail-smtpd's "sorry, that domain isn't in my list of allowed rcpthosts" (err_nogateway)
    is the server refusing to relay for the domain (Sisimai 5.x norelaying.rb, asked before
    UserUnknown), soft: nobody is suppressed for it (before, an unknown user, hard)."""
    r = _one(_qmail("553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)"))
    assert (r.reason, r.hard) == ("no_relaying", False)


def test_vpopmail_rcpthosts_refusal_of_the_user_is_unknown() -> None:
    """vpopmail's "that domain or user isn't in my list of allowed rcpthosts" at RCPT names the
    address itself (Sisimai 5.x userunknown.rb Index): an unknown user, hard."""
    r = _one(_qmail("553 sorry, that domain or user isn't in my list of allowed rcpthosts (#5.7.1)"))
    assert (r.reason, r.hard) == ("user_unknown", True)


def test_answering_hosts_ip_address_is_no_status_code() -> None:
    """A host whose IP address begins like a status ("[5.1.1.10]") does not make a refusal an
    unknown user: a status is never part of a longer dotted number, and one after the reply code
    comes first (Sisimai smtp/status.rb ``find``). Nobody is suppressed for the host's address."""
    raw = _exim("550 5.7.1 Message refused", after=f"RCPT TO:<{RCPT}>").replace(b"[192.0.2.1]", b"[5.1.1.10]")
    r = _one(raw)
    assert (r.status, r.reason, r.hard) == ("5.7.1", "blocked", False)


def test_answering_hosts_ip_address_alone_gives_no_status() -> None:
    """With no status in the reply, the host's address "[5.1.1.10]" gives none either: the
    refusal is on hold, soft, not an unknown user."""
    r = _one(_exim("550 Message refused").replace(b"[192.0.2.1]", b"[5.1.1.10]"))
    assert (r.status, r.hard) == ("", False)


def test_spamprofiler_refusal_is_spam() -> None:
    """MailMarshal's "Message refused by MailMarshal SpamProfiler" after DATA is a spam verdict on
    our message (Sisimai 5.x spamdetected.rb Index), not an unexplained hold."""
    r = _one(_exim("550 Message refused by MailMarshal SpamProfiler"))
    assert (r.reason, r.hard) == ("spam_detected", False)


def test_att_abuse_block_is_spam() -> None:
    """AT&T's "Blocked for abuse. See http://att.net/blocks" is its spam filter's verdict (Sisimai
    5.x spamdetected.rb Index), not an unexplained hold."""
    r = _one(_exim("553 5.3.0 flpd575 - Blocked for abuse. See http://att.net/blocks"))
    assert (r.reason, r.hard) == ("spam_detected", False)


def test_mailenable_relay_refusal_with_user_unknown_status_is_no_relaying() -> None:
    """MailEnable's "550 5.1.1 This mail server requires authentication when attempting to send
    to a non-local e-mail address" refuses to relay for us, whatever its X.1.1 says (Sisimai 5.x
    norelaying.rb Index, asked before UserUnknown): soft, nobody suppressed."""
    diagnostic = (
        "550 5.1.1 This mail server requires authentication when attempting to send to a "
        "non-local e-mail address. Please check your mail client settings"
    )
    r = _one(_dsn("5.1.1", diagnostic))
    assert (r.reason, r.hard) == ("no_relaying", False)


def test_bare_message_too_large_is_exceed_limit() -> None:
    """A bare "552 Message too large" with no status is the mailbox's limit (Sisimai 5.x
    exceedlimit.rb; mesgtoobig.rb wants "too large for this ..."), soft."""
    r = _one(_exim("552 Message too large"))
    assert (r.reason, r.hard) == ("exceed_limit", False)


def test_system_size_status_leads_over_message_too_large_words() -> None:
    """Under X.3.4 ("message too big for system") the same words stay the system's limit: the
    status leads, as Sisimai's MesgTooBig.true asks it before ExceedLimit reads the words."""
    r = _one(_dsn("5.3.4", "552 5.3.4 Message too large", "DATA"))
    assert r.reason == "message_too_big"


def test_possible_spam_content_refusal_after_data_is_a_spam_verdict() -> None:
    """Once the message was sent, "rejected for possible spam/virus content" is a verdict on its
    content (Sisimai 5.x reason.rb ClassOrder[0] asks SpamDetected.true, whose Index has the
    words, before Blocked.true), not a block of our IP."""
    diagnostic = "550 5.7.1 Message was rejected for possible spam/virus content"
    r = _one(_dsn("5.7.1", diagnostic, "DATA"))
    assert (r.reason, r.hard) == ("spam_detected", False)


def test_possible_spam_content_refusal_at_rcpt_stays_blocked() -> None:
    """At RCPT no message was seen: the same words block our IP (Sisimai 5.x blocked.rb Regex;
    spamdetected.rb true declines before DATA), soft."""
    diagnostic = "550 5.7.1 Message was rejected for possible spam/virus content"
    r = _one(_dsn("5.7.1", diagnostic, "RCPT"))
    assert (r.reason, r.hard) == ("blocked", False)


def test_sender_domain_on_a_domain_blocklist_is_spam_not_a_refused_sender() -> None:
    """ "Sender domain listed at dbl.spamhaus.org" at MAIL under a generic status is a
    blocklist's spam verdict (Sisimai 5.x spamdetected.rb Regex, read by reason.rb anotherone in
    ClassOrder[1]; rejected.rb has no such words), not our envelope sender refused."""
    r = _one(_dsn("5.0.0", "550 5.0.0 Sender domain listed at dbl.spamhaus.org", "MAIL"))
    assert (r.reason, r.hard) == ("spam_detected", False)


def test_members_only_list_refusal_is_the_lists_policy_not_our_sender() -> None:
    """A mailing list refusing a "posting by non-member to a members-only list" applies its own
    policy (Sisimai 5.x policyviolation.rb Index; rejected.rb's Index lacks the words), so it is
    not reported as our envelope sender refused."""
    diagnostic = "550 5.0.0 Message rejected: posting by non-member to a members-only list"
    r = _one(_dsn("5.0.0", diagnostic, "DATA"))
    assert (r.reason, r.hard) == ("policy", False)


def test_postfixs_own_verdict_that_no_status_places_is_a_mailer_error() -> None:
    """ "Diagnostic-Code: X-Postfix; mail transport unavailable" with a bare 5.0.0 is Postfix's
    own mail system failing, like a local program's X-Unix output (reason.rb anotherone:
    X-UNIX and X-POSTFIX are mailererror); soft, so nobody is suppressed for it."""
    raw = _dsn("5.0.0", "mail transport unavailable", command="").replace(
        b"Diagnostic-Code: smtp;", b"Diagnostic-Code: X-Postfix;"
    )
    [r] = parse_bounce(raw).recipients
    assert (r.reason, r.hard) == ("mailer_error", False)


def test_postfixs_own_words_that_say_why_keep_their_reason() -> None:
    """ "X-Postfix; mail for example.jp loops back to myself" is a mail system error
    (systemerror.rb Index "loops back to myself"): the report's type does not make it a mailer
    error when its words say more."""
    words = "mail for example.jp loops back to myself"
    raw = (
        _dsn("5.0.0", words, command="")
        .replace(b"Diagnostic-Code: smtp;", b"Diagnostic-Code: X-Postfix;")
        .replace(f"host mx.example.jp[192.0.2.1] said: {words}".encode(), b"")
    )
    [r] = parse_bounce(raw).recipients
    assert (r.reason, r.hard) == ("system", False)


def test_words_of_a_specific_reason_outrank_an_x32_status() -> None:
    """ "452 4.3.2 Connection rate limit exceeded": X.3.2 (system not accepting messages) is
    read only after the specific wordings, as Sisimai's ClassOrder[0] has no NotAccept
    (reason.rb; toomanyconn.rb Index "connection rate limit exceeded")."""
    [r] = parse_bounce(_dsn("4.3.2", "452 4.3.2 Connection rate limit exceeded.")).recipients
    assert (r.reason, r.hard) == ("too_many_connections", False)


def test_an_x32_status_with_no_telling_words_is_a_domain_taking_no_mail() -> None:
    [r] = parse_bounce(_dsn("5.3.2", "554 5.3.2 Service currently unavailable")).recipients
    assert r.reason == "not_accept"
