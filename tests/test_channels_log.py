"""New York's log (GBL 899-aa(5)(b)): every electronic notice to a person whose rule requires it,
with time, channel and message id, exportable and safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import json
import os
import stat

from .conftest import Campaign
from .smtpsink import Sink
from .test_channels import mixed


def test_log_holds_each_accepted_notice_to_a_new_yorker(campaign: Campaign, sink: Sink) -> None:
    """Dan (NY, express consent) is logged with the Message-ID the server received; nobody else is."""
    c = mixed(campaign)
    c.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    rows = list(csv.DictReader(io.StringIO(c.notify("channels", "log").out)))
    assert [r["email"] for r in rows] == ["dan@example.com"]
    dan = rows[0]
    received = next(r for r in sink.received if r.rcpt_to == "dan@example.com")
    assert dan["message_id"] and dan["message_id"].encode() in received.data
    assert dan["channel"] == "email" and dan["rule"] == "CH-US-NY" and dan["recipient_id"] == "P4"
    assert dan["at_utc"].endswith("+00:00")


def test_every_notice_is_a_new_log_entry(campaign: Campaign, sink: Sink) -> None:
    """A second notice to the same person (here a resend) is a second entry: the log is of notices."""
    c = mixed(campaign)
    c.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    c.notify("send", "--segment", "affected", "--transport", sink.url, "--yes", "--resend")
    rows = json.loads(c.notify("channels", "log", "--format", "json").out)
    assert [r["email"] for r in rows] == ["dan@example.com", "dan@example.com"]
    assert rows[0]["at_utc"] <= rows[1]["at_utc"]


def test_forced_email_to_a_new_yorker_is_logged_too(campaign: Campaign, sink: Sink) -> None:
    """Eve (NY, no express consent) emailed under --force: that electronic notice is logged as well."""
    c = mixed(campaign)
    c.notify("send", "--segment", "affected", "--transport", sink.url, "--yes", "--force")
    rows = list(csv.DictReader(io.StringIO(c.notify("channels", "log").out)))
    assert sorted(r["email"] for r in rows) == ["dan@example.com", "eve@example.com"]


def test_log_export_is_private_and_spreadsheet_safe(campaign: Campaign, sink: Sink) -> None:
    """--output writes a 0600 file, and a list id that looks like a formula is written as text."""
    c = mixed(campaign)
    c.write_list(
        c.root.joinpath("lists", "subscribers.csv").read_text(encoding="utf-8").replace("P4,", "=1+1,")
    )
    c.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    result = c.notify("channels", "log", "--output", str(c.root / "nylog.csv"))
    assert result.code == 0, result.err
    path = c.root / "nylog.csv"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    assert "'=1+1" in text and ",=1+1" not in text


def test_log_is_empty_before_any_send(campaign: Campaign) -> None:
    """Before a ledger exists, the log is just its header (and nothing is created)."""
    c = mixed(campaign)
    rows = list(csv.reader(io.StringIO(c.notify("channels", "log").out)))
    assert rows == [["at_utc", "notice", "recipient_id", "email", "channel", "message_id", "rule"]]
    assert not (c.root / "ledger.sqlite").exists()
