"""Each reason in the vocabulary, recognised from a real MTA's wording (each wording cited where it
comes from; the fixtures are written for these tests from those formats): the enhanced status
code leads, the words refine it, and "try again later" alone never makes a refusal ours."""

from __future__ import annotations

from pathlib import Path

import pytest

from notifier.bounces.parse import parse_bounce
from notifier.bounces.reasons import OUR_PROBLEM, REASONS, reason_for
from notifier.bounces.replies import classify_reply

DATA = Path(__file__).parent / "data" / "bounces"

# (reason, reply code, reply text, SMTP command, where the wording comes from)
WORDINGS: list[tuple[str, int, str, str, str]] = [
    (
        "user_unknown",
        550,
        "5.1.1 <a@example.org>: Recipient address rejected: User unknown in local recipient table",
        "RCPT",
        "Postfix smtpd, local_recipient_maps",
    ),
    ("user_unknown", 550, "No such user here", "RCPT", "qmail / Exim 'No such user here'"),
    ("user_unknown", 550, "Requested action not taken: mailbox unavailable", "RCPT", "Exchange 2003"),
    (
        "host_unknown",
        550,
        "5.1.2 Host or domain name not found. Name service error for name=x.example type=A: Host not found",
        "RCPT",
        "Postfix, smtp_host_lookup",
    ),
    ("has_moved", 550, "5.1.6 Recipient addresses moved; no forwarding address", "RCPT", "RFC 3463 X.1.6"),
    ("not_accept", 556, "5.1.10 Recipient address has null MX", "RCPT", "RFC 7505 §4.2"),
    (
        "mailbox_full",
        552,
        "5.2.2 The email account that you tried to reach is over quota",
        "RCPT",
        "Gmail 552-5.2.2",
    ),
    (
        "suspended",
        550,
        "5.2.1 The email account that you tried to reach is disabled",
        "RCPT",
        "Gmail 550-5.2.1",
    ),
    ("filtered", 550, "5.7.1 Unknown user", "DATA", "Postfix header_checks REJECT after end of DATA"),
    ("exceed_limit", 552, "5.2.3 Message length exceeds administrative limit", "DATA", "Sendmail 552 5.2.3"),
    (
        "message_too_big",
        552,
        "5.3.4 Message size exceeds fixed maximum message size",
        "DATA",
        "Postfix message_size_limit",
    ),
    (
        "rejected",
        553,
        "5.1.8 <b@bounces.example.com>: Sender address rejected: Domain not found",
        "MAIL",
        "Postfix reject_unknown_sender_domain",
    ),
    (
        "blocked",
        554,
        "5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org",
        "RCPT",
        "Postfix reject_rbl_client",
    ),
    ("blocked", 550, "5.7.1 Message refused", "RCPT", "RFC 3463 X.7.1, words that add nothing"),
    (
        "bad_reputation",
        421,
        "4.7.0 [192.0.2.1] Our system has detected that this message is suspicious "
        "due to the very low reputation of the sending IP address",
        "DATA",
        "Gmail 421-4.7.0",
    ),
    (
        "require_ptr",
        550,
        "5.7.25 [192.0.2.1] The IP address sending this message does not have a PTR record setup",
        "RCPT",
        "Gmail 550-5.7.25",
    ),
    (
        "authentication",
        550,
        "5.7.26 This mail is unauthenticated, which poses a security risk to the sender and Gmail users",
        "DATA",
        "Gmail 550-5.7.26",
    ),
    ("spam_detected", 550, "5.7.1 Message rejected as spam by Content Filtering", "DATA", "Amazon WorkMail"),
    (
        "virus_detected",
        554,
        "5.7.0 Rejected: Infected with virus Eicar-Test-Signature",
        "DATA",
        "Exim + ClamAV acl_smtp_data",
    ),
    ("content_error", 554, "5.6.0 Message contains invalid header", "DATA", "RFC 3463 X.6.0, Exchange"),
    (
        "not_compliant",
        550,
        "5.7.1 This message is not RFC 5322 compliant. There are multiple From: headers",
        "DATA",
        "Gmail 550-5.7.1 RFC 5322",
    ),
    ("policy", 451, "4.7.1 Greylisted, please try again later", "RCPT", "postgrey"),
    ("security", 530, "5.7.0 Authentication required", "MAIL", "Postfix smtpd_sasl, RFC 4954"),
    (
        "no_relaying",
        554,
        "5.7.1 <c@example.net>: Relay access denied",
        "RCPT",
        "Postfix reject_unauth_destination",
    ),
    (
        "starttls",
        530,
        "5.7.0 Must issue a STARTTLS command first",
        "MAIL",
        "Postfix smtpd_tls_security_level",
    ),
    (
        "rate_limited",
        421,
        "4.7.28 Our system has detected an unusual rate of unsolicited mail originating from your IP address",
        "DATA",
        "Gmail 421-4.7.28",
    ),
    (
        "too_many_connections",
        421,
        "4.7.0 Too many concurrent SMTP connections; please try again later",
        "CONN",
        "Microsoft Outlook.com",
    ),
    ("too_many_connections", 452, "4.5.3 Too many recipients", "RCPT", "Postfix smtpd_recipient_limit"),
    ("expired", 451, "4.4.7 Delivery time expired", "DATA", "RFC 3463 X.4.7"),
    ("network", 451, "4.4.0 DNS query failed", "RCPT", "Exchange 451 4.4.0"),
    ("system", 451, "4.3.0 Temporary local problem, try again later", "RCPT", "Exim/Postfix local error"),
    ("system", 451, "4.3.0 Error: queue file write error", "DATA", "Postfix cleanup"),
    ("system_full", 452, "4.3.1 Insufficient system storage", "MAIL", "Sendmail / Postfix 452 4.3.1"),
    ("mailer_error", 550, "5.3.0 unknown mailer error 1", "DATA", "Sendmail prog mailer exit status"),
    ("syntax_error", 501, "5.5.2 Syntax error in parameters or arguments", "MAIL", "RFC 5321 501"),
    ("on_hold", 550, "Message refused", "RCPT", "no status, words that say nothing"),
]


@pytest.mark.parametrize(
    ("reason", "code", "text", "command", "source"), WORDINGS, ids=[f"{w[0]}:{w[4]}" for w in WORDINGS]
)
def test_a_real_wording_gives_its_reason(
    reason: str, code: int, text: str, command: str, source: str
) -> None:
    """A reply worded as the cited MTA words it is read as the reason it names."""
    got = classify_reply(code, text, command=command)
    assert got.reason == reason
    assert not (got.hard and got.reason in OUR_PROBLEM)


def test_every_reason_has_a_wording_test() -> None:
    """The wording table, the SES/parse tests below and the report-only reasons cover the vocabulary."""
    elsewhere = {"suppressed", "other", "delivered", "complaint", "vacation"}
    assert set(REASONS) == {w[0] for w in WORDINGS} | elsewhere


@pytest.mark.parametrize(
    "text",
    [
        "451 4.3.0 Temporary local problem, try again later",
        "450 4.2.0 Mailbox busy, try again later",
        "451 Please try again later",
    ],
)
def test_try_again_later_alone_never_makes_a_refusal_ours_to_slow_down(text: str) -> None:
    """'Try again later' is on every temporary reply; without a rate word it is not rate limiting."""
    code = int(text[:3])
    got = classify_reply(code, text[4:])
    assert got.reason not in ("rate_limited", "too_many_connections") and not got.hard


def test_the_status_code_leads_and_the_words_refine() -> None:
    """5.2.2 is a full mailbox whatever the text; a generic 5.7.1 is refined by its words."""
    assert reason_for(status="5.2.2", text="550 5.2.2 rejected") == "mailbox_full"
    assert reason_for(status="5.7.1", text="550 5.7.1 Relay access denied") == "no_relaying"
    assert reason_for(status="5.7.1", text="550 5.7.1 refused") == "blocked"


def test_a_temporary_reply_is_never_hard() -> None:
    """A 4xx answer is transient by definition: no words in it may suppress the address."""
    assert not classify_reply(450, "4.1.1 <a@example.org>: Recipient address rejected: User unknown").hard
    parsed = parse_bounce((DATA / "gmail-dns-delay.eml").read_bytes())
    assert [(r.reason, r.hard) for r in parsed.recipients] == [("network", False)]


FIXTURES = [
    # file, kind, {address: (reason, hard)}
    ("exchange2003.eml", "bounce", {"gone@example.jp": ("user_unknown", True)}),
    ("qmail-cr-only.eml", "bounce", {"nobody@example.org": ("user_unknown", True)}),
    ("sendmail-pipelined.eml", "bounce", {"nobody@example.net": ("user_unknown", True)}),
    ("google-groups.eml", "bounce", {"notices@googlegroups.example": ("rejected", False)}),
    ("james.eml", "bounce", {"missing@example.org": ("user_unknown", True)}),
    ("auto-reply.eml", "auto-reply", {"away@example.org": ("vacation", False)}),
]


@pytest.mark.parametrize(("file", "kind", "expected"), FIXTURES, ids=[f[0] for f in FIXTURES])
def test_less_common_formats_give_who_and_why(
    file: str, kind: str, expected: dict[str, tuple[str, bool]]
) -> None:
    """Formats modelled on Exchange 2003, qmail (CR-only lines), Sendmail with PIPELINING, Google
    Groups, Apache James and an RFC 3834 auto-reply each name the right person and reason."""
    parsed = parse_bounce((DATA / file).read_bytes())
    assert parsed.kind == kind
    assert {r.address: (r.reason, r.hard) for r in parsed.recipients} == expected


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
def test_line_endings_do_not_change_the_reading(ending: bytes) -> None:
    """The same bounce read with LF, CRLF or CR-only lines gives the same answer."""
    raw = (DATA / "exchange2003.eml").read_bytes().replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    parsed = parse_bounce(raw.replace(b"\n", ending))
    assert [(r.address, r.reason, r.hard) for r in parsed.recipients] == [
        ("gone@example.jp", "user_unknown", True)
    ]


def test_a_list_or_sender_address_is_never_the_bounced_recipient() -> None:
    """Our From/Reply-To and a list's List-Post address in the returned copy are not who bounced."""
    parsed = parse_bounce((DATA / "list-and-sender.eml").read_bytes())
    assert [r.address for r in parsed.recipients] == ["reader@example.net"]
