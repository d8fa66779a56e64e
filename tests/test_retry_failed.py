"""`notify send --retry-failed` against a real SMTP server on 127.0.0.1, on both ledger backends:
after a run where some people were accepted, some gave up after retrying, some were refused for
a reason of ours, some bounced (soft or hard) and one was a dead address, only the people no
server accepted and who can still be reached are sent to again, and the plan says how many and
why before asking. `--resend` stays "everyone again"."""

from __future__ import annotations

import email
import io
import mailbox
from pathlib import Path

import pytest

from notifier.cli import app as cli

from .conftest import Campaign
from .smtpsink import Fault, Sink
from .test_ledger_backends import pg_database, states  # noqa: F401  (pg_database: a fixture)

PEOPLE = {
    "ok1@example.com": "accepted",
    "ok2@example.com": "accepted",
    "full@example.net": "gave up: 450 4.2.2 mailbox full until the retry window closed",
    "slow@example.org": "gave up: 451 4.7.1 too many messages (ours) until the window closed",
    "blocked@example.org": "refused at RCPT: 550 5.7.1 blocked using a blocklist (ours)",
    "gone@example.net": "refused at RCPT: 550 5.1.1 user unknown (a dead address)",
    "softb@example.com": "accepted, then a DSN: 5.2.2 mailbox full (soft bounce)",
    "hardb@example.com": "accepted, then a DSN: 5.1.1 user unknown (hard bounce)",
    "supp@example.org": "refused for our reason, then suppressed by hand",
}
RETRIED = ["blocked@example.org", "full@example.net", "slow@example.org", "softb@example.com"]
BLOCKED = "550 5.7.1 Service unavailable; client host [127.0.0.1] blocked using zen.spamhaus.org"


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, campaign: Campaign) -> Campaign:
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_database")
        campaign.edit_config('path = "ledger.sqlite"', f'url = "{url}"\nlease = "2s"')
    return campaign


def _dsn(return_path: str, address: str, message_id: str, status: str, diagnostic: str) -> bytes:
    """An RFC 3464 report as Postfix writes it, sent back to the message's VERP address."""
    return (
        f"From: MAILER-DAEMON@mx.example.net\r\nTo: {return_path}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n"
        f"Final-Recipient: rfc822; {address}\r\nAction: failed\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: smtp; {diagnostic}\r\n\r\n"
        f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nTo: {address}\r\n"
        f"Message-ID: {message_id}\r\n\r\n--B--\r\n"
    ).encode()


def first_run(c: Campaign, sink: Sink, tmp_path: Path) -> None:
    """Send to PEOPLE with their faults, ingest the two bounces, suppress supp@; then the
    receiving side is fixed (no more faults)."""
    c.write_list("email,first_name,exposed\n" + "".join(f"{p},P,email\n" for p in PEOPLE))
    c.edit_config('retry_window = "48h"', 'retry_window = "0.3s"')
    sink.fault("full@example.net", *[Fault("rcpt", "450 4.2.2 Mailbox full")] * 50)
    sink.fault("slow@example.org", *[Fault("rcpt", "451 4.7.1 Too many messages, slow down")] * 50)
    sink.fault("blocked@example.org", Fault("rcpt", BLOCKED))
    sink.fault("supp@example.org", Fault("rcpt", BLOCKED))
    sink.fault("gone@example.net", Fault("rcpt", "550 5.1.1 <gone@example.net>: User unknown"))
    first = c.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    assert first.code == 1, first.out + first.err
    box = mailbox.Maildir(tmp_path / "bounces", create=True)
    for who, status, text in (
        ("softb@example.com", "5.2.2", "552 5.2.2 <softb@example.com>: Mailbox full"),
        ("hardb@example.com", "5.1.1", "550 5.1.1 <hardb@example.com>: Recipient address rejected"),
    ):
        got = next(r for r in sink.received if r.rcpt_to == who)
        box.add(_dsn(got.mail_from, who, email.message_from_bytes(got.data)["Message-ID"], status, text))
    c.notify("bounces", "ingest", str(tmp_path / "bounces"))
    assert c.notify("suppress", "add", "supp@example.org").code == 0
    assert states(c) == {
        "ok1@example.com": "sent",
        "ok2@example.com": "sent",
        "full@example.net": "failed",
        "slow@example.org": "failed",
        "blocked@example.org": "failed",
        "gone@example.net": "failed",
        "softb@example.com": "bounced",
        "hardb@example.com": "bounced",
        "supp@example.org": "failed",
    }
    with sink.handler.lock:
        sink.handler.faults.clear()


def test_retry_failed_sends_only_to_those_no_server_accepted(
    backend: Campaign, sink: Sink, tmp_path: Path
) -> None:
    """--retry-failed sends again to the gave-up, the refused-for-our-reason and the soft-bounced,
    never to the accepted, a dead address, a hard bounce or a suppressed person; a retried
    message gets a fresh retry window (one more 4xx is retried, not given up at once)."""
    first_run(backend, sink, tmp_path)
    before = len(sink.received)
    sink.fault("full@example.net", Fault("rcpt", "450 4.2.2 Mailbox full"))
    retry = ("send", "--segment", "affected", "--transport", sink.url, "--retry-failed", "--yes")
    again = backend.notify(*retry)
    assert again.code == 0, again.out + again.err
    assert sorted(r.rcpt_to for r in sink.received[before:]) == RETRIED
    assert states(backend) == {
        **{p: "sent" for p in ("ok1@example.com", "ok2@example.com", *RETRIED)},
        "gone@example.net": "failed",
        "hardb@example.com": "bounced",
        "supp@example.org": "failed",
    }
    # And once more: everyone who can be reached has been, so nothing is left to retry.
    third = backend.notify(*retry)
    assert "To send:    0" in third.out and len(sink.received) == before + len(RETRIED)


def test_the_plan_says_how_many_and_why_before_asking(backend: Campaign, sink: Sink, tmp_path: Path) -> None:
    """On a terminal, the plan names the count to retry by how and reason, and what is never
    retried, before the prompt; answering n sends nothing."""
    first_run(backend, sink, tmp_path)
    before = len(sink.received)

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = io.StringIO()
    args = ["--config", str(backend.config), "send", "--segment", "affected", "--transport", sink.url]
    code = cli.run([*args, "--retry-failed"], stdin=Tty("n\n"), out=out)
    text = out.getvalue()
    assert code == 0, text
    retrying = (
        "Retrying:   4 that no server accepted — gave up after retrying 2: mailbox_full 1, "
        "rate_limited 1 (ours); refused 1: blocked 1 (ours); soft-bounced after acceptance 1: "
        "mailbox_full 1.\n"
    )
    assert retrying in text
    assert "Not again:  3 dead address(es) or suppressed — user_unknown 2, blocked 1 (ours).\n" in text
    assert text.index(retrying) < text.index("Send 4 message(s) now? [y/N]")
    assert len(sink.received) == before


def test_a_plain_rerun_sends_nothing_and_names_the_retry(
    backend: Campaign, sink: Sink, tmp_path: Path
) -> None:
    """Without the option nobody is sent again, and the plan says how many could be retried and how."""
    first_run(backend, sink, tmp_path)
    before = len(sink.received)
    rerun = backend.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    assert "To send:    0" in rerun.out and len(sink.received) == before
    assert "Retryable:  4 of them no server accepted — gave up after retrying 2:" in rerun.out
    assert "`notify send --retry-failed`" in rerun.out
    assert rerun.code == 1  # failures need attention


def test_resend_still_sends_to_everyone_accepted_included(
    backend: Campaign, sink: Sink, tmp_path: Path
) -> None:
    """--resend is everyone again, on purpose: the accepted get a second copy; and it does not
    go together with --retry-failed (a usage error, nothing sent)."""
    first_run(backend, sink, tmp_path)
    before = len(sink.received)
    with pytest.raises(SystemExit) as both:  # argparse's usage error
        backend.notify("send", "--segment", "affected", "--transport", sink.url, "--resend", "--retry-failed")
    assert both.value.code == 2 and len(sink.received) == before
    resend = backend.notify("send", "--segment", "affected", "--transport", sink.url, "--resend", "--yes")
    assert "AGAIN" in resend.out
    again = {r.rcpt_to for r in sink.received[before:]}
    assert {"ok1@example.com", "ok2@example.com"} <= again
    assert {"gone@example.net", "supp@example.org"}.isdisjoint(again)  # suppressed stay suppressed
