"""Print-ready letters (issue 16): real PDFs, read back with pdfplumber and poppler's tools."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pdfplumber
import pytest

from notifier.letters.geometry import CLEARANCE, Box

from .conftest import Campaign, needs_print_tools
from .smtpsink import Fault, Sink

pytestmark = needs_print_tools

LETTERS = """
[letters]
return_address = ["Example Shop Ltd.", "PO Box 100", "Springfield IL 62701"]
batch_size = 2
workers = 1
"""

HEADER = (
    "id,email,first_name,last_name,country,region,exposed,postal_line1,postal_line2,postal_city,"
    "postal_region,postal_postcode,postal_country,consent,consent_scope,deceased,next_of_kin_name,"
    "next_of_kin_line1,next_of_kin_city,next_of_kin_region,next_of_kin_postcode,next_of_kin_country\n"
)
POSTAL = (
    "P1,ana@example.com,Ana,Lopez,US,US-CA,email;name;ssn,12 Elm St.,Apt. 4,Sacramento,CA,95814,US,,,,,,,,,\n"
    "P2,ben@example.org,Ben,Okafor,US,US-MA,email;password_hash,3 Oak Ave,,Boston,MA,02108,US,,,,,,,,,\n"
    "P3,cara@example.net,Cara,Diaz,US,US-CA,name;phone,9 Pine Rd,,Fresno,CA,93650,US,,,,,,,,,\n"
)
EMAILED = (
    "E1,eve@example.com,Eve,Stone,US,US-CA,email,1 Bay St,,Oakland,CA,94607,US,2025-01-01,esign,,,,,,,\n"
)
NO_ADDRESS = "N1,ned@example.com,Ned,Nowhere,US,US-CA,email,,,,,,,,,,,,,,,\n"
DECEASED = (
    "D1,dee@example.com,Dee,Gone,US,US-CA,name,5 Hill St,,Davis,CA,95616,US,,,yes,"
    "Mary Gone,7 Vale Rd,Davis,CA,95616,US\n"
)


@pytest.fixture
def letters(campaign: Campaign) -> Campaign:
    campaign.config.write_text(campaign.config.read_text(encoding="utf-8") + LETTERS, encoding="utf-8")
    campaign.write_list(HEADER + POSTAL + EMAILED + DECEASED)
    return campaign


def manifest(folder: Path) -> list[dict[str, str]]:
    with (folder / "breach-notice-manifest.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def letter_text(folder: Path, row: dict[str, str]) -> str:
    """pdftotext of one letter's pages, as the manifest places it."""
    first, pages = int(row["first_page"]), int(row["pages"])
    done = subprocess.run(
        [
            "pdftotext",
            "-layout",
            "-f",
            str(first),
            "-l",
            str(first + pages - 1),
            str(folder / row["file"]),
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return " ".join(done.stdout.split())


def build(c: Campaign, *extra: str) -> tuple[int, str, Path]:
    out = c.root / "letters"
    result = c.notify("letters", "build", "--segment", "affected", "--output", str(out), *extra)
    return result.code, result.out + result.err, out


def test_each_letter_names_the_recipient_and_every_exposed_category(letters: Campaign) -> None:
    """The text pdftotext reads from each letter holds the person's name and, in plain words,
    every data category exposed about them."""
    code, out, folder = build(letters)
    assert code == 0, out
    rows = {r["recipient_id"]: r for r in manifest(folder)}
    assert set(rows) == {"P1", "P2", "P3", "D1"}  # E1 is emailed (E-SIGN consent), not written to
    ana = letter_text(folder, rows["P1"])
    assert "Dear Ana" in ana and "ANA LOPEZ" in ana
    for words in ("your email address", "your name", "your Social Security number"):
        assert words in ana
    cara = letter_text(folder, rows["P3"])
    assert "your phone number" in cara and "Social Security" not in cara


def test_address_words_lie_inside_the_envelope_window_with_clearance(letters: Campaign) -> None:
    """Every word of the address block on each letter's first page lies inside the default #10
    double-window box, at least 1/8 inch from its edges."""
    _, _, folder = build(letters)
    window = Box(0.375, 1.917, 3.75, 1.125).inset(CLEARANCE).as_points()
    for row in manifest(folder):
        address = [row[f"address_{i}"] for i in range(1, 7) if row[f"address_{i}"]]
        with pdfplumber.open(folder / row["file"]) as pdf:
            page = pdf.pages[int(row["first_page"]) - 1]
            words = page.extract_words()
        wanted = [w for line in address for w in line.split()]
        found = [w for w in words if w["text"] in wanted and w["top"] < 3.375 * 72]
        assert sorted(w["text"] for w in found) == sorted(wanted), row["recipient_id"]
        for w in found:
            assert window[0] <= w["x0"] and w["x1"] <= window[2], w
            assert window[1] <= w["top"] and w["bottom"] <= window[3], w


def test_page_counts_in_the_manifest_match_the_pdfs(letters: Campaign) -> None:
    """Each batch PDF has as many pages as its letters in the manifest, each letter starts where
    the manifest says ("Page 1 of N") and batches hold at most batch_size letters."""
    _, _, folder = build(letters)
    rows = manifest(folder)
    by_file: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_file.setdefault(row["file"], []).append(row)
    for name, letters_in in by_file.items():
        assert len(letters_in) <= 2
        info = subprocess.run(["pdfinfo", str(folder / name)], capture_output=True, text=True, check=True)
        pages = int(next(line.split()[-1] for line in info.stdout.splitlines() if line.startswith("Pages:")))
        assert pages == sum(int(r["pages"]) for r in letters_in)
        with pdfplumber.open(folder / name) as pdf:
            for r in letters_in:
                first = pdf.pages[int(r["first_page"]) - 1].extract_text() or ""
                assert f"Page 1 of {r['pages']}" in first


def test_a_deceased_persons_letter_goes_to_the_next_of_kin(letters: Campaign) -> None:
    """A row marked deceased gets a letter addressed to the next of kin, saying why."""
    _, _, folder = build(letters)
    row = next(r for r in manifest(folder) if r["recipient_id"] == "D1")
    assert row["addressee"] == "next_of_kin" and row["address_1"] == "MARY GONE"
    text = letter_text(folder, row)
    assert "Dear Mary Gone" in text and "next of kin" in text and "DEE GONE" not in text


def test_someone_who_needs_a_letter_without_an_address_is_named_by_row(letters: Campaign) -> None:
    """A person with no lawful email and no postal address is listed with file:line (exit 1);
    everyone else is still printed."""
    letters.write_list(HEADER + POSTAL + NO_ADDRESS)
    code, out, folder = build(letters)
    assert code == 1
    assert "subscribers.csv:5" in out and "no complete postal address" in out
    assert {r["recipient_id"] for r in manifest(folder)} == {"P1", "P2", "P3"}


def test_manifest_and_pdfs_are_private_and_the_manifest_spreadsheet_safe(letters: Campaign) -> None:
    """The batch PDFs and the manifest are 0600 in a 0700 folder; an id that a spreadsheet
    would run as a formula is written as text."""
    letters.write_list(HEADER + POSTAL.replace("P3,", "=1+2,"))
    _, _, folder = build(letters)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert "'=1+2" in {r["recipient_id"] for r in manifest(folder)}


def test_a4_paper_and_a_window_given_in_millimetres(letters: Campaign) -> None:
    """[letters] paper = "a4" prints A4 pages, and an address_box in mm is where the address goes."""
    letters.edit_config("batch_size = 2", 'batch_size = 2\npaper = "a4"\naddress_box = "25mm 50mm 80mm 35mm"')
    _, _, folder = build(letters)
    row = manifest(folder)[0]
    box = Box(25 / 25.4, 50 / 25.4, 80 / 25.4, 35 / 25.4).inset(CLEARANCE).as_points()
    with pdfplumber.open(folder / row["file"]) as pdf:
        page = pdf.pages[0]
        assert (round(page.width), round(page.height)) == (595, 842)
        name = [w for w in page.extract_words() if w["text"] == "LOPEZ"]
    assert name and box[0] <= name[0]["x0"] and name[0]["bottom"] <= box[3]


def test_a_window_that_does_not_fit_the_page_is_a_config_error_with_its_line(letters: Campaign) -> None:
    """An address_box off the page stops the command with exit 2, naming the key's line."""
    letters.edit_config("batch_size = 2", 'batch_size = 2\naddress_box = "7in 2in 4in 1in"')
    code, out, _ = build(letters)
    assert code == 2 and "address_box" in out and "notify.toml:" in out


def test_a_build_without_a_return_address_is_refused(letters: Campaign) -> None:
    """Without [letters] return_address nothing is printed: undeliverable mail could not come back."""
    letters.edit_config('return_address = ["Example Shop Ltd.", "PO Box 100", "Springfield IL 62701"]\n', "")
    code, out, folder = build(letters)
    assert code == 2 and "return_address" in out and not folder.exists()


def test_a_second_build_prints_only_the_letters_still_missing(letters: Campaign) -> None:
    """Run again after the list gains a person: only that person's letter is printed, in a new
    batch, and the manifest lists everyone once."""
    build(letters)
    letters.write_list(
        HEADER + POSTAL + EMAILED + DECEASED + POSTAL.replace("P1,ana@example.com", "P9,zoe@example.com")
    )
    code, out, folder = build(letters)
    assert code == 0, out
    rows = manifest(folder)
    ids = [r["recipient_id"] for r in rows]
    assert sorted(ids) == ["D1", "P1", "P2", "P3", "P9"]
    assert "Printed 1 letters" in out and rows[-1]["file"] == "breach-notice-00003.pdf"


def test_lint_checks_the_letter_too(letters: Campaign) -> None:
    """A letter template that drops a required heading is an ERROR of `notify lint`, marked as
    the letter's, while the email is fine."""
    path = letters.root / "templates" / "breach-notice" / "letter.html"
    path.write_text(path.read_text(encoding="utf-8").replace("<h2>What We Are Doing</h2>", "<h2>Steps</h2>"))
    result = letters.notify("lint")
    assert result.code == 1
    assert "letter" in result.out and "What We Are Doing" in result.out


def many(n: int) -> str:
    return HEADER + "".join(
        f"M{i:03d},m{i}@example.com,Name{i:03d},Person,US,US-CA,email;name,"
        f"{i} Elm St,,Sacramento,CA,95814,US,,,,,,,,,\n"
        for i in range(n)
    )


def test_a_killed_build_resumes_and_prints_everyone_exactly_once(letters: Campaign) -> None:
    """kill -9 the build after some batches are written; the next build continues, and across all
    batch PDFs and the manifest every person appears exactly once, with no stray files."""
    letters.write_list(many(14))
    folder = letters.root / "letters"
    env = dict(os.environ, NOTIFY_CONFIG=str(letters.config))
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parents[1]), env.get("PYTHONPATH", "")])
    proc = subprocess.Popen(
        [sys.executable, "-m", "notifier", "letters", "build", "--segment", "affected",
         "--output", str(folder), "--batch-size", "1", "--workers", "2"],
        cwd=letters.root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(folder.glob("breach-notice-*.pdf"))) < 3:
        assert proc.poll() is None, "the build ended before it could be killed"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (folder / "breach-notice-manifest.csv").exists()  # killed before the end
    code, out, _ = build(letters, "--batch-size", "1")
    assert code == 0, out
    rows = manifest(folder)
    assert sorted(r["recipient_id"] for r in rows) == [f"M{i:03d}" for i in range(14)]
    files = sorted(p.name for p in folder.iterdir())
    assert files == sorted({r["file"] for r in rows} | {"breach-notice-manifest.csv"})
    printed: list[str] = []
    for name in sorted({r["file"] for r in rows}):
        text = subprocess.run(
            ["pdftotext", str(folder / name), "-"], capture_output=True, text=True, check=True
        )
        printed += re.findall(r"Dear (Name\d{3})", text.stdout)
    assert sorted(printed) == [f"Name{i:03d}" for i in range(14)]


def returned_rows(c: Campaign) -> dict[str, dict[str, str]]:
    result = c.notify("report", "--unreached", "--format", "json")
    assert result.code == 0, result.err
    return {r["id"]: r for r in json.loads(result.out) if r["state"] == "letter-returned"}


def test_returned_letters_are_unreached_in_the_report(letters: Campaign) -> None:
    """The mail house's file names letters by recipient id or manifest row; those people show in
    `report --unreached` as letter-returned with the reason, the others do not."""
    build(letters)
    rows = manifest(letters.root / "letters")
    third = next(r["row"] for r in rows if r["recipient_id"] == "P3")
    returns = letters.root / "returns.csv"
    returns.write_text(f"recipient_id,row,reason\nP1,,moved left no address\n,{third},no such street\n")
    result = letters.notify("letters", "returned", str(returns))
    assert result.code == 0, result.out + result.err
    assert "2 newly marked returned" in result.out
    unreached = returned_rows(letters)
    assert set(unreached) == {"P1", "P3"}
    assert unreached["P1"]["reason"] == "moved left no address"
    assert unreached["P3"]["postal_address"] == "CARA DIAZ / 9 PINE RD / FRESNO CA 93650"


def test_a_returns_line_that_names_no_letter_is_reported_with_its_line(letters: Campaign) -> None:
    """A returned-mail line whose id matches no printed letter is listed with file:line (exit 1);
    the lines that match are still marked."""
    build(letters)
    returns = letters.root / "returns.csv"
    returns.write_text("recipient_id,reason\nP2,refused\nX9,unknown\n")
    result = letters.notify("letters", "returned", str(returns))
    assert result.code == 1
    assert "returns.csv:3" in result.out and "'X9'" in result.out
    assert set(returned_rows(letters)) == {"P2"}


def test_hard_bounced_email_with_a_postal_address_gets_a_letter(letters: Campaign, sink: Sink) -> None:
    """Someone whose email was refused for good (5xx) is in `--segment unreached`; with a postal
    address they get a letter, and then `report --unreached` no longer lists them."""
    letters.write_list(HEADER + EMAILED)
    sink.fault("eve@example.com", Fault("rcpt", "550 5.1.1 no such user"))
    sent = letters.notify("send", "--segment", "all", "--transport", sink.url, "--yes")
    assert sent.code == 1, sent.out + sent.err
    before = letters.notify("report", "--unreached", "--format", "json")
    assert [r["email"] for r in json.loads(before.out)] == ["eve@example.com"]
    out = letters.root / "letters"
    result = letters.notify("letters", "build", "--segment", "unreached", "--output", str(out))
    assert result.code == 0, result.out + result.err
    assert [r["recipient_id"] for r in manifest(out)] == ["E1"]
    after = letters.notify("report", "--unreached", "--format", "json")
    assert json.loads(after.out) == []


def test_a_build_into_a_folder_without_the_earlier_batches_is_refused(letters: Campaign) -> None:
    """Building again into another folder than the recorded batches' is an error naming the
    missing PDFs (exit 2): a manifest must never name files that are not beside it."""
    build(letters)
    other = letters.root / "elsewhere"
    result = letters.notify("letters", "build", "--segment", "affected", "--output", str(other))
    assert result.code == 2
    assert "breach-notice-00001.pdf" in result.err and "not in" in result.err


def test_an_address_too_long_for_the_window_is_named_by_row_not_cut(letters: Campaign) -> None:
    """An address line too wide for the window even at 8 pt is reported with its row (exit 1),
    never printed clipped; a long line that fits at a smaller size is printed inside the window."""
    long_street = "1234 Extraordinarily Long Boulevard Name That Goes On And On Apt 56789"
    fits = "12345 Northwest Longwood Boulevard Apt 1201"
    letters.write_list(HEADER + POSTAL.replace("12 Elm St.", long_street).replace("9 Pine Rd", fits))
    code, out, folder = build(letters)
    assert code == 1 and "subscribers.csv:2" in out and "does not fit the envelope window" in out
    row = next(r for r in manifest(folder) if r["recipient_id"] == "P3")
    window = Box(0.375, 1.917, 3.75, 1.125).inset(CLEARANCE).as_points()
    with pdfplumber.open(folder / row["file"]) as pdf:
        words = pdf.pages[int(row["first_page"]) - 1].extract_words()
    line = [w for w in words if w["text"] in ("LONGWOOD", "1201")]
    assert len(line) == 2 and all(w["x1"] <= window[2] for w in line)
