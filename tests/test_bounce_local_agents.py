"""What a local delivery agent says in a bounce names the reason, whatever report quotes it.

Fixtures are written here around the agents' own messages as Sisimai's lib/sisimai/lda.rb and
mda.rb quote them (maildrop, vpopmail's vdelivermail, procmail, Dovecot's LDA).
"""

from __future__ import annotations

from notifier.bounces.parse import parse_bounce


def _postfix(diagnostic: str) -> list[tuple[str, str, bool]]:
    raw = (
        "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\nTo: bounces@example.com\n"
        "Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
        "--B\nContent-Type: text/plain\n\nThis is the mail system at host mx.example.net.\n\n"
        "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n"
        "Final-Recipient: rfc822; ana@example.jp\nAction: failed\nStatus: 5.0.0\n"
        f"Diagnostic-Code: {diagnostic}\n\n--B--\n"
    )
    return [(r.address, r.reason, r.hard) for r in parse_bounce(raw.encode()).recipients]


def test_maildrop_cannot_find_system_user_is_an_unknown_user() -> None:
    """maildrop's "Cannot find system user" (a program's x-unix output) is an unknown user, hard."""
    assert _postfix("X-Unix; maildrop: Cannot find system user") == [("ana@example.jp", "user_unknown", True)]


def test_vpopmail_catch_all_refusal_is_the_domains_filter() -> None:
    """vdelivermail's "user does not exist, but will deliver to <catch-all>" is the domain's own
    rule refusing: filtered, soft, never a dead address."""
    assert _postfix(
        "X-Unix; vdelivermail: user does not exist, but will deliver to "
        "/home/vpopmail/domains/example.jp/postmaster"
    ) == [("ana@example.jp", "filtered", False)]


def test_procmail_out_of_disk_space_is_the_receiving_systems_fault() -> None:
    """procmail's "no space left to finish writing" is the receiving system out of space, not
    the person's mailbox full."""
    assert _postfix(
        'X-Unix; procmail: Error while writing to "/var/mail/ana": no space left to finish writing'
    ) == [("ana@example.jp", "system_full", False)]


def test_the_agents_words_without_its_name_keep_the_general_reading() -> None:
    """ "Cannot find system user" without maildrop's mark is not read by maildrop's table."""
    assert _postfix("X-Unix; Cannot find system user") == [("ana@example.jp", "mailer_error", False)]
