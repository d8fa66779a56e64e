"""One fixture per family of bounce formats (written for these tests, modelled on what each
MTA or provider sends), and what a comms lead needs from each: who bounced, why, and whether
the address itself is dead (hard) or the failure was ours or temporary (soft)."""

from __future__ import annotations

import json

import pytest

from notifier.bounces.parse import parse_bounce
from notifier.bounces.reasons import OUR_PROBLEM, REASONS, SISIMAI
from notifier.bounces.replies import classify_reply
from notifier.bounces.ses_events import parse_ses_json


def dsn(human: str, *blocks: tuple[str, str, str, str], boundary: str = "B") -> bytes:
    """A multipart/report with one delivery-status block per (address, action, status, diagnostic)."""
    fields = "\n\n".join(
        f"Final-Recipient: rfc822; {a}\nAction: {action}\nStatus: {status}"
        + (f"\nDiagnostic-Code: {diag}" if diag else "")
        for a, action, status, diag in blocks
    )
    return (
        f"From: MAILER-DAEMON@mx.example.net\nTo: bounces+tok@bounces.example.com\n"
        f"Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\n\n'
        f"--{boundary}\nContent-Type: text/plain\n\n{human}\n\n"
        f"--{boundary}\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n"
        f"{fields}\n\n--{boundary}\nContent-Type: text/rfc822-headers\n\n"
        f"From: security@example.com\nMessage-ID: <n1.breach-notice@example.com>\n\n--{boundary}--\n"
    ).encode()


def plain(sender: str, subject: str, body: str, *headers: str) -> bytes:
    extra = "".join(h + "\n" for h in headers)
    return (
        f"From: {sender}\nTo: bounces+tok@bounces.example.com\nSubject: {subject}\n{extra}\n{body}\n"
        "------ This is a copy of the message, including all the headers. ------\n\n"
        "From: Example Security <security@example.com>\nMessage-ID: <n2.breach-notice@example.com>\n"
    ).encode()


POSTFIX = dsn(
    "<gone@example.net>: host mx.example.net[192.0.2.1] said: 550 5.1.1 <gone@example.net>:\n"
    "    Recipient address rejected: User unknown in local recipient table (in reply to RCPT TO command)\n"
    "\n<picky@example.net>: host mx.example.net[192.0.2.1] said: 550 5.7.1 Unknown user\n"
    "    (in reply to end of DATA command)",
    ("gone@example.net", "failed", "5.1.1", "smtp; 550 5.1.1 <gone@example.net>: Recipient address rejected"),
    ("picky@example.net", "failed", "5.7.1", "smtp; 550 5.7.1 Unknown user"),
)
SENDMAIL = dsn(
    "   ----- The following addresses had permanent fatal errors -----\n<old@example.org>\n\n"
    "   ----- Transcript of session follows -----\n... while talking to mx.example.org.:\n"
    ">>> RCPT To:<old@example.org>\n<<< 550 5.1.1 <old@example.org>... User Unknown",
    ("old@example.org", "failed", "5.0.0", ""),
)
OPENSMTPD = dsn(
    "An error has occurred while attempting to deliver a message for\nthe following list of recipients:\n\n"
    "nobody@example.org: 550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown\n"
    "full@example.org: 552 5.2.2 <full@example.org>: Recipient address rejected: Mailbox full\n",
    ("nobody@example.org", "failed", "5.0.0", ""),
    ("full@example.org", "failed", "5.0.0", ""),
)
EXIM_MAIL_FROM = plain(
    "Mail Delivery System <Mailer-Daemon@relay.example.org>",
    "Mail delivery failed: returning message to sender",
    "This message was created automatically by mail delivery software.\n\n"
    "A message that you sent could not be delivered to one or more of its\n"
    "recipients. This is a permanent error. The following address(es) failed:\n\n"
    "  ana@example.org\n    host mx.example.org [192.0.2.7]\n"
    "    SMTP error from remote mail server after MAIL FROM:<bounces+tok@bounces.example.com> SIZE=2048:\n"
    "    553 5.1.8 Sender address rejected: Domain not found\n",
    "X-Failed-Recipients: ana@example.org",
)
EXIM_DELAY = plain(
    "Mail Delivery System <Mailer-Daemon@relay.example.org>",
    "Warning: message 1abc-0001 delayed 24 hours",
    "A message that you sent has not yet been delivered to one or more of its\n"
    "recipients after more than 24 hours on the queue on relay.example.org.\n\n"
    "The address to which the message has not yet been delivered is:\n\n"
    "  slow@example.org\n    Delay reason: SMTP error from remote mail server after initial connection:\n"
    "    421 mx.example.org Service not available, closing transmission channel\n\n"
    "No action is required on your part. Delivery attempts will continue for some time.\n",
    "Auto-Submitted: auto-replied",
)
QMAIL = plain(
    "MAILER-DAEMON@mail.example.jp",
    "failure notice",
    "Hi. This is the qmail-send program at mail.example.jp.\n"
    "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
    "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
    "<unknown@example.jp>:\n192.0.2.153 does not like recipient.\n"
    "Remote host said: 550 5.1.1 <unknown@example.jp>... User Unknown\nGiving up on 192.0.2.153.\n\n"
    "<full@example.jp>:\n192.0.2.153 does not like recipient.\n"
    "Remote host said: 452 4.2.2 <full@example.jp>... Mailbox Full\nGiving up on 192.0.2.153.\n\n"
    "--- Below this line is a copy of the message.\n",
)
OFFICE365 = dsn(
    "Delivery has failed to these recipients or groups:\n\nben@example.com\n"
    "Your message couldn't be delivered. The sending IP is banned.",
    ("ben@example.com", "failed", "5.7.606", "smtp;550 5.7.606 Access denied, banned sending IP [192.0.2.9]"),
)
GMAIL_EXPIRED = plain(
    "Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
    "Delivery Status Notification (Failure)",
    "Delivery to the following recipient failed permanently:\n\n     cara@example.co.jp\n\n"
    "Technical details of permanent failure:\nThe recipient server did not accept our requests to connect.\n"
    "[mx.example.co.jp. 192.0.2.44: timed out]\n",
)
GMAIL_AUTH = dsn(
    "** Message blocked **\n\nYour message to dan@gmail.example couldn't be delivered.",
    (
        "dan@gmail.example",
        "failed",
        "5.7.26",
        "smtp; 550-5.7.26 This mail is unauthenticated, which poses a security risk to the sender",
    ),
)
YAHOO_NULL_MX = plain(
    "MAILER-DAEMON@yahoo.example",
    "Failure Notice",
    "Sorry, we were unable to deliver your message to the following address.\n\n"
    "<eve@nomail.example>:\nNo MX record found for domain=nomail.example\n",
)
BROKEN_MIME = (
    b"From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>\nTo: <bounces+tok@bounces.example.com>\n"
    b"Subject: Returned mail: User unknown\nMIME-Version: 1.0\n"
    b'Content-Type: multipart/report; report-type=delivery-status; boundary="never-used"\n\n'
    b"The original message was received at Thu, 29 Apr 2026 23:34:45 +0900\n\n"
    b"   ----- The following addresses had permanent fatal errors -----\n<fay@example.net>\n\n"
    b"Final-Recipient: RFC822; <fay@example.net>\nAction: failed\nStatus: 5.1.1\n"
    b"Diagnostic-Code: SMTP; 550 5.1.1 <fay@example.net>... User unknown\n"
)
QUOTED = plain(
    "MAILER-DAEMON@mx.example.org",
    "Undelivered Mail Returned to Sender",
    'The mail system\n\n<"odd..name"@example.org>: host mx.example.org said: 550 5.1.1 User unknown '
    "(in reply to RCPT TO command)\n",
)
SES_BY_MAIL = (
    b"From: no-reply@sns.amazonaws.com\nTo: ops@example.com\nSubject: AWS Notification Message\n\n"
    b'{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bounceSubType":"General",'
    b'"bouncedRecipients":[{"emailAddress":"gil@example.com","action":"failed","status":"5.1.1",'
    b'"diagnosticCode":"smtp; 550 5.1.1 user unknown"}],"timestamp":"2026-12-01T10:00:00.000Z"},!\n'
    b' "mail":{"timestamp":"2026-12-01T09:59:00.000Z","source":"bounces@example.com",'
    b'"messageId":"0100abc-ses","destination":["gil@example.com"]}}\n'
)

FAMILIES = [
    (
        "postfix",
        POSTFIX,
        "bounce",
        {"gone@example.net": ("user_unknown", True), "picky@example.net": ("filtered", False)},
    ),
    ("sendmail transcript", SENDMAIL, "bounce", {"old@example.org": ("user_unknown", True)}),
    (
        "opensmtpd",
        OPENSMTPD,
        "bounce",
        {"nobody@example.org": ("user_unknown", True), "full@example.org": ("mailbox_full", False)},
    ),
    ("exim at MAIL FROM", EXIM_MAIL_FROM, "bounce", {"ana@example.org": ("rejected", False)}),
    ("exim delay", EXIM_DELAY, "delay", {"slow@example.org": ("blocked", False)}),
    (
        "qmail",
        QMAIL,
        "bounce",
        {"unknown@example.jp": ("user_unknown", True), "full@example.jp": ("mailbox_full", False)},
    ),
    ("office 365", OFFICE365, "bounce", {"ben@example.com": ("blocked", False)}),
    ("gmail expired", GMAIL_EXPIRED, "bounce", {"cara@example.co.jp": ("expired", False)}),
    ("gmail authentication", GMAIL_AUTH, "bounce", {"dan@gmail.example": ("authentication", False)}),
    ("yahoo null mx", YAHOO_NULL_MX, "bounce", {"eve@nomail.example": ("not_accept", True)}),
    ("broken MIME", BROKEN_MIME, "bounce", {"fay@example.net": ("user_unknown", True)}),
    ("quoted local part", QUOTED, "bounce", {'"odd..name"@example.org': ("user_unknown", True)}),
    ("amazon ses by mail", SES_BY_MAIL, "bounce", {"gil@example.com": ("user_unknown", True)}),
]


@pytest.mark.parametrize(("family", "raw", "kind", "expected"), FAMILIES, ids=[f[0] for f in FAMILIES])
def test_each_family_of_bounce_gives_who_why_and_hard_or_soft(
    family: str, raw: bytes, kind: str, expected: dict[str, tuple[str, bool]]
) -> None:
    parsed = parse_bounce(raw)
    assert parsed.kind == kind
    assert {r.address: (r.reason, r.hard) for r in parsed.recipients} == expected


def test_a_refusal_that_is_our_problem_is_never_hard() -> None:
    """5.7.x blocks, authentication and reputation are about us: suppressing the person for them
    would silently drop someone who must be told."""
    for raw in (OFFICE365, GMAIL_AUTH, EXIM_MAIL_FROM):
        for r in parse_bounce(raw).recipients:
            assert r.reason in OUR_PROBLEM and not r.hard


def test_the_smtp_command_tells_a_dead_address_from_a_filter() -> None:
    """'User unknown' at RCPT means the mailbox is gone; after DATA it is a content filter."""
    assert classify_reply(550, "User unknown", command="RCPT").reason == "user_unknown"
    assert classify_reply(550, "User unknown", command="DATA").reason == "filtered"
    assert not classify_reply(550, "User unknown", command="DATA").hard


def test_every_reason_is_documented_and_maps_onto_the_common_vocabulary() -> None:
    assert set(REASONS) == set(SISIMAI)
    assert len(set(SISIMAI.values())) == len(SISIMAI)  # one-to-one, so figures compare


SES_EVENT = {
    "eventType": "Bounce",
    "bounce": {
        "bounceType": "Permanent",
        "bounceSubType": "General",
        "bouncedRecipients": [
            {
                "emailAddress": "Hal@Example.com",
                "status": "5.7.1",
                "diagnosticCode": "smtp; 550 5.7.1 blocked using Spamhaus",
            },
            {
                "emailAddress": "ivy@example.com",
                "status": "5.1.1",
                "diagnosticCode": "smtp; 550 5.1.1 no such user",
            },
        ],
        "timestamp": "2026-12-01T10:00:00.000Z",
    },
    "mail": {"messageId": "0100-ses-id", "source": "bounces+t@example.com", "destination": []},
}


@pytest.mark.parametrize("wrapped", [False, True], ids=["event", "inside an SNS envelope"])
def test_ses_events_are_read_bare_or_inside_sns(wrapped: bool) -> None:
    raw = json.dumps(SES_EVENT)
    if wrapped:
        raw = json.dumps({"Type": "Notification", "MessageId": "sns-1", "Message": raw})
    parsed = parse_ses_json(raw.encode())
    assert parsed is not None and parsed.kind == "bounce" and parsed.provider_id == "0100-ses-id"
    got = {r.address: (r.reason, r.hard) for r in parsed.recipients}
    # Permanent, yet the blocklist refusal is ours: not hard.
    assert got == {"hal@example.com": ("blocked", False), "ivy@example.com": ("user_unknown", True)}
    assert parsed.at == 1796119200.0
    assert parsed.event_id == ("sns-1" if wrapped else "")


def test_ses_complaint_delivery_delay_and_reject() -> None:
    mail = {"messageId": "m-1", "destination": ["a@example.com"]}
    complaint = {
        "notificationType": "Complaint",
        "mail": mail,
        "complaint": {
            "complainedRecipients": [{"emailAddress": "a@example.com"}],
            "complaintFeedbackType": "abuse",
        },
    }
    delivery = {
        "notificationType": "Delivery",
        "mail": mail,
        "delivery": {"recipients": ["a@example.com"], "smtpResponse": "250 ok"},
    }
    delay = {
        "eventType": "DeliveryDelay",
        "mail": mail,
        "deliveryDelay": {
            "delayedRecipients": [
                {
                    "emailAddress": "a@example.com",
                    "status": "4.4.1",
                    "diagnosticCode": "smtp; 421 4.4.1 Unable to connect",
                }
            ]
        },
    }
    reject = {"eventType": "Reject", "mail": mail, "reject": {"reason": "Bad content"}}
    kinds = []
    for event in (complaint, delivery, delay, reject):
        parsed = parse_ses_json(json.dumps(event).encode())
        assert parsed is not None and [r.address for r in parsed.recipients] == ["a@example.com"]
        kinds.append((parsed.kind, parsed.recipients[0].reason, parsed.recipients[0].hard))
    assert kinds == [
        ("complaint", "complaint", False),
        ("delivered", "delivered", False),
        ("delay", "expired", False),
        ("bounce", "content_error", False),
    ]
