"""One audience: after a notice went out and came back as a bounce, a complaint and an
unsubscribe, every command that names a segment counts the same people in it."""

from __future__ import annotations

import email
import json
import mailbox
import re
from pathlib import Path

import pytest

from notifier.ledger import SqliteLedger
from notifier.lists import audience
from notifier.lists.segments import resolve
from notifier.settings import load
from notifier.web.preview import PreviewApp

from .conftest import Campaign
from .smtpsink import Sink
from .test_bounces import ARF, _bounce_for
from .test_followups import db_rows, follow_up_campaign

LIST = """id,email,first_name,last_name,country,region,exposed
R1,ana@example.com,Ana,Lopez,ES,,email;name
R2,ben@example.org,Ben,Okafor,US,US-CA,email;password_hash
R3,chloe@example.net,Chloé,Dubois,FR,,email;name;postal_address
R4,dan@example.com,Dan,Kim,US,US-NY,
R5,eve@example.com,Eve,Stone,DE,,email
R6,fay@example.org,Fay,Moss,US,US-CA,email;name
"""
FOLLOW_UP = "what-we-changed"
# Worked out by hand from what happens below: Ana bounced, Ben complained, Chloé unsubscribed,
# Dan (nothing exposed) was never sent the notice.
EXPECTED = {
    "all": 6,
    "affected": 5,
    "notified": 3,  # Chloé, Eve, Fay: sent, no complaint (unsubscribing stops follow-ups later)
    "unreached": 1,  # Ana
}


@pytest.fixture
def sent(campaign: Campaign, sink: Sink, tmp_path: Path) -> Campaign:
    follow_up_campaign(campaign)
    campaign.write_list(LIST)
    assert campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes").code == 0
    ana = next(r for r in sink.received if r.rcpt_to == "ana@example.com")
    ben = next(r for r in sink.received if r.rcpt_to == "ben@example.org")
    ben_id = email.message_from_bytes(ben.data)["Message-ID"]
    box = mailbox.Maildir(tmp_path / "bounces", create=True)
    box.add(_bounce_for(ana.mail_from, "ana@example.com", "<unknown@example.com>"))
    box.add(
        ARF.replace(b"angry@example.org", b"ben@example.org").replace(
            b"<def.breach-notice@example.com>", ben_id.encode()
        )
    )
    campaign.notify("bounces", "ingest", str(tmp_path / "bounces"))
    ledger = SqliteLedger(campaign.root / "ledger.sqlite")
    try:
        chloe = ledger.states_for("breach-notice", ["chloe@example.net"])
        assert chloe == {"chloe@example.net": "sent"}
        row = next(mid for mid, key in _messages(campaign) if key == "chloe@example.net")
        assert ledger.unsubscribe(row, via="one-click") is True
    finally:
        ledger.close()
    return campaign


def _messages(campaign: Campaign) -> list[tuple[int, str]]:
    rows = db_rows(campaign, "SELECT m.id, r.key FROM messages m JOIN recipients r ON r.id=m.recipient_id")
    return [(int(str(r[0])), str(r[1])) for r in rows]


def _check_count(campaign: Campaign, segment: str) -> int:
    report = json.loads(campaign.notify("check", "--notice", FOLLOW_UP, "--segment", segment, "--json").out)
    found = next(f["found"] for f in report["findings"] if f["id"] == "SEGMENT")
    match = re.search(r": (\d+) recipient", found)
    assert match, found
    return int(match.group(1))


def _dry_run_count(campaign: Campaign, segment: str) -> int:
    out = campaign.notify("send", "--notice", FOLLOW_UP, "--segment", segment, "--dry-run", "--yes").out
    match = re.search(rf"Segment:\s+{segment} \((\d+) recipients", out)
    assert match, out
    return int(match.group(1))


@pytest.mark.parametrize("segment", sorted(EXPECTED))
def test_every_command_counts_the_same_members_of_a_segment(sent: Campaign, segment: str) -> None:
    """lint, check, deadlines, the preview, the audience itself and what send/run-due would
    target all count the same people in each built-in and configured segment."""
    campaign = sent
    settings = load(campaign.config)
    lists = audience.read_lists(settings.list_files)
    with audience.open_reader(settings) as reader:
        found = audience.count(
            lists,
            resolve(segment, settings.segments),
            reader,
            notice=FOLLOW_UP,
            first_notice=settings.notice,
        )
    linted = json.loads(campaign.notify("lint", "--notice", FOLLOW_UP, "--segment", segment, "--json").out)
    deadlines = json.loads(campaign.notify("deadlines", "--segment", segment, "--json").out)
    app = PreviewApp(campaign.config)
    try:
        previewed = app.segment_count(segment)
    finally:
        app.close()
    counts = {
        "audience": found.members,
        "lint": linted["recipients"],
        "check": _check_count(campaign, segment),
        "deadlines": deadlines["people"],
        "preview": previewed,
        "send --dry-run": _dry_run_count(campaign, segment),
    }
    assert counts == dict.fromkeys(counts, EXPECTED[segment])


def test_lists_check_status_and_report_agree_with_the_audience(sent: Campaign) -> None:
    """`lists check` counts everyone once, `report --unreached` names the `unreached` segment, and
    the preview sees Chloé's unsubscribe (it used to show everyone as subscribed)."""
    campaign = sent
    checked = json.loads(campaign.notify("lists", "check", "--json").out)
    assert checked["recipients"] == EXPECTED["all"]
    report = json.loads(
        campaign.notify("report", "--unreached", "--notice", "breach-notice", "--format", "json").out
    )
    assert len(report) == EXPECTED["unreached"]
    status = json.loads(campaign.notify("status", "--json").out)
    assert "breach-notice" in json.dumps(status)
    app = PreviewApp(campaign.config)
    try:
        views = {m.recipient.key: m.view for m in app.members("all")}
    finally:
        app.close()
    assert views["chloe@example.net"]["unsubscribed"] is True
    assert views["ben@example.org"]["complained"] is True
    assert views["ana@example.com"]["bounced"] is True and views["ana@example.com"]["suppressed"] is True


def test_read_only_commands_create_no_ledger(campaign: Campaign) -> None:
    """Before the first send, lint, check, deadlines and lists check count from the lists alone
    and leave no ledger behind."""
    assert campaign.notify("lint", "--segment", "affected", "--json").code in (0, 1)
    campaign.notify("deadlines", "--json")
    campaign.notify("lists", "check")
    assert not (campaign.root / "ledger.sqlite").exists()


def test_the_merged_lists_are_a_private_scratch_file_removed_with_them(tmp_path: Path) -> None:
    """The people are read back from a 0600 file in a 0700 folder, never all held, and the copy
    is gone as soon as the lists are."""
    import gc
    import stat

    lst = tmp_path / "people.csv"
    lst.write_text("email,first_name\n" + "".join(f"p{i}@example.com,P{i}\n" for i in range(3000)), "utf-8")
    lists = audience.read_lists([lst])
    store = lists.recipients._store
    assert store is not None
    folder = store.path.parent
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert len(lists.recipients) == 3000 and lists.recipients[2999].email == "p2999@example.com"
    assert [r.fields["first_name"] for r in lists.recipients[10:13]] == ["P10", "P11", "P12"]
    del lists, store
    gc.collect()
    assert not folder.exists()
