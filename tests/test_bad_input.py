"""Bad input gets a clear message naming where, and nothing is sent or lost."""

from __future__ import annotations

import csv
import email
import email.policy
import io
import sqlite3

from .conftest import Campaign
from .smtpsink import Sink

MESSY = (
    "email,first_name,last_name,exposed\n"
    "good@example.com,Good,Person,email\n"
    "not-an-address,Bad,Address,email\n"
    "two,commas,here,email,extra\n"
    "DUP@Example.com,Dup,First,email\n"
    "dup@example.com,Dup,Second,email;phone\n"
    ",Empty,Email,email\n"
    "nobody@localhost,No,Domain,email\n"
)


def test_lists_check_names_every_rejected_row_with_file_line_and_reason(campaign: Campaign) -> None:
    """Each bad row is listed as file:line with a reason a person can act on; exit 1."""
    path = campaign.write_list(MESSY)
    result = campaign.notify("lists", "check")
    assert result.code == 1
    out = result.out
    assert f"{path}:3: invalid address" in out
    assert f"{path}:4: has 5 fields, the header has 4" in out
    assert f"{path}:6: same address as line 5; merged into that row (added exposed: phone)" in out
    assert f"{path}:7: the email cell is empty" in out
    assert f"{path}:8: invalid address" in out
    assert "8 rows" not in out  # the header is not a row
    assert "7 rows — 2 usable, 4 rejected, 1 duplicates merged" in out


def test_lists_check_exports_rejected_rows(campaign: Campaign) -> None:
    """--export writes the rejects and duplicates to a CSV a person can open, 0600."""
    campaign.write_list(MESSY)
    target = campaign.root / "rejects.csv"
    campaign.notify("lists", "check", "--export", str(target))
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert [(r["line"], r["kind"]) for r in rows] == [
        ("3", "invalid"),
        ("4", "malformed"),
        ("6", "duplicate"),
        ("7", "invalid"),
        ("8", "invalid"),
    ]
    assert target.stat().st_mode & 0o777 == 0o600


def test_rejected_rows_are_recorded_as_invalid_and_reported(campaign: Campaign, sink: Sink) -> None:
    """send records each unusable row in the ledger as invalid; report exports them."""
    campaign.write_list(MESSY)
    result = campaign.notify("send", "--segment", "all", "--transport", sink.url, "--yes")
    assert sink.by_recipient() == {"good@example.com": 1, "dup@example.com": 1}
    assert "4 rejected" in result.out
    report = campaign.notify("report", "--state", "invalid")
    rows = list(csv.DictReader(io.StringIO(report.out)))
    assert sorted(int(r["line"]) for r in rows) == [3, 4, 7, 8]
    assert all(r["last_reply"] for r in rows)  # the reason travels with the row


def test_a_merged_duplicate_is_told_about_every_category_either_row_lists(
    campaign: Campaign, sink: Sink
) -> None:
    """Two rows for one person become one message that lists the union of exposed data."""
    campaign.write_list(MESSY)
    campaign.notify("send", "--segment", "all", "--transport", sink.url, "--yes")
    dup = next(r for r in sink.received if r.rcpt_to.lower() == "dup@example.com")
    msg = email.message_from_bytes(dup.data, policy=email.policy.default)
    body = msg.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "your email address" in text and "your phone number" in text


def test_a_bom_and_semicolons_are_read_like_any_export(campaign: Campaign) -> None:
    """UTF-8 with a byte-order mark and ';' as delimiter (a spreadsheet export) just works."""
    path = campaign.root / "lists" / "subscribers.csv"
    path.write_bytes("\ufeffEmail;First_Name;exposed\nzoe@example.com;Zoë;email;name\n".encode())
    # "email;name" is split by the delimiter, so quote it as spreadsheets do:
    path.write_bytes('\ufeffEmail;First_Name;exposed\nzoe@example.com;Zoë;"email;name"\n'.encode())
    result = campaign.notify("lists", "check")
    assert result.code == 0, result.out
    assert "1 usable, 0 rejected" in result.out


def test_bytes_that_are_not_utf8_reject_only_their_line(campaign: Campaign) -> None:
    """A Latin-1 byte in one row rejects that row (naming line and column), not the file."""
    path = campaign.root / "lists" / "subscribers.csv"
    path.write_bytes(b"email,first_name,exposed\nok@example.com,Ok,email\nbad@example.com,Ren\xe9,email\n")
    result = campaign.notify("lists", "check")
    assert f"{path}:3: not valid UTF-8 (byte 0xe9 at column 20)" in result.out
    assert "1 usable, 1 rejected" in result.out


def test_an_unclosed_quote_is_named_instead_of_swallowing_the_file(campaign: Campaign) -> None:
    """A stray quote that would swallow following rows is reported with its line span."""
    body = "".join(f"p{i}@example.com,P{i},email\n" for i in range(40))
    campaign.write_list('email,first_name,exposed\nq@example.com,"Broken,email\n' + body)
    result = campaign.notify("lists", "check")
    assert "line 2: row runs from line 2 to" in result.out.replace(":2:", " line 2:")
    assert "a quote" in result.out


def test_a_list_without_an_email_column_is_a_clear_error(campaign: Campaign) -> None:
    campaign.write_list("name,address\nAna,ana@example.com\n")
    result = campaign.notify("send", "--segment", "all", "--yes")
    assert result.code == 1
    assert "subscribers.csv:1: no email column in the header (found: name, address)" in result.err
    assert "name the address column 'email'" in result.err


def test_line_breaks_in_names_cannot_inject_headers(campaign: Campaign, sink: Sink) -> None:
    """A name holding CR/LF and a fake header ends up as text in To, never as a header."""
    campaign.write_list(
        "email,first_name,last_name,exposed\n"
        '"eve@example.com","Eve\r\nBcc: victim@example.org","X\nSubject: hi",email\n'
    )
    result = campaign.notify("lists", "check")
    assert "control characters (line breaks) removed from 'first_name'" in result.out
    campaign.notify("send", "--segment", "all", "--transport", sink.url, "--yes")
    (received,) = sink.received
    msg = email.message_from_bytes(received.data, policy=email.policy.default)
    assert msg["Bcc"] is None
    assert msg.get_all("Subject") and len(msg.get_all("Subject") or []) == 1
    assert "victim@example.org" in str(msg["To"])  # harmless text inside the display name
    head = received.data.split(b"\r\n\r\n", 1)[0]
    assert b"\nBcc:" not in head and b"\rBcc:" not in head


def test_unknown_segment_lists_the_defined_ones(campaign: Campaign) -> None:
    result = campaign.notify("send", "--segment", "afected", "--yes")
    assert result.code == 2
    defined = "affected, all, eu, notified, passwords, unreached, us"
    assert f"unknown segment 'afected'; defined segments: {defined}" in result.err
    assert not (campaign.root / "ledger.sqlite").exists()


def test_a_value_missing_for_some_recipients_stops_the_run_before_any_send(
    campaign: Campaign, sink: Sink
) -> None:
    """The template uses a column one row lacks: nothing is sent, and the error names
    the template line, the value and the list rows."""
    tpl = campaign.root / "templates" / "breach-notice" / "body.txt"
    tpl.write_text("Hello {{ recipient.first_name }}, account {{ recipient.account }}\n", encoding="utf-8")
    campaign.write_list(
        "email,first_name,account,exposed\na@example.com,A,111,email\nb@example.com,B,,email\n"
        "c@example.com,C,,email\n"
    )
    result = campaign.notify("send", "--segment", "all", "--transport", sink.url, "--yes")
    assert result.code == 1
    assert sink.received == []
    assert "does not render for 2 of 3 recipients; nothing was sent" in result.err
    assert "breach-notice/body.txt:1: recipient.account is missing (not set in the list)" in result.err
    assert "subscribers.csv:3, " in result.err and "subscribers.csv:4" in result.err
    db = sqlite3.connect(campaign.root / "ledger.sqlite")
    assert db.execute("SELECT count(*) FROM attempts").fetchone()[0] == 0


def test_a_missing_campaign_fact_names_the_notify_toml_key(campaign: Campaign) -> None:
    campaign.edit_config('reference = "INC-2026-0117"\n', "")
    result = campaign.notify("send", "--segment", "all", "--yes")
    assert "incident.reference is missing (not set in notify.toml)" in result.err


def test_unknown_config_key_names_the_key_and_line(campaign: Campaign) -> None:
    campaign.edit_config("connections = 4", "conections = 4")
    result = campaign.notify("status")
    assert result.code == 2
    line = next(
        i
        for i, text in enumerate(campaign.config.read_text().splitlines(), 1)
        if text.startswith("conections")
    )
    assert f"notify.toml:{line}: unknown key 'conections' in [throttle]" in result.err
    assert "known keys there: rate, connections" in result.err


def test_wrong_type_names_the_key_and_what_is_expected(campaign: Campaign) -> None:
    campaign.edit_config("connections = 4", 'connections = "four"')
    result = campaign.notify("status")
    assert result.code == 2
    assert "[throttle] connections should be a whole number of at least 1, not 'four'" in result.err


def test_a_date_without_utc_offset_is_refused(campaign: Campaign) -> None:
    """Legal clocks run in hours: a discovery time without a zone is ambiguous."""
    campaign.edit_config("discovered = 2026-11-18T09:30:00+01:00", "discovered = 2026-11-18T09:30:00")
    result = campaign.notify("status")
    assert result.code == 2
    assert "with its UTC offset" in result.err


def test_sending_without_confirmation_off_a_terminal_is_refused(campaign: Campaign, sink: Sink) -> None:
    """No --yes and no terminal to ask on: refuse, send nothing."""
    result = campaign.notify("send", "--segment", "all", "--transport", sink.url)
    assert result.code == 2
    assert "refusing to send without confirmation" in result.err
    assert sink.received == []
