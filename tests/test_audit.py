"""The audit trail against someone who can write the ledger but does not hold the campaign's
audit key: every forgery is made with direct SQLite access to the ledger file, then checked
with the real `notify audit verify`."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from notifier.ledger.audit import entry_hash, entry_mac, head_mac

from .conftest import Campaign

Row = tuple[int, float, str, str, str, str, str, str]  # seq, at, user, host, action, details, prev, hash


@pytest.fixture(autouse=True)
def _no_key_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_AUDIT_KEY", raising=False)


@pytest.fixture
def used(campaign: Campaign) -> Campaign:
    """A campaign that imported a list, sent a notice and changed its suppressions."""
    assert campaign.notify("send", "--segment", "affected", "--yes").code == 0
    assert campaign.notify("suppress", "add", "dan@example.com").code == 0
    assert campaign.notify("suppress", "remove", "dan@example.com").code == 0
    return campaign


def key_file(campaign: Campaign) -> Path:
    return campaign.root / ".notify" / "audit.key"


def forge(campaign: Campaign, change: Callable[[sqlite3.Connection], object]) -> None:
    """Write the ledger as an attacker would: straight to the file, triggers dropped."""
    db = sqlite3.connect(campaign.root / "ledger.sqlite")
    try:
        db.execute("DROP TRIGGER IF EXISTS audit_no_update")
        db.execute("DROP TRIGGER IF EXISTS audit_no_delete")
        change(db)
        db.commit()
    finally:
        db.close()


def entries(db: sqlite3.Connection) -> list[Row]:
    return list(db.execute("SELECT seq, at, user, host, action, details, prev, hash FROM audit ORDER BY seq"))


def rechain(
    db: sqlite3.Connection,
    rows: list[Row],
    sign: Callable[..., str],
    head: Callable[[int, str], str],
    *,
    keep: int = 0,
) -> None:
    """Replace the log with ``rows`` renumbered from 1, each after the first ``keep`` hashed
    with ``sign`` and linked to the one before, and point the head at the new end."""
    db.execute("DELETE FROM audit")
    prev = "0" * 64
    seq = 0
    for seq, (_, at, user, host, action, details, _, old) in enumerate(rows, start=1):
        digest = old if seq <= keep else sign(seq, at, user, host, action, details, prev)
        row = (seq, at, user, host, action, details, prev, digest)
        db.execute("INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
        prev = digest
    db.execute("INSERT OR REPLACE INTO meta VALUES ('audit_head', ?)", (head(seq, prev),))


def public_head(count: int, digest: str) -> str:
    return f"{count}:{digest}"


def verify(campaign: Campaign, *extra: str) -> tuple[int, str]:
    result = campaign.notify("audit", "verify", *extra)
    assert "Traceback" not in result.err
    return result.code, result.out + result.err


def printed_head(output: str) -> str:
    return output.split(", head ")[1].split()[0]


def test_an_untouched_log_verifies_and_its_key_file_is_private(used: Campaign) -> None:
    """An untouched log verifies (exit 0), every entry keyed; the key is 0600 beside notify.toml."""
    code, out = verify(used)
    assert code == 0, out
    assert "Audit log intact" in out and "TAMPERED" not in out
    count = len(forge_free_entries(used))
    assert f"{count} entries ({count} keyed)" in out
    assert key_file(used).stat().st_mode & 0o777 == 0o600
    assert key_file(used).parent.stat().st_mode & 0o777 == 0o700
    key = key_file(used).read_text().strip()
    db = sqlite3.connect(used.root / "ledger.sqlite")
    try:
        dump = "\n".join(
            str(r) for r in db.execute("SELECT * FROM meta UNION ALL SELECT seq, details FROM audit")
        )
    finally:
        db.close()
    assert key not in dump  # the ledger never holds the audit key


def forge_free_entries(campaign: Campaign) -> list[Row]:
    db = sqlite3.connect(campaign.root / "ledger.sqlite")
    try:
        return entries(db)
    finally:
        db.close()


def test_an_entry_appended_with_the_public_hash_is_detected(used: Campaign) -> None:
    """An entry hashed with the public function and made the head is named as added without the key."""

    def append(db: sqlite3.Connection) -> None:
        last = entries(db)[-1]
        seq, prev = last[0] + 1, last[7]
        fields = (seq, last[1] + 1, "mallory", "elsewhere", "suppress.remove", '{"removed":1}', prev)
        digest = entry_hash(*fields)
        db.execute("INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (*fields, digest))
        db.execute("INSERT OR REPLACE INTO meta VALUES ('audit_head', ?)", (public_head(seq, digest),))

    forge(used, append)
    code, out = verify(used)
    assert code == 1
    assert "(suppress.remove) was not written with the campaign's audit key" in out
    assert "the head record carries no key" in out


def test_an_edited_entry_is_detected_even_when_the_chain_is_rehashed(used: Campaign) -> None:
    """Editing an entry and rehashing everything after it with the public function is detected."""

    def edit(db: sqlite3.Connection) -> None:
        rows = entries(db)
        seq, at, user, host, action, details, prev, digest = rows[1]
        assert action == "list.import"
        rows[1] = (seq, at, user, host, action, details.replace('"rows":4', '"rows":3'), prev, digest)
        rechain(db, rows, entry_hash, public_head, keep=1)

    forge(used, edit)
    code, out = verify(used)
    assert code == 1
    assert "entry 2 (list.import) was not written with the campaign's audit key" in out


def test_an_edited_entry_with_the_triggers_dropped_is_detected(used: Campaign) -> None:
    """An entry changed in place (triggers dropped) is named as changed."""
    forge(used, lambda db: db.execute("UPDATE audit SET user='someone-else' WHERE action='send.start'"))
    code, out = verify(used)
    assert code == 1 and "(send.start) was changed after it was written" in out


def test_a_log_emptied_with_its_head_is_detected(used: Campaign) -> None:
    """Deleting every entry and the head row is reported as an emptied log, not an intact one."""
    forge(used, lambda db: db.executescript("DELETE FROM audit; DELETE FROM meta WHERE key='audit_head'"))
    code, out = verify(used)
    assert code == 1
    assert "the log is empty" in out and "was emptied" in out and "1 run(s)" in out
    assert "intact" not in out


def test_a_log_emptied_so_that_notify_restarts_it_is_detected(used: Campaign) -> None:
    """Emptying the log and removing the schema version, so notify writes a fresh first entry, is detected."""

    def wipe(db: sqlite3.Connection) -> None:
        db.execute("DELETE FROM audit")
        db.execute("DELETE FROM meta WHERE key IN ('audit_head', 'schema_version', 'audit_key_id')")

    forge(used, wipe)
    code, out = verify(used)
    assert code == 1 and "before the log's first entry" in out and "restarted" in out


def test_a_truncated_log_with_a_rewritten_head_is_detected(used: Campaign) -> None:
    """Cutting off the newest entries and pointing the head at the new end without the key is detected."""

    def truncate(db: sqlite3.Connection) -> None:
        rows = entries(db)
        keep = rows[:-2]
        db.execute("DELETE FROM audit WHERE seq > ?", (keep[-1][0],))
        old_mac = db.execute("SELECT value FROM meta WHERE key='audit_head'").fetchone()[0].split(":")[2]
        head = f"{keep[-1][0]}:{keep[-1][7]}:{old_mac}"
        db.execute("INSERT OR REPLACE INTO meta VALUES ('audit_head', ?)", (head,))

    forge(used, truncate)
    code, out = verify(used)
    assert code == 1 and "the head record was rewritten by someone without the campaign's audit key" in out


def test_a_truncated_log_without_its_head_is_detected(used: Campaign) -> None:
    """Cutting off the newest entries and deleting the head row is detected."""

    def truncate(db: sqlite3.Connection) -> None:
        db.execute("DELETE FROM audit WHERE seq > 2")
        db.execute("DELETE FROM meta WHERE key='audit_head'")

    forge(used, truncate)
    code, out = verify(used)
    assert code == 1 and "the head record is missing" in out


def test_a_log_rebuilt_without_the_key_is_detected(used: Campaign) -> None:
    """A whole log rebuilt with the public function, consistent chain and head, is detected."""

    def rebuild(db: sqlite3.Connection) -> None:
        rows = [r for r in entries(db) if r[4] != "suppress.remove"]  # the step being hidden
        rechain(db, rows, entry_hash, public_head)

    forge(used, rebuild)
    code, out = verify(used)
    assert code == 1 and "no entry carries this campaign's audit key" in out


def test_a_legacy_looking_log_rebuilt_while_the_key_exists_is_detected(used: Campaign) -> None:
    """A log rebuilt unkeyed and passed off as an older notify's (so notify signs on top) is detected."""

    def pass_off_as_legacy(db: sqlite3.Connection) -> None:
        rows = [r for r in entries(db) if r[4] not in ("ledger.create", "suppress.remove")]
        rechain(db, rows, entry_hash, public_head)
        db.execute("UPDATE meta SET value='2' WHERE key='schema_version'")
        db.execute("DELETE FROM meta WHERE key='audit_key_id'")

    forge(used, pass_off_as_legacy)
    code, out = verify(used)
    assert code == 1 and "the key already existed" in out


def test_an_older_notify_log_is_upgraded_and_reported_as_legacy(used: Campaign) -> None:
    """An older notify's unkeyed log is keyed on upgrade and verifies with a warning."""

    def make_legacy(db: sqlite3.Connection) -> None:
        rows = [r for r in entries(db) if r[4] != "ledger.create"]
        rechain(db, rows, entry_hash, public_head)
        db.execute("UPDATE meta SET value='2' WHERE key='schema_version'")
        db.execute("DELETE FROM meta WHERE key='audit_key_id'")

    forge(used, make_legacy)
    key_file(used).unlink()
    code, out = verify(used)
    assert code == 0, out
    assert "WARNING: entries 1..5 were written by an older notify" in out
    assert "vouches for them" in out
    assert key_file(used).stat().st_mode & 0o777 == 0o600
    forge(used, lambda db: db.execute("UPDATE audit SET host='other' WHERE seq=2"))
    code, out = verify(used)
    assert code == 1 and "entry 2 (send.start) was changed" in out


def test_a_recorded_head_is_still_reached_until_someone_with_the_key_rebuilds(used: Campaign) -> None:
    """--head passes while the log reaches the recorded head, and fails after a rebuild made with the key."""
    code, out = verify(used)
    recorded = printed_head(out)
    assert used.notify("suppress", "add", "ana@example.com").code == 0
    code, out = verify(used, "--head", recorded)
    assert code == 0, out
    assert "It still reaches the head you recorded" in out
    key = bytes.fromhex(key_file(used).read_text().strip())

    def rebuild_with_key(db: sqlite3.Connection) -> None:
        rows = [r for r in entries(db) if r[4] != "suppress.remove"]

        def sign(*fields: object) -> str:
            return entry_mac(key, *fields)  # type: ignore[arg-type]

        rechain(db, rows, sign, lambda n, h: f"{n}:{h}:{head_mac(key, n, h)}")

    forge(used, rebuild_with_key)
    code, out = verify(used)
    assert code == 0  # the key holder's rebuild is consistent: only a head kept elsewhere shows it
    code, out = verify(used, "--head", recorded)
    assert code == 1 and "the log no longer reaches the head you recorded" in out


def test_a_ledger_rolled_back_to_an_older_copy_fails_the_recorded_head(used: Campaign) -> None:
    """A ledger file replaced by an earlier copy of itself is caught by a head recorded after the copy."""
    before = (used.root / "ledger.sqlite").read_bytes()
    assert used.notify("suppress", "add", "ana@example.com").code == 0
    code, out = verify(used)
    recorded = printed_head(out)
    for suffix in ("-wal", "-shm"):
        (used.root / f"ledger.sqlite{suffix}").unlink(missing_ok=True)
    (used.root / "ledger.sqlite").write_bytes(before)
    code, out = verify(used, "--head", recorded)
    assert code == 1 and "no longer reaches the head you recorded" in out


def test_a_missing_key_file_is_a_clear_configuration_error(used: Campaign) -> None:
    """Verifying without the key names the key file and NOTIFY_AUDIT_KEY, exit 2, no traceback."""
    key_file(used).unlink()
    result = used.notify("audit", "verify")
    assert result.code == 2
    assert "the audit key is missing" in result.err and "NOTIFY_AUDIT_KEY" in result.err
    assert str(key_file(used)) in result.err and "Traceback" not in result.err
    written = used.notify("suppress", "add", "ana@example.com")
    assert written.code == 2 and "the key is not here" in written.err


def test_a_sender_with_another_key_is_refused_before_it_writes(
    used: Campaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A machine with another NOTIFY_AUDIT_KEY cannot append entries nobody could verify."""
    count = len(forge_free_entries(used))
    monkeypatch.setenv("NOTIFY_AUDIT_KEY", "ab" * 32)
    result = used.notify("suppress", "add", "ana@example.com")
    assert result.code == 2 and "is not the key this campaign's log is written with" in result.err
    assert len(forge_free_entries(used)) == count
    monkeypatch.setenv("NOTIFY_AUDIT_KEY", "short")
    result = used.notify("audit", "verify")
    assert result.code == 2 and "NOTIFY_AUDIT_KEY is shorter than 32 characters" in result.err


def test_a_bad_head_argument_is_a_usage_error(used: Campaign) -> None:
    """--head that is not a hash is refused with exit 2."""
    result = used.notify("audit", "verify", "--head", "not-a-hash")
    assert result.code == 2 and "is not a head hash" in result.err


def test_the_evidence_pack_reports_a_forged_log(used: Campaign, tmp_path: Path) -> None:
    """The evidence pack says the log was altered when an entry was changed without the key."""
    forge(used, lambda db: db.execute("UPDATE audit SET action='check.report' WHERE seq=3"))
    assert used.notify("audit", "export", "--output", str(tmp_path / "pack")).code == 0
    pack = json.loads((tmp_path / "pack" / "evidence.json").read_text())
    assert not pack["audit"]["intact"] and pack["audit"]["problems"]
    assert "ALTERED" in (tmp_path / "pack" / "summary.txt").read_text()
