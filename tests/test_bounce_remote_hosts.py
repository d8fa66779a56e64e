"""Remote providers' own wordings: a provider's table settles the reason of a bounce that came
from its host or was for its domain, and no one else's.

Each fixture is a bounce we write around the example line Sisimai's rhost module for that
provider quotes (rb-sisimai lib/sisimai/rhost/*.rb, go-sisimai rhost/for-*.go), cited beside it.
"""

from __future__ import annotations

import pytest

from notifier.bounces.parse import parse_bounce
from notifier.bounces.remote_hosts import host_in, providers_for
from notifier.bounces.report import BouncedRecipient


def _dsn(recipient: str, status: str, diagnostic: str, remote: str = "", reporting: str = "") -> bytes:
    """A Postfix-style delivery-status report for one failed recipient."""
    remote_line = f"Remote-MTA: dns; {remote}\n" if remote else ""
    return (
        "From: MAILER-DAEMON@mx.sender.example (Mail Delivery System)\n"
        "To: notices@sender.example\n"
        "Subject: Undelivered Mail Returned to Sender\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n'
        "\n"
        "--B\n"
        "Content-Type: text/plain\n"
        "\n"
        "This is the mail system at host mx.sender.example.\n"
        "I'm sorry to have to inform you that your message could not be delivered.\n"
        "\n"
        "--B\n"
        "Content-Type: message/delivery-status\n"
        "\n"
        f"Reporting-MTA: dns; {reporting or 'mx.sender.example'}\n"
        "\n"
        f"Final-Recipient: rfc822; {recipient}\n"
        "Action: failed\n"
        f"Status: {status}\n"
        f"{remote_line}"
        f"Diagnostic-Code: smtp; {diagnostic}\n"
        "\n"
        "--B--\n"
    ).encode()


def _one(raw: bytes) -> BouncedRecipient:
    parsed = parse_bounce(raw)
    assert parsed.kind == "bounce"
    assert len(parsed.recipients) == 1
    return parsed.recipients[0]


# (provider, recipient, remote host, status, diagnostic, our reason, hard)
CASES = [
    # rhost/aol: "type=MX: Malformed or unexpected name server reply" for an aol.com recipient
    # (no remote host answered: the recipient's domain names the provider).
    ("aol", "kijitora@aol.com", "", "5.4.4",
     "Name service error for name=aol.com type=MX: Malformed or unexpected name server reply",
     "not_accept", True),
    # rhost/apple: "421 4.7.1 Messages to ****@icloud.com deferred due to excessive volume. Try
    # again later - https://support.apple.com/en-us/HT204137"
    ("apple", "kijitora@icloud.com", "mx01.mail.icloud.com", "4.7.1",
     "421 4.7.1 Messages to kijitora@icloud.com deferred due to excessive volume. "
     "Try again later - https://support.apple.com/en-us/HT204137", "rate_limited", False),
    # rhost/cloudflare: "554 <YOUR_IP_ADDRESS> found on one or more DNSBLs (abusixip)".
    ("cloudflare", "kijitora@example.org", "route1.mx.cloudflare.net", "5.0.0",
     "554 <192.0.2.1> found on one or more DNSBLs (abusixip). Refer to "
     "https://developers.cloudflare.com/email-routing/postmaster/#spam-and-abusive-traffic/",
     "blocked", False),
    # rhost/cox: "recipient rejected" is "The intended recipient is not a valid Cox Email account".
    ("cox", "kijitora@cox.net", "cxr.mx.a.cloudfilter.net", "5.0.0",
     "550 <kijitora@cox.net> recipient rejected", "user_unknown", True),
    # rhost/facebook: RCP-P2, "The attempted recipient's preferences prevent messages from being
    # delivered" (the one code Sisimai tested), under a 5.1.1 the general reading takes as unknown.
    ("facebook", "kijitora@facebook.com", "mx-in.facebook.com", "5.1.1",
     "550 5.1.1 RCP-P2 http://postmaster.facebook.com/response_codes?ip=192.0.2.1#rcp "
     "Refused due to recipient preferences", "filtered", False),
    # rhost/franceptt: "421 smtp.orange.fr [192.0.2.1] Emetteur invalide, Veuillez verifier la
    # configuration SPF/DNS de votre nom de domaine." (its French half, which says SPF).
    ("franceptt", "kijitora@orange.fr", "smtp-in.orange.fr", "4.0.0",
     "421 smtp.orange.fr [192.0.2.1] Emetteur invalide, Veuillez verifier la configuration SPF/DNS "
     "de votre nom de domaine.", "authentication", False),
    # rhost/godaddy: "This message is looping: it already has my Delivered-To line. (#5.4.6)"
    # (the recipient's two addresses forward to each other).
    ("godaddy", "kijitora@example.org", "smtp.secureserver.net", "5.4.6",
     "This message is looping: it already has my Delivered-To line. (#5.4.6)", "system", False),
    # rhost/google: "450 4.2.1 The user you are trying to contact is receiving mail too quickly.
    # Please resend your message at a later time." (4.2.1 alone reads as a disabled mailbox).
    ("google", "kijitora@gmail.com", "gmail-smtp-in.l.google.com", "4.2.1",
     "450 4.2.1 The user you are trying to contact is receiving mail too quickly. Please resend "
     "your message at a later time.", "rate_limited", False),
    # rhost/iua: "https://mail.i.ua/err/3/", "Mailbox was not used for more than 3 months".
    ("iua", "kijitora@i.ua", "mx.email.ua", "5.0.0",
     "550 Mailbox was not used for more than 3 months, see https://mail.i.ua/err/3/",
     "suspended", False),
    # rhost/kddi: "The response was: 550 <...>: User unknown" names the mailbox, even after DATA.
    ("kddi", "kijitora@ezweb.ne.jp", "lsean.ezweb.ne.jp", "5.0.0",
     "550 <kijitora@ezweb.ne.jp>: User unknown (in reply to end of DATA command)", "user_unknown", True),
    # rhost/messagelabs: "501 Connection rejected by policy [7.7] 20805, please visit
    # www.messagelabs.com/support for more details about this error message."
    ("messagelabs", "kijitora@example.org", "cluster1.eu.messagelabs.com", "5.0.0",
     "501 Connection rejected by policy [7.7] 20805, please visit www.messagelabs.com/support "
     "for more details about this error message.", "bad_reputation", False),
    # rhost/microsoft: 5.7.506 "Access denied, Bad HELO" (our server introduced itself as theirs).
    ("microsoft", "kijitora@example.org", "example-org.mail.protection.outlook.com", "5.7.506",
     "550 5.7.506 Access denied, Bad HELO", "blocked", False),
    # rhost/mimecast: "554 Email rejected due to security policies" (a virus signature or a spam
    # score over the maximum).
    ("mimecast", "kijitora@example.org", "eu-smtp-inbound-1.mimecast.com", "5.0.0",
     "554 Email rejected due to security policies - https://community.mimecast.com/docs/DOC-1369#554",
     "virus_detected", False),
    # rhost/nttdocomo: DOCOMO's Status 5.0.911 with "550 Unknown user ***@docomo.ne.jp" is the
    # mailbox, with or without the command.
    ("nttdocomo", "kijitora@docomo.ne.jp", "mfsmax.docomo.ne.jp", "5.0.911",
     "550 Unknown user kijitora@docomo.ne.jp", "user_unknown", True),
    # rhost/outlook: "Requested action not taken: mailbox unavailable" from hotmail.com.
    ("outlook", "kijitora@hotmail.com", "mx1.hotmail.com", "5.0.0",
     "550 Requested action not taken: mailbox unavailable (3998)", "user_unknown", True),
    # rhost/spectrum: AUP#I-13nn, "Spectrum limits the number of concurrent connections".
    ("spectrum", "kijitora@charter.net", "mx.charter.net", "4.0.0",
     "421 4.7.0 AUP#I-1310", "too_many_connections", False),
    # rhost/tencent: "mailbox unavailable or access denied" is QQ's receiving-rate limit
    # (https://service.mail.qq.com/detail/122/166), not a missing mailbox.
    ("tencent", "kijitora@qq.com", "mx3.qq.com", "5.0.0",
     "550 Mailbox unavailable or access denied [MJ...] https://service.mail.qq.com/detail/122/166",
     "rate_limited", False),
    # rhost/yahooinc: "552 1 Requested mail action aborted, mailbox not found (in reply to end of
    # DATA command)": Yahoo looks the mailbox up late; it does not exist.
    ("yahooinc", "kijitora@yahoo.com", "mta6.am0.yahoodns.net", "5.0.0",
     "552 1 Requested mail action aborted, mailbox not found (in reply to end of DATA command)",
     "user_unknown", True),
    # rhost/zoho: "554 5.7.1 Email cannot be delivered. Reason: Email flagged as Spam. (in reply to
    # RCPT TO command)": refused at RCPT, before any content, so Sisimai reads our sender refused.
    ("zoho", "kijitora@zoho.com", "smtpin.zoho.com", "5.7.1",
     "554 5.7.1 Email cannot be delivered. Reason: Email flagged as Spam. (in reply to RCPT TO command)",
     "rejected", False),
]  # fmt: skip


@pytest.mark.parametrize(
    ("provider", "recipient", "remote", "status", "diagnostic", "reason", "hard"),
    CASES,
    ids=[c[0] for c in CASES],
)
def test_a_providers_own_wording_settles_the_reason_of_its_bounce(
    provider: str, recipient: str, remote: str, status: str, diagnostic: str, reason: str, hard: bool
) -> None:
    """A bounce from (or for) a provider gets the reason and hard/soft that provider's table gives."""
    assert [p.name for p in providers_for(remote, recipient.rpartition("@")[2])][:1] == [provider]
    r = _one(_dsn(recipient, status, diagnostic, remote))
    assert (r.reason, r.hard) == (reason, hard)


def test_the_reporting_host_names_the_provider_when_no_remote_host_did() -> None:
    """Google Workspace's own report (Reporting-MTA googlemail.com) saying the address "couldn't be
    found. Check for typos or unnecessary spaces and try again." is an unknown user (rhost/gsuite)."""
    r = _one(
        _dsn(
            "kijitora@example.org",
            "5.0.0",
            "550 Your message wasn't delivered to kijitora@example.org because the address couldn't "
            "be found. Check for typos or unnecessary spaces and try again.",
            reporting="googlemail.com",
        )
    )
    assert (r.reason, r.hard) == ("user_unknown", True)


def test_a_host_named_in_a_plain_text_bounce_names_the_provider() -> None:
    """Exim's "host smtpin.zoho.com [204.141.33.23]" line makes Zoho's wording apply (rhost/zoho:
    "541 5.4.1 Mail rejected by destination domain (in reply to RCPT TO command)")."""
    raw = (
        b"From: Mail Delivery System <Mailer-Daemon@mx.sender.example>\n"
        b"To: notices@sender.example\n"
        b"Subject: Mail delivery failed: returning message to sender\n"
        b"X-Failed-Recipients: kijitora@example.org\n"
        b"\n"
        b"This message was created automatically by mail delivery software.\n"
        b"\n"
        b"A message that you sent could not be delivered to one or more of its\n"
        b"recipients. This is a permanent error. The following address(es) failed:\n"
        b"\n"
        b"  kijitora@example.org\n"
        b"    host smtpin.zoho.com [204.141.33.23]\n"
        b"    SMTP error from remote mail server after RCPT TO:<kijitora@example.org>:\n"
        b"    541 5.4.1 Mail rejected by destination domain\n"
    )
    r = _one(raw)
    assert (r.address, r.reason, r.hard) == ("kijitora@example.org", "rejected", False)


def test_au_s_filter_wording_from_another_host_is_an_unknown_user() -> None:
    """The words "550 : User unknown" at RCPT are au's reception filter only when au said them;
    from any other host they keep their general reading, a mailbox that does not exist."""
    line = "550 : User unknown (in reply to RCPT TO command)"
    au = _one(_dsn("kijitora@ezweb.ne.jp", "5.0.0", line, "lsean.ezweb.ne.jp"))
    other = _one(_dsn("kijitora@example.org", "5.0.0", line, "mx.example.org"))
    assert (au.reason, au.hard) == ("filtered", False)
    assert (other.reason, other.hard) == ("user_unknown", True)


def test_qq_s_rate_limit_wording_from_another_host_is_not_a_rate_limit() -> None:
    """The words "Mailbox unavailable or access denied" are QQ's receiving-rate limit only from QQ."""
    line = "550 5.1.1 Mailbox unavailable or access denied (in reply to RCPT TO command)"
    qq = _one(_dsn("kijitora@qq.com", "5.1.1", line, "mx3.qq.com"))
    other = _one(_dsn("kijitora@example.org", "5.1.1", line, "mx.example.org"))
    assert qq.reason == "rate_limited"
    assert other.reason != "rate_limited"


def test_docomo_s_unknown_user_after_data_is_not_a_dead_address() -> None:
    """NTT DOCOMO's "550 Unknown user" after DATA (rhost/nttdocomo's Status 5.0.0 example) is its
    filter refusing the sender: soft, never a reason to suppress; at RCPT it is the mailbox."""
    late = _one(
        _dsn(
            "kijitora@docomo.ne.jp",
            "5.0.0",
            "550 Unknown user kijitora@docomo.ne.jp (in reply to end of DATA command)",
            "mfsmax.docomo.ne.jp",
        )
    )
    early = _one(
        _dsn(
            "kijitora@docomo.ne.jp",
            "5.0.0",
            "550 Unknown user kijitora@docomo.ne.jp (in reply to RCPT TO command)",
            "mfsmax.docomo.ne.jp",
        )
    )
    assert (late.reason, late.hard) == ("rejected", False)
    assert (early.reason, early.hard) == ("user_unknown", True)


def test_a_look_alike_host_is_not_the_provider() -> None:
    """Only the provider's own names count: "notqq.com" or "qq.com.example.org" is not QQ."""
    assert providers_for("mx.notqq.com", "example.org") == []
    assert providers_for("qq.com.example.org", "qq.com.example.org") == []
    assert [p.name for p in providers_for("MX3.QQ.COM.")] == ["tencent"]


def test_the_host_that_answered_is_read_from_the_bounce_text() -> None:
    """Postfix, Exim and Sendmail name the remote host in their own words."""
    assert host_in("host smtpin.zoho.com[204.141.33.23] said: 550 5.1.1 User does not exist") == (
        "smtpin.zoho.com"
    )
    assert host_in("host mx.example.org [192.0.2.1]: 550 no") == "mx.example.org"
    assert host_in("... while talking to mfsmax.docomo.ne.jp.:\n>>> DATA") == "mfsmax.docomo.ne.jp"
    assert host_in("550 5.1.1 user unknown") == ""
