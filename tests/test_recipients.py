"""Reading lists: normalised addresses, kept rejects, streaming."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from notifier.lists.recipients import dedupe_key, read_list


def rows(tmp_path: Path, text: str) -> list:  # type: ignore[type-arg]
    path = tmp_path / "l.csv"
    path.write_text(text, encoding="utf-8")
    return list(read_list(path))


def test_addresses_are_normalised_and_domains_lowercased(tmp_path: Path) -> None:
    (row,) = rows(tmp_path, "email\n  Ana.Lopez@EXAMPLE.COM \n")
    assert row.recipient.email == "Ana.Lopez@example.com"
    assert row.recipient.key == "ana.lopez@example.com"


def test_internationalised_domains_are_sent_in_ascii_form(tmp_path: Path) -> None:
    (row,) = rows(tmp_path, "email\nana@bücher.example\n")
    assert row.recipient.email == "ana@xn--bcher-kva.example"
    assert not row.recipient.smtputf8


def test_internationalised_local_parts_need_smtputf8(tmp_path: Path) -> None:
    (row,) = rows(tmp_path, "email\nzoë@example.com\n")
    assert row.recipient.email == "zoë@example.com" and row.recipient.smtputf8


def test_known_columns_are_cleaned(tmp_path: Path) -> None:
    (row,) = rows(tmp_path, "email,country,region,exposed\na@example.com,de,us-ca, Email ;NAME;;email\n")
    f = row.recipient.fields
    assert f["country"] == "DE" and f["region"] == "US-CA" and f["exposed"] == ["email", "name"]


def test_country_is_derived_from_region(tmp_path: Path) -> None:
    (row,) = rows(tmp_path, "email,region\na@example.com,US-NY\n")
    assert row.recipient.fields["country"] == "US"


def test_bad_country_codes_warn_but_keep_the_person(tmp_path: Path) -> None:
    (row,) = rows(tmp_path, "email,country\na@example.com,Germany\n")
    assert row.recipient is not None
    assert any("ISO 3166-1" in w for w in row.warnings)


def test_custom_columns_reach_templates_and_empty_cells_are_absent(tmp_path: Path) -> None:
    (row,) = rows(tmp_path, "email,Loyalty ID,first_name\na@example.com,L-9,\n")
    assert row.recipient.fields == {"loyalty_id": "L-9"}


def test_reading_streams_rows_before_the_file_ends(tmp_path: Path) -> None:
    """Rows come out while the rest of the list has not even been written (a pipe),
    so a 1,000,000-row list is never held in memory."""
    path = tmp_path / "pipe.csv"
    os.mkfifo(path)
    release = threading.Event()

    def writer() -> None:
        with path.open("w") as fh:
            fh.write("email\np1@example.com\np2@example.com\n")
            fh.flush()
            release.wait(10)
            fh.write("p3@example.com\n")

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        it = read_list(path)
        first = next(it)
        assert first.recipient is not None and first.recipient.email == "p1@example.com"
        assert not release.is_set()  # the writer is still holding the rest back
    finally:
        release.set()
        thread.join()
    assert [r.recipient.email for r in it if r.recipient] == ["p2@example.com", "p3@example.com"]


def test_dedupe_key_ignores_case() -> None:
    assert dedupe_key("John@Example.COM") == dedupe_key("john@example.com")
