"""`notify send --resend` is "everyone again, on purpose" (issue 14), on both ledger backends: the
soft-bounced are sent again too, and every resent message gets a fresh retry window, while the
suppression list (hard bounces, dead addresses, by hand) still holds."""

from __future__ import annotations

from pathlib import Path

from .conftest import Campaign
from .smtpsink import Fault, Sink
from .test_ledger_backends import pg_database, states  # noqa: F401  (pg_database: a fixture)
from .test_retry_failed import backend, first_run  # noqa: F401  (backend: a fixture)


def test_resend_sends_the_bounced_again_with_a_fresh_retry_window(
    backend: Campaign,  # noqa: F811
    sink: Sink,
    tmp_path: Path,
) -> None:
    """After a run with a soft bounce and a give-up, --resend sends to the soft-bounced person
    again and, for one who gave up long ago, one more 4xx is retried (not given up at once); a
    hard bounce and a dead address stay unsent."""
    first_run(backend, sink, tmp_path)
    before = len(sink.received)
    sink.fault("full@example.net", Fault("rcpt", "450 4.2.2 Mailbox full"))
    resend = backend.notify("send", "--segment", "affected", "--transport", sink.url, "--resend", "--yes")
    assert resend.code == 0, resend.out + resend.err
    again = {r.rcpt_to for r in sink.received[before:]}
    assert {"softb@example.com", "full@example.net", "ok1@example.com"} <= again
    assert {"hardb@example.com", "gone@example.net", "supp@example.org"}.isdisjoint(again)
    now = states(backend)
    assert now["softb@example.com"] == now["full@example.net"] == "sent"
    assert {now[p] for p in ("hardb@example.com", "gone@example.net", "supp@example.org")} == {"suppressed"}
