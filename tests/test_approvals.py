"""Sign-off without a browser: what `notify send`, `run-due` and `notify check` do with
[campaign] require_approval, against the real SMTP test server and the campaign's ledger."""

from __future__ import annotations

import datetime as dt
import io
import json
import sqlite3

import pytest

from notifier.compliance import approvals
from notifier.errors import UsageError
from notifier.followups.schedule import run_due
from notifier.ledger import open_ledger
from notifier.settings import load

from .conftest import Campaign
from .smtpsink import Sink


@pytest.fixture
def gated(campaign: Campaign, sink: Sink) -> Campaign:
    campaign.edit_config('url = "outbox:outbox"', f'url = "{sink.url}"')
    campaign.edit_config("require_approval = false", "require_approval = true")
    return campaign


def approve(campaign: Campaign, role: str, notice: str = "breach-notice", name: str = "Ana Legal") -> None:
    settings = load(campaign.config)
    version = approvals.version_of(settings, notice).hash
    approvals.approve(settings, notice, name=name, role=role, version=version)


def test_notify_init_turns_sign_off_on(campaign: Campaign) -> None:
    """A new campaign requires approval by legal and security before it sends anywhere but an outbox."""
    made = campaign.notify("init", str(campaign.root / "fresh"))
    assert made.code == 0
    settings = load(campaign.root / "fresh" / "notify.toml")
    assert settings.require_approval and settings.approvers == ("legal", "security")


def test_send_refuses_until_every_role_has_approved_and_says_who_is_missing(
    gated: Campaign, sink: Sink
) -> None:
    """With legal's approval alone, send names security as missing and sends nothing; with both it sends."""
    approve(gated, "legal")
    refused = gated.notify("send", "--segment", "affected", "--yes")
    assert refused.code == 1 and sink.received == []
    assert "approved by Ana Legal (legal) so far" in refused.err
    assert "security must approve notice breach-notice" in refused.err
    approve(gated, "security", name="Sam Sec")
    sent = gated.notify("send", "--segment", "affected", "--yes")
    assert sent.code == 0, sent.err
    assert len(sink.received) == 3


def test_an_outbox_and_a_dry_run_need_no_approval(gated: Campaign) -> None:
    """Rendering into an outbox is how a campaign is reviewed before sign-off: it is never refused."""
    assert gated.notify("send", "--segment", "affected", "--dry-run", "--yes").code == 0
    result = gated.notify("send", "--segment", "affected", "--transport", "outbox:outbox", "--yes")
    assert result.code == 0, result.err
    assert len(gated.outbox()) == 3


def test_an_approval_is_an_audit_entry_with_the_hashes_it_was_checked_against(gated: Campaign) -> None:
    """The audit trail keeps who approved, their role, the version and each part's hash."""
    approve(gated, "legal")
    ledger = open_ledger(load(gated.config))
    try:
        (entry,) = [e for e in ledger.audit_entries() if e.action == "notice.approve"]
    finally:
        ledger.close()
    details = json.loads(entry.details)
    assert details["name"] == "Ana Legal" and details["role"] == "legal"
    assert {"body.html", "body.txt", "subject.txt"} <= set(details["templates"])
    assert len(details["facts"]) == 64 and "content.toml" in details["rules"]
    assert gated.notify("audit", "verify").code == 0


def test_a_changed_fact_shows_as_changed_since_approved_in_check(gated: Campaign) -> None:
    """Editing notify.toml's incident facts after approval makes `notify check` fail APPROVAL-1 and say so."""
    approve(gated, "legal")
    approve(gated, "security", name="Sam Sec")
    before = gated.notify("check", "--json")
    (finding,) = [f for f in json.loads(before.out)["findings"] if f["id"] == "APPROVAL-1"]
    assert finding["status"] == "PASS"
    gated.edit_config('name = "Example Shop"', 'name = "Example Shop (renamed)"')
    after = gated.notify("check", "--json")
    (finding,) = [f for f in json.loads(after.out)["findings"] if f["id"] == "APPROVAL-1"]
    assert finding["status"] == "FAIL"
    assert "changed since approved by Sam Sec (security)" in finding["found"]
    assert "notify.toml facts changed" in finding["found"]


def test_an_approval_row_written_without_the_audit_key_approves_nothing(gated: Campaign, sink: Sink) -> None:
    """Someone who can write the ledger but has no audit key cannot approve by inserting a row."""
    approve(gated, "legal")
    settings = load(gated.config)
    version = approvals.version_of(settings, "breach-notice")
    db = sqlite3.connect(gated.root / "ledger.sqlite")
    try:
        seq, prev = db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        forged = json.dumps(
            {"notice": "breach-notice", "version": version.hash, "name": "X", "role": "security"}
        )
        db.execute(
            "INSERT INTO audit (seq, at, user, host, action, details, prev, hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (seq + 1, 1.0, "x", "x", approvals.ACTION, forged, prev, "0" * 64),
        )
        db.commit()
    finally:
        db.close()
    refused = gated.notify("send", "--segment", "affected", "--yes")
    assert refused.code == 1 and "security must approve" in refused.err and sink.received == []


def test_an_approval_needs_a_listed_role_and_the_version_the_page_showed(gated: Campaign) -> None:
    """A role not in [campaign] approvers, or a version that changed since, is refused with the fix."""
    settings = load(gated.config)
    version = approvals.version_of(settings, "breach-notice").hash
    with pytest.raises(UsageError, match="not one of the roles"):
        approvals.approve(settings, "breach-notice", name="Ana", role="intern", version=version)
    with pytest.raises(UsageError, match="changed since this page was shown"):
        approvals.approve(settings, "breach-notice", name="Ana", role="legal", version="0" * 64)


def test_run_due_refuses_an_unapproved_follow_up(gated: Campaign, sink: Sink) -> None:
    """A due follow-up nobody approved is not sent by run-due; the first notice, approved, was."""
    gated.fill_follow_up_facts()
    approve(gated, "legal")
    approve(gated, "security", name="Sam Sec")
    assert gated.notify("send", "--segment", "affected", "--yes").code == 0
    assert gated.notify("schedule", "--notice", "what-we-changed", "--after", "1s").code == 0
    out = io.StringIO()
    later = dt.datetime.now(dt.UTC).timestamp() + 3600
    code = run_due(load(gated.config), out, now=lambda: later)
    assert code == 1
    assert "what-we-changed is not approved" in out.getvalue()
    assert all(b"What we have changed" not in m.data for m in sink.received)
