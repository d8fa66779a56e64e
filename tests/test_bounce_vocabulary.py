"""Wordings from the published reason vocabularies (Sisimai's per-reason tables and per-MTA and
per-provider modules: lib/sisimai/reason/*, lhost/*, rhost/*), each read as the reason it names;
the fixtures are written for these tests from those formats, each citing where the wording comes
from. Also the two policy choices of issue 14: an explicit X.1.1 stays an unknown mailbox after
DATA, and "hard" says what a report says about the address while only final failures act."""

from __future__ import annotations

import mailbox
import sqlite3
from pathlib import Path

import pytest

from notifier.bounces.parse import parse_bounce
from notifier.bounces.reasons import is_hard, reason_for
from notifier.bounces.replies import classify_reply

from .conftest import Campaign
from .smtpsink import Sink

DATA = Path(__file__).parent / "data" / "bounces"

# (reason, reply code, reply text, SMTP command, where the wording comes from)
WORDINGS: list[tuple[str, int, str, str, str]] = [
    (
        "bad_reputation",
        421,
        "4.7.0 [TSS04] Messages from 192.0.2.25 temporarily deferred due to unexpected volume or user "
        "complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes",
        "MAIL",
        "Yahoo Inc. [TSS04] (Sisimai badreputation, rhost/yahooinc)",
    ),
    (
        "authentication",
        550,
        "5.7.9 This mail has been blocked because the sender is unauthenticated. Yahoo requires all "
        "senders to authenticate with either SPF or DKIM.",
        "DATA",
        "Yahoo Inc. 5.7.9 (rhost/yahooinc)",
    ),
    (
        "suspended",
        554,
        "delivery error: dd someone@yahoo.com is no longer valid. [-20]",
        "DATA",
        "Yahoo Inc. 'dd ... is no longer valid' (rhost/yahooinc suspend)",
    ),
    ("rate_limited", 450, "User is receiving mail too quickly", "RCPT", "Yahoo Inc. (rhost/yahooinc)"),
    (
        "too_many_connections",
        421,
        "Max message per connection reached, closing transmission channel",
        "MAIL",
        "Yahoo Inc. (rhost/yahooinc toomanyconn)",
    ),
    (
        "rate_limited",
        454,
        "Throttling failure: Daily message quota exceeded.",
        "DATA",
        "Amazon SES sending quota: ours to slow down, never a full mailbox",
    ),
    (
        "rejected",
        451,
        "Message temporarily deferred due to unresolvable RFC.5321 from domain",
        "MAIL",
        "Yahoo Inc. (rhost/yahooinc rejected)",
    ),
    (
        "host_unknown",
        550,
        "5.1.2 <a@example.org>... Host unknown (Name server: .: host not found)",
        "RCPT",
        "Sendmail: the X.1.2 status leads over words notaccept also lists",
    ),
    (
        "host_unknown",
        550,
        "Mail domain mentioned in email address is unknown",
        "RCPT",
        "Sisimai hostunknown table",
    ),
    (
        "user_unknown",
        550,
        "5.1.1 The email account that you tried to reach does not exist",
        "RCPT",
        "Gmail 550 5.1.1 (Sisimai userunknown)",
    ),
    ("user_unknown", 550, "Unknown local-part", "RCPT", "Exim (Sisimai userunknown)"),
    ("spam_detected", 550, "Your message failed several antispam checks", "DATA", "Sisimai spamdetected"),
    ("spam_detected", 554, "You're using a mass mailer", "DATA", "Sisimai spamdetected"),
    ("security", 554, "Could not retrieve credentials", "MAIL", "OpenSMTPD smtpd/mta.c"),
    ("system", 451, "Can't create user output file", "DATA", "Sendmail local delivery (Sisimai systemerror)"),
    ("rejected", 550, "Sender domain is a dead domain", "MAIL", "Sisimai rejected: a dead sender domain"),
    ("rejected", 553, "Mailfrom domain is listed in Spamhaus", "MAIL", "Sisimai rejected (sender domain)"),
    ("blocked", 554, "5.7.1 You are sending spam", "MAIL", "Sisimai blocked: our IP, not this message"),
    ("blocked", 550, "Bad sender IP address", "RCPT", "Sisimai blocked: not an unknown mailbox"),
    ("mailbox_full", 552, "5.2.3 Mailbox size limit exceeded", "RCPT", "Sisimai mailboxfull"),
    ("message_too_big", 552, "5.3.4 Error: message file too big", "DATA", "Postfix (Sisimai mesgtoobig)"),
    (
        "network",
        554,
        "5.4.6 Hop count exceeded - possible mail loop",
        "DATA",
        "Sendmail (Sisimai networkerror)",
    ),
    (
        "security",
        553,
        "sorry, you don't authenticate or the domain isn't in my list of allowed rcpthosts (#5.7.1)",
        "RCPT",
        "qmail-smtpd (Sisimai securityerror)",
    ),
    (
        "policy",
        554,
        "5.7.1 Message refused because the recipient is not accepting mail with attachments",
        "DATA",
        "AOL (Sisimai policyviolation)",
    ),
    (
        "authentication",
        550,
        "5.7.1 SPF check: fail, see http://spf.pobox.com/why.html",
        "MAIL",
        "Sisimai authfailure",
    ),
    (
        "mailbox_full",
        552,
        "The recipient mailbox has exceeded its disk space limit",
        "RCPT",
        "Sisimai mailboxfull",
    ),
]


@pytest.mark.parametrize(
    ("reason", "code", "text", "command", "source"), WORDINGS, ids=[f"{w[0]}:{w[4]}" for w in WORDINGS]
)
def test_a_published_wording_gives_its_reason(
    reason: str, code: int, text: str, command: str, source: str
) -> None:
    """A reply worded as the cited MTA or provider words it is read as the reason it names."""
    assert classify_reply(code, text, command=command).reason == reason


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("No MX found for domain", "not_accept"),
        ("Destination seem to reject all mails", "not_accept"),
        ("Temporary failure in MX lookup", "network"),
        ("No valid route to remote MX", "network"),
        ("Envelope expired", "expired"),
        ("Invalid domain name", "host_unknown"),
    ],
)
def test_opensmtpd_relay_failures_give_their_reason(line: str, reason: str) -> None:
    """OpenSMTPD's own relay failure strings (smtpd/mta.c, queue.c), which its bounces quote with
    no status, each give the reason they say."""
    assert reason_for(text=line) == reason


def test_an_explicit_unknown_mailbox_status_after_data_is_still_an_unknown_mailbox() -> None:
    """Servers that look recipients up late answer 550 5.1.1 at the end of DATA: the status says
    the mailbox does not exist (hard), as Sisimai reads it; the same words without the status
    after DATA are the recipient's filter (soft)."""
    late = reason_for(
        status="5.1.1",
        text="550 5.1.1 RESOLVER.ADR.RecipNotFound; not found (in reply to end of DATA command)",
    )
    assert late == "user_unknown" and is_hard(late, "5")
    words = reason_for(
        status="5.0.0", text="550 Unknown user a@example.org (in reply to end of DATA command)"
    )
    assert words == "filtered" and not is_hard(words, "5")


def test_a_japanese_domino_report_is_decoded_and_read() -> None:
    """Lotus Domino writes its Diagnostic-Code in raw ISO-2022-JP ("Domino ディレクトリには見つかりません",
    Sisimai lhost/domino): it is decoded, and read as an unknown mailbox though its type is X-Notes."""
    parsed = parse_bounce((DATA / "domino-japanese.eml").read_bytes())
    (r,) = parsed.recipients
    assert (r.address, r.reason, r.hard) == ("tanaka@example.jp", "user_unknown", True)
    assert "Domino ディレクトリには見つかりません" in r.diagnostic


def test_a_delay_warning_names_its_cause_without_being_a_bounce() -> None:
    """OpenSMTPD's "delayed" warning quoting "No MX found for domain" is a delay whose reason is a
    domain that accepts no mail; with a 4.x.x status it is not hard."""
    parsed = parse_bounce((DATA / "opensmtpd-no-mx-delay.eml").read_bytes())
    assert parsed.kind == "delay"
    assert [(r.address, r.action, r.reason, r.hard) for r in parsed.recipients] == [
        ("ana@nomail.example", "delayed", "not_accept", False)
    ]


def _report(to: str, address: str, action: str, status: str, diagnostic: str) -> bytes:
    return (
        f"From: MAILER-DAEMON@mx.example.net\nTo: {to}\nSubject: Delivery Status Notification\n"
        'MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
        "--B\nContent-Type: text/plain\n\nDelivery to this recipient is delayed.\n\n"
        "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n"
        f"Final-Recipient: rfc822; {address}\nAction: {action}\nStatus: {status}\n"
        f"Diagnostic-Code: smtp; {diagnostic}\n\n--B--\n"
    ).encode()


def test_a_delay_that_says_user_unknown_is_hard_but_suppresses_nobody(
    campaign: Campaign, sink: Sink, tmp_path: Path
) -> None:
    """A delay warning quoting "450 4.1.1 user unknown" says the address looks dead (hard, as the
    words say), but the server is still trying: ingest neither marks the message bounced nor
    suppresses the person; only a final failure does."""
    campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    ana = next(r for r in sink.received if r.rcpt_to == "ana@example.com")
    box = mailbox.Maildir(tmp_path / "bounces", create=True)
    box.add(
        _report(
            ana.mail_from,
            "ana@example.com",
            "delayed",
            "4.1.1",
            "450 4.1.1 <ana@example.com>: Recipient address rejected: User unknown",
        )
    )
    parsed = parse_bounce(next(iter(box.values())).as_bytes())
    assert parsed.kind == "delay" and [(r.reason, r.hard) for r in parsed.recipients] == [
        ("user_unknown", True)
    ]
    campaign.notify("bounces", "ingest", str(tmp_path / "bounces"))
    db = sqlite3.connect(campaign.root / "ledger.sqlite")
    state = db.execute(
        "SELECT m.state FROM messages m JOIN recipients r ON r.id = m.recipient_id WHERE r.email = ?",
        ("ana@example.com",),
    ).fetchone()[0]
    assert state == "sent"
    assert db.execute("SELECT count(*) FROM suppressions").fetchone()[0] == 0


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        # Orange / La Poste (postmaster code lists, Sisimai rhost/franceptt)
        (
            "550 5.1.1 Adresse d au moins un destinataire invalide. Invalid recipient. OFR_416 [416]",
            "user_unknown",
        ),
        ("552 5.1.1 Boite du destinataire pleine. Recipient overquota. OFR_417 [417]", "mailbox_full"),
        ("550 5.5.0 Boite du destinataire archivee. Archived recipient. LPN007_420", "suspended"),
        (
            "421 mwinf5c79 ME Trop de connexions, veuillez verifier votre configuration. OFR005_104",
            "too_many_connections",
        ),
        (
            "550 5.5.0 Service refuse. Veuillez essayer plus tard. service refused, please try later. "
            "LPN001_108",
            "other",
        ),
        # GoDaddy (its bounce-back list, Sisimai rhost/godaddy)
        (
            "552 This message has been rejected due to content judged to be spam by the internet "
            "community. IB212",
            "spam_detected",
        ),
        (
            "554 Connection refused. This IP has a poor reputation on Cloudmark Sender Intelligence "
            "(CSI). IB103",
            "bad_reputation",
        ),
        # Cox (its email error codes, Sisimai rhost/cox)
        ("554 cox.net rejected - AUP#CXDNS", "require_ptr"),
        ("554 cox.net rejected - AUP#IPBL0011", "blocked"),
    ],
)
def test_a_providers_own_error_code_names_the_reason(reply: str, reason: str) -> None:
    """A provider's documented error code in the reply decides the reason, whatever other words
    the reply carries; a code documented only as "try later" says nothing more (``other``)."""
    assert reason_for(text=reply) == reason


# (reason, status, SMTP command, reply text, the Sisimai entry it is written after). Sisimai 5.x
# reason modules hold two lists: Index (substrings) and Pairs (substrings that must appear in that
# order, Sisimai::String.aligned); these wordings are written for these tests after the entries our
# tables lacked (rb-sisimai lib/sisimai/reason/*.rb, newest stored version; go-sisimai
# reason/why-*.go, 2025-2026).
NEWER_SISIMAI: list[tuple[str, str, str, str, str]] = [
    (
        "host_unknown",
        "",
        "RCPT",
        "550 dns lookup failure: host example.org not found",
        'hostunknown.rb Pairs ["host ", " not found"]',
    ),
    (
        "host_unknown",
        "",
        "RCPT",
        "550 Domain example.org does not exist",
        'hostunknown.rb Pairs ["domain ", "not exist"]',
    ),
    (
        "host_unknown",
        "",
        "",
        "all host address lookups failed permanently",
        'hostunknown.rb Index "all host address lookups failed" (Exim transports/smtp.c)',
    ),
    (
        "user_unknown",
        "",
        "RCPT",
        "550 Die E-Mail konnte nicht zugestellt werden, weil die Adresse nicht gefunden wurde oder "
        "keine E-Mails empfangen kann",
        'userunknown.rb Index "weil die adresse nicht gefunden wurde ..."',
    ),
    (
        "mailbox_full",
        "",
        "RCPT",
        "452 The mailbox of someone@example.org is full",
        'mailboxfull.rb Pairs ["mailbox ", "full"]',
    ),
    (
        "message_too_big",
        "",
        "DATA",
        "552 Your message is far too big for this server",
        'emailtoolarge.rb Pairs ["message ", "too", "big"]',
    ),
    (
        "exceed_limit",
        "",
        "DATA",
        "552 Message header size exceeds limit",
        'exceedlimit.rb Index "message header size exceeds limit"',
    ),
    (
        "suspended",
        "",
        "RCPT",
        "550 This account has been temporarily disabled",
        'suspend.rb Pairs ["account ", "disabled"] (go-sisimai why-suspend.go)',
    ),
    (
        "no_relaying",
        "",
        "RCPT",
        "550 Relay for someone@example.net denied",
        'norelaying.rb Pairs ["relay ", "denied"]',
    ),
    (
        "authentication",
        "5.7.1",
        "MAIL",
        "550 5.7.1 SPF: 192.0.2.1 is not allowed to send mail from example.org",
        'authfailure.rb Pairs ["spf: ", " is not allowed to send "]',
    ),
    (
        "filtered",
        "5.7.1",
        "DATA",
        "550 5.7.1 RESOLVER.RST.NotAuthorized; not authorized to send to this recipient",
        'filtered.rb Index "resolver.rst.notauthorized" (go-sisimai why-filtered.go, Exchange)',
    ),
    (
        "require_ptr",
        "",
        "MAIL",
        "550 Client 192.0.2.1 has no valid reverse-mapping in DNS",
        'requireptr.rb Pairs ["reverse", " dns"]',
    ),
    (
        "not_compliant",
        "",
        "DATA",
        "550 5.7.1 This message does not meet our formatting guidelines. For more information, "
        "go to https://support.google.com/mail/?p=RfcMessageNonCompliant",
        'notcompliantrfc.rb Index "https://support.google.com/mail/?p=rfcmessagenoncompliant" (Gmail)',
    ),
    (
        "content_error",
        "",
        "DATA",
        "554 Message contain invalid MIME headers",
        'contenterror.rb Index "message contain invalid mime headers" (go-sisimai)',
    ),
    (
        "rejected",
        "",
        "MAIL",
        "550 Sender someone@example.org rejected: domain has no MX",
        'rejected.rb Pairs ["sender", " rejected"]',
    ),
    (
        "spam_detected",
        "",
        "DATA",
        "550 Rejected: mail score (9.8) over 5.0",
        'spamdetected.rb Pairs ["mail score (", " over "]',
    ),
    (
        "too_many_connections",
        "",
        "CONN",
        "421 4.7.0 Connection count limit reached for 192.0.2.1",
        'ratelimited.rb Pairs ["connection ", "limit"] (go-sisimai why-ratelimited.go)',
    ),
    (
        "blocked",
        "",
        "",
        "554 Connection from 192.0.2.1 dropped",
        'blocked.rb Pairs ["connection ", "dropped"] (go-sisimai why-blocked.go)',
    ),
    (
        "policy",
        "5.7.1",
        "DATA",
        "550 5.7.1 The user or domain that you are sending to (or from) has a policy that prohibited "
        "the mail that you sent. For more information, please visit "
        "https://support.google.com/a/answer/172179",
        'policyviolation.rb Index "support.google.com/a/answer/172179" (Gmail)',
    ),
    ("system", "", "", "local delivery failed", "systemerror.rb Index (Exim transports/pipe.c)"),
    ("network", "", "", "Could not contact DNS servers", "networkerror.rb Index"),
    (
        "not_accept",
        "",
        "",
        "MX or SRV record indicated no SMTP service",
        "notaccept.rb Index (Exim routers/dnslookup.c)",
    ),
    (
        "expired",
        "",
        "",
        "Message 1abc23-000001-AB has been frozen",
        'expired.rb Index "has been frozen" (Exim deliver.c)',
    ),
    ("mailer_error", "", "", "Command output: permission denied", 'mailererror.rb Index "command output:"'),
    ("vacation", "", "", "I am away until Monday, 7 December", 'vacation.rb Index "i am away until"'),
]


@pytest.mark.parametrize(
    ("reason", "status", "command", "text", "source"),
    NEWER_SISIMAI,
    ids=[f"{w[0]}:{w[4]}" for w in NEWER_SISIMAI],
)
def test_a_newer_sisimai_wording_gives_its_reason(
    reason: str, status: str, command: str, text: str, source: str
) -> None:
    """A reply worded after a Sisimai 5.x Index string, or a Pairs list with other words between
    its parts (within one line), is read as the reason that module names."""
    assert reason_for(status=status, command=command, text=text) == reason


def test_pairs_stay_within_one_line() -> None:
    """The parts of a Pairs entry are looked for within one line, a bounded distance apart: words
    that only meet across lines say nothing."""
    assert reason_for(command="RCPT", text="550 host mx.example.org said:\nrecipient not found") != (
        "host_unknown"
    )
