"""Bad input gets a clear message naming where, and nothing is sent or lost."""

from __future__ import annotations

import csv
import email
import email.policy
import io
import sqlite3
from pathlib import Path

import pytest

from .conftest import Campaign, Result
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


def test_lists_check_names_a_data_category_nobody_defined(campaign: Campaign) -> None:
    """An `exposed` code that neither [categories] nor the built-ins know is named with its row and
    the closest known code (the notice could not say what was exposed); exit 1."""
    path = campaign.write_list(
        "email,country,exposed\nana@example.com,FR,email;pasword_hash\nben@example.com,FR,email\n"
    )
    result = campaign.notify("lists", "check")
    assert result.code == 1
    assert f"{path}:2: unknown data category 'pasword_hash'" in result.out
    assert "did you mean 'password_hash'?" in result.out
    assert f"{path}:3:" not in result.out
    campaign.edit_config("[categories]", '[categories]\npasword_hash = "your password, hashed"')
    assert campaign.notify("lists", "check").code == 0


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
    assert "[throttle] connections should be a whole number from 1 to 100, not 'four'" in result.err


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


# ---- no user mistake ends in a traceback: every command, every kind of bad input ---------

# One way to start each command that reads the campaign.
COMMANDS: dict[str, tuple[str, ...]] = {
    "send": ("send", "--segment", "all", "--yes"),
    "check": ("check",),
    "lint": ("lint",),
    "status": ("status",),
    "report": ("report",),
    "schedule": ("schedule", "--notice", "what-we-changed", "--after", "7d"),
    "run-due": ("run-due",),
    "lists check": ("lists", "check"),
    "bounces ingest": ("bounces", "ingest", "MAILDIR"),
    "suppress": ("suppress", "add", "someone@example.com"),
    "deadlines": ("deadlines",),
    "audit verify": ("audit", "verify"),
    "channels": ("channels",),
    "substitute": ("substitute",),
}

# (edit in notify.toml, the key the error must name with its line)
BAD_SETTINGS = {
    "rate nan": ('rate = "2000/s"', "rate = nan", "[throttle] rate"),
    "retry_base negative": ('retry_base = "0.05s"', "retry_base = -5", "[throttle] retry_base"),
    "connections absurd": ("connections = 4", "connections = 100000", "[throttle] connections"),
    "dns timeout nan": ("timeout = 1", "timeout = nan", "[dns] timeout"),
    "helo with CR LF": (
        'reply_to = "privacy@example.com"',
        'reply_to = "privacy@example.com"\nhelo = "relay.example.com\\r\\nRSET"',
        "[sender] helo",
    ),
    "port 70000": ('url = "outbox:outbox"', 'url = "smtp://127.0.0.1:70000"', "[transport] url"),
}


def _run(campaign: Campaign, command: str) -> Result:
    args = [str(campaign.root / "mail") if a == "MAILDIR" else a for a in COMMANDS[command]]
    for sub in ("cur", "new", "tmp"):
        (campaign.root / "mail" / sub).mkdir(parents=True, exist_ok=True)
    return campaign.notify(*args)


def _argv(campaign: Campaign, *args: str) -> Result:
    """Like campaign.notify, for mistakes argparse itself reports (it exits 2)."""
    try:
        return campaign.notify(*args)
    except SystemExit as exc:
        captured = campaign.capsys.readouterr()
        return Result(int(str(exc.code)), captured.out, captured.err)


@pytest.mark.parametrize("bad", list(BAD_SETTINGS))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_names_a_bad_setting_with_its_line(campaign: Campaign, command: str, bad: str) -> None:
    """A bad value in notify.toml stops every command with the file, line and key (exit 2)."""
    old, new, key = BAD_SETTINGS[bad]
    campaign.edit_config(old, new)
    line = next(
        i
        for i, text in enumerate(campaign.config.read_text(encoding="utf-8").splitlines(), 1)
        if text.startswith(new.splitlines()[-1])
    )
    result = _run(campaign, command)
    assert result.code == 2, result.err
    assert "Traceback" not in result.err
    assert f"notify.toml:{line}: {key} " in result.err


# Commands that never open the campaign ledger (`lists check` reads only the lists; lint reads
# the real ledger's state through the audience, so a damaged one is named like everywhere else).
NO_LEDGER = {"lists check"}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_names_a_file_that_is_not_a_ledger(campaign: Campaign, command: str) -> None:
    """A garbage ledger.sqlite is named with "restore it from a backup" (exit 2), never a traceback."""
    ledger = campaign.root / "ledger.sqlite"
    ledger.write_bytes(b"this is not a database at all\n" * 200)
    result = _run(campaign, command)
    assert "Traceback" not in result.err
    if command in NO_LEDGER:
        assert result.code in (0, 1) and "ledger" not in result.err
        return
    assert result.code == 2
    assert f"the ledger {ledger} is not a notify ledger or is damaged" in result.err
    assert "restore it from a backup" in result.err


@pytest.mark.parametrize("command", ["status", "report", "send"])
def test_damage_deep_inside_a_ledger_is_named_too(campaign: Campaign, command: str) -> None:
    """A ledger whose pages are overwritten mid-file (opens, then fails on a query) is named, exit 2."""
    campaign.write_list("email,exposed\n" + "".join(f"p{i}@example.com,email\n" for i in range(400)))
    assert _run(campaign, "send").code == 0
    ledger = campaign.root / "ledger.sqlite"
    db = sqlite3.connect(ledger)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    size = ledger.stat().st_size
    with ledger.open("r+b") as fh:
        fh.seek(size // 3)
        fh.write(b"\xff" * (size // 3))
    result = _run(campaign, command)
    assert "Traceback" not in result.err
    assert result.code == 2, result.err
    assert str(ledger) in result.err and "backup" in result.err


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_that_reads_the_lists_names_a_missing_list(campaign: Campaign, command: str) -> None:
    """A list file that is not there is named with the setting to fix; commands that do not read
    the lists are not disturbed by it."""
    path = campaign.root / "lists" / "subscribers.csv"
    path.unlink()
    result = _run(campaign, command)
    assert "Traceback" not in result.err
    if command in ("send", "check", "lint", "lists check", "deadlines", "channels", "substitute"):
        assert result.code == 1
        assert f"{path}: list file not found" in result.err
        assert "check [lists] files in notify.toml" in result.err
    else:
        assert str(path) not in result.err


@pytest.mark.parametrize("after", ["7x", "nan", "1y", "7 days", "99999d"])
def test_a_bad_after_is_a_usage_error_naming_the_formats(campaign: Campaign, after: str) -> None:
    result = _argv(campaign, "schedule", "--notice", "what-we-changed", "--after", after)
    assert result.code == 2
    assert "Traceback" not in result.err
    assert f"argument --after: {after!r} is " in result.err
    assert "7d, 36h, 90m or 30s" in result.err or "more than two years" in result.err


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("imaps://u@127.0.0.1:99999/INBOX", "port must be a number from 1 to 65535"),
        ("imaps://u@127.0.0.1:0/INBOX", "port must be a number from 1 to 65535"),
        ("imaps://u@127.0.0.1/INBOX%0d%0aA1%20LOGOUT", "must not contain line breaks"),
        ("imaps://u@127.0.0.1/INBOX?move=a%0d%0ab", "must not contain line breaks"),
    ],
)
def test_a_bad_imap_source_is_a_usage_error_before_any_connection(
    campaign: Campaign, url: str, named: str
) -> None:
    """An IMAP URL with an impossible port or a line break in a folder name is refused up front."""
    result = campaign.notify("bounces", "ingest", url)
    assert result.code == 2
    assert named in result.err
    assert "Traceback" not in result.err and "internal error" not in result.err


@pytest.mark.parametrize(
    "args",
    [
        ("worker", "--interval", "nan"),
        ("worker", "--interval", "-1"),
        ("preview", "--port", "70000"),
        ("serve", "--port", "-1"),
        ("send", "--segment", "all", "--limit", "-3"),
        ("init", "elsewhere", "--size", "-5"),
        ("dkim", "keygen", "--domain", "example.com", "--selector", "s", "--bits", "12"),
    ],
)
def test_a_number_out_of_range_on_the_command_line_is_a_usage_error(
    campaign: Campaign, args: tuple[str, ...]
) -> None:
    """Options that take numbers refuse nan, negatives and impossible ports before anything starts."""
    result = _argv(campaign, *args)
    assert result.code == 2
    assert "Traceback" not in result.err
    assert f"argument {args[-2]}: " in result.err and args[-1] in result.err  # option and value named


@pytest.mark.parametrize(
    "args",
    [
        ("send", "--segment", "afected", "--yes"),
        ("check", "--segment", "afected"),
        ("lint", "--segment", "afected"),
        ("deadlines", "--segment", "afected"),
        ("schedule", "--notice", "what-we-changed", "--after", "7d", "--segment", "afected"),
    ],
)
def test_a_mistyped_segment_gets_the_closest_name(campaign: Campaign, args: tuple[str, ...]) -> None:
    """A near miss is a typo: suggest the segment, do not offer a template for a new one."""
    result = campaign.notify(*args)
    assert result.code == 2
    assert "unknown segment 'afected'" in result.err
    assert "did you mean 'affected'?" in result.err
    assert "add it under [segments]" not in result.err


def test_a_segment_unlike_any_other_still_gets_the_template(campaign: Campaign) -> None:
    result = campaign.notify("lint", "--segment", "zzz")
    assert result.code == 2
    assert "did you mean" not in result.err
    assert "add it under [segments] in notify.toml" in result.err


@pytest.mark.parametrize(
    "args",
    [
        ("send", "--segment", "all", "--notice", "what-we-chnged", "--yes"),
        ("check", "--notice", "what-we-chnged"),
        ("lint", "--notice", "what-we-chnged"),
        ("deadlines", "--notice", "what-we-chnged"),
        ("schedule", "--notice", "what-we-chnged", "--after", "7d"),
    ],
)
def test_a_mistyped_notice_gets_the_closest_name(campaign: Campaign, args: tuple[str, ...]) -> None:
    result = campaign.notify(*args)
    assert result.code == 2
    assert "unknown notice 'what-we-chnged'" in result.err
    assert "did you mean 'what-we-changed'?" in result.err
    assert not (campaign.root / "ledger.sqlite").exists()


class _Terminal(io.StringIO):
    """Answers typed at a terminal."""

    def isatty(self) -> bool:
        return True


def test_answering_no_at_the_prompt_cancels_cleanly(campaign: Campaign, sink: Sink) -> None:
    """Answering n at "Send N message(s) now?" says "Cancelled, nothing sent." and exits 0."""
    from notifier.cli import app as cli

    out = io.StringIO()
    code = cli.run(
        ["--config", str(campaign.config), "send", "--segment", "all", "--transport", sink.url],
        stdin=_Terminal("n\n"),
        out=out,
    )
    err = campaign.capsys.readouterr().err
    assert code == 0
    assert out.getvalue().endswith("Cancelled, nothing sent.\n")
    assert "error" not in err
    assert sink.received == []


def test_lint_names_the_rows_a_value_is_missing_for(campaign: Campaign) -> None:
    """A template value missing in some rows is an ERROR finding with the rows, not a traceback."""
    tpl = campaign.root / "templates" / "breach-notice" / "body.txt"
    tpl.write_text("Hello {{ recipient.first_name }}, account {{ recipient.account }}\n", encoding="utf-8")
    list_path = campaign.write_list(
        "email,first_name,account,exposed\na@example.com,A,111,email\nb@example.com,B,,email\n"
        "c@example.com,C,,email\n"
    )
    result = campaign.notify("lint", "--segment", "all")
    assert "Traceback" not in result.err
    assert result.code == 1
    assert "ERROR RENDER   breach-notice/body.txt:1: recipient.account is missing (not set in the list)" in (
        result.out
    )
    assert "— 2 recipient(s)" in result.out
    assert f"e.g. {list_path}:3, {list_path}:4" in result.out


def test_a_reader_that_leaves_early_ends_the_report_quietly(campaign: Campaign) -> None:
    """`notify report | head -1` on a big report: exit 0, nothing on stderr, no traceback."""
    campaign.write_list("email,exposed\n" + "".join(f"p{i}@example.com,email\n" for i in range(1500)))
    assert campaign.notify("send", "--segment", "all", "--yes").code == 0
    for fmt in ("csv", "json"):
        proc = campaign.spawn("report", "--format", fmt)
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.readline()
        proc.stdout.close()  # the reader leaves with more than a pipe's worth still to come
        err = proc.stderr.read()
        proc.stderr.close()
        assert proc.wait(timeout=60) == 0, err
        assert err == ""


def test_an_unexpected_error_prints_one_line_and_keeps_the_traceback_private(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug is not shown as a traceback: one line, and the details in a 0600 file."""
    from pathlib import Path

    from notifier.cli import app as cli

    def broken(*_args: object, **_kwargs: object) -> int:
        raise RuntimeError("secret@example.com broke it")

    monkeypatch.setattr(cli, "run", broken)
    monkeypatch.delenv("NOTIFY_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exited:
        cli.main()
    err = capsys.readouterr().err
    assert exited.value.code == 1
    assert "Traceback" not in err and "secret@example.com" not in err
    assert "notify: internal error (RuntimeError): this is a bug in notify." in err
    path = Path(err.split("the details are in ")[1].split(" (private")[0])
    try:
        assert path.stat().st_mode & 0o777 == 0o600
        assert "RuntimeError: secret@example.com broke it" in path.read_text(encoding="utf-8")
    finally:
        path.unlink()
    monkeypatch.setenv("NOTIFY_DEBUG", "1")
    with pytest.raises(RuntimeError):
        cli.main()


def test_a_report_written_over_an_open_file_ends_private(campaign: Campaign, tmp_path: Path) -> None:
    """`report --output` and `lists check --export` over an existing 0644 file leave it 0600: the
    people in it are not readable by others, whatever was there before."""
    campaign.notify("send", "--segment", "affected", "--yes")
    for args, name in ((("report", "--output"), "report.csv"), (("lists", "check", "--export"), "rows.csv")):
        target = tmp_path / name
        target.write_text("old\n")
        target.chmod(0o644)
        campaign.notify(*args, str(target))
        assert target.stat().st_mode & 0o777 == 0o600
        assert target.read_text() != "old\n"


def test_a_report_refuses_to_follow_a_link_put_in_its_place(campaign: Campaign, tmp_path: Path) -> None:
    """A symbolic link where the report should go is refused (exit 2), never followed."""
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("keep\n")
    link = tmp_path / "report.csv"
    link.symlink_to(elsewhere)
    result = campaign.notify("report", "--output", str(link))
    assert result.code == 2 and "symbolic link" in result.err and "Traceback" not in result.err
    assert elsewhere.read_text() == "keep\n"
