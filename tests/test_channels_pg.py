"""The same channel decisions, sends and New York log on a PostgreSQL ledger (issue 16).

Needs NOTIFY_TEST_PG_URL (see tests/test_ledger_backends.py); skipped without it."""

from __future__ import annotations

import csv
import io
import json

from .conftest import Campaign
from .smtpsink import Sink
from .test_channels import EMAIL, mixed
from .test_ledger_backends import pg_database  # noqa: F401 - a fixture


def on_pg(campaign: Campaign, url: str) -> Campaign:
    c = mixed(campaign)
    c.edit_config('path = "ledger.sqlite"', f'path = "ledger.sqlite"\nurl = "{url}"')
    return c


def test_pg_ledger_sends_only_to_email_channel_and_records_why(
    campaign: Campaign,
    sink: Sink,
    pg_database: str,  # noqa: F811
) -> None:
    """On PostgreSQL too: the server receives the notice only for email-channel people, the
    decisions are recorded with their rules, and status, report and the NY log read them back."""
    c = on_pg(campaign, pg_database)
    result = c.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    assert result.code == 0, result.err
    assert set(sink.by_recipient()) == EMAIL
    assert not (c.root / "ledger.sqlite").exists()  # the PostgreSQL ledger did the work
    status = json.loads(c.notify("status", "--json").out)
    assert status["notices"][0]["channels"] == {"email": 5, "postal": 3, "none-possible": 2}
    rows = {r["email"]: r for r in csv.DictReader(io.StringIO(c.notify("report").out))}
    assert rows["hana@mail.example.com"]["channel_rule"] == "MBX-US-CA"
    assert rows["cara@example.org"]["state"] == "not-emailed"
    log = list(csv.DictReader(io.StringIO(c.notify("channels", "log").out)))
    assert [r["email"] for r in log] == ["dan@example.com"]
    # Syncing the log again adds nothing: one entry per accepted notice.
    log = list(csv.DictReader(io.StringIO(c.notify("channels", "log").out)))
    assert len(log) == 1
