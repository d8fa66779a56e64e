"""The deadline planner: right clocks, right thresholds, real hours across DST, met from the ledger."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

from notifier.compliance.deadlines import add_duration, load_rules, plan

from .conftest import Campaign
from .smtpsink import Sink

BERLIN = ZoneInfo("Europe/Berlin")


def test_72_hours_are_real_hours_across_a_daylight_saving_change() -> None:
    """Aware Friday 12:00 CEST, clocks go back on Sunday: due Monday 11:00 CET, 72 h later."""
    aware = dt.datetime(2026, 10, 23, 12, 0, tzinfo=BERLIN)
    due = add_duration(aware, "72h")
    assert due is not None
    # (Subtracting two datetimes of one ZoneInfo compares wall clocks, hence UTC here.)
    assert due.astimezone(dt.UTC) - aware.astimezone(dt.UTC) == dt.timedelta(hours=72)
    assert due.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M %Z") == "2026-10-26 11:00 CET"


def test_calendar_days_keep_the_wall_clock_time() -> None:
    start = dt.datetime(2026, 10, 20, 9, 30, tzinfo=BERLIN)
    due = add_duration(start, "30d")
    assert due is not None and due.strftime("%Y-%m-%d %H:%M %Z") == "2026-11-19 09:30 CET"


def test_business_days_skip_weekends() -> None:
    friday = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
    due = add_duration(friday, "14bd")
    assert due is not None and due.date() == dt.date(2026, 12, 10)
    assert add_duration(friday, "asap") is None


def clocks(discovered: dt.datetime, first_send: dt.datetime | None = None) -> dict[str, dt.datetime | None]:
    return {"aware": discovered, "discovered": discovered, "determined": discovered, "first_send": first_send}


def test_thresholds_decide_which_regulators_apply() -> None:
    """CA's Attorney General only above 500 residents; Texas's from 250."""
    start = dt.datetime(2026, 11, 18, 9, 30, tzinfo=dt.UTC)
    few = plan(
        load_rules(),
        clocks=clocks(start),
        counts={("US", "US-CA"): 500, ("US", "US-TX"): 249},
        notified={},
        tz=dt.UTC,
    )
    assert {o.rule.id for o in few} == {"CA-IND", "TX-IND"}
    many = plan(
        load_rules(),
        clocks=clocks(start),
        counts={("US", "US-CA"): 501, ("US", "US-TX"): 250},
        notified={},
        tz=dt.UTC,
    )
    assert {o.rule.id for o in many} == {"CA-IND", "CA-AG", "TX-IND", "TX-AG"}
    assert many[0].rule.id == "CA-IND"  # earliest first; CA-AG waits for the first send
    texas = next(o for o in many if o.rule.id == "TX-AG")
    assert texas.due == start + dt.timedelta(days=30)


def test_an_individual_deadline_is_met_only_when_everyone_was_told_in_time() -> None:
    start = dt.datetime(2026, 11, 18, 9, 30, tzinfo=dt.UTC)
    inside = (start + dt.timedelta(days=2)).timestamp()
    late = (start + dt.timedelta(days=40)).timestamp()
    (ca,) = plan(
        load_rules(),
        clocks=clocks(start),
        counts={("US", "US-CA"): 2},
        notified={("US", "US-CA"): [inside, late]},
        tz=dt.UTC,
    )
    now = start + dt.timedelta(days=41)
    assert (ca.notified, ca.on_time, ca.status(now)) == (2, 1, "late")
    (ca_ok,) = plan(
        load_rules(),
        clocks=clocks(start),
        counts={("US", "US-CA"): 2},
        notified={("US", "US-CA"): [inside, inside]},
        tz=dt.UTC,
    )
    assert ca_ok.status(now) == "met"


def test_notify_deadlines_reads_the_campaign_and_the_ledger(campaign: Campaign, sink: Sink) -> None:
    """After sending, California's notice is met, and New York's regulator clock has started
    with the first notice; the 72-hour GDPR clock from November is overdue and loud."""
    campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    result = campaign.notify("deadlines", "--segment", "affected")
    assert result.code == 1  # something is overdue
    assert "!! OVERDUE?  GDPR-SA" in result.out and "times in Europe/Berlin" in result.out
    data = json.loads(campaign.notify("deadlines", "--segment", "affected", "--json").out)
    by_id = {o["id"]: o for o in data["obligations"]}
    assert by_id["CA-IND"]["status"] == "met" and by_id["CA-IND"]["notified"] == 1
    assert by_id["GDPR-SA"]["due"] == "2026-11-21T09:30:00+01:00"
    assert "NY-IND" not in by_id  # Dan (New York) is not in the affected segment
    everyone = json.loads(campaign.notify("deadlines", "--segment", "all", "--json").out)
    ny = {o["id"]: o for o in everyone["obligations"]}
    assert ny["NY-IND"]["status"] != "met" and ny["NY-AG"]["clock_start"] is not None


def test_a_campaign_without_a_discovery_time_is_told_what_to_add(campaign: Campaign) -> None:
    campaign.edit_config("discovered = 2026-11-18T09:30:00+01:00", "")
    result = campaign.notify("deadlines")
    assert result.code == 2 and "[incident] discovered is missing" in result.err


def test_a_filing_due_with_the_first_notice_is_due_at_the_end_of_that_day() -> None:
    """New York's regulators are told "at the time of" the consumer notice: a minute after the
    first notice went out that is still "to do" (it used to be "OVERDUE?" at once), due by
    midnight, and "OVERDUE?" only the next day."""
    discovered = dt.datetime(2026, 11, 18, 9, 30, tzinfo=BERLIN)
    first = dt.datetime(2026, 11, 25, 14, 0, tzinfo=BERLIN)
    (ny,) = [
        o
        for o in plan(
            load_rules(),
            clocks=clocks(discovered, first),
            counts={("US", "US-NY"): 3},
            notified={},
            tz=BERLIN,
        )
        if o.rule.id == "NY-AG"
    ]
    assert ny.status(first + dt.timedelta(minutes=1)) == "to do"
    assert ny.due == dt.datetime(2026, 11, 25, 23, 59, 59, tzinfo=BERLIN)
    assert ny.status(first + dt.timedelta(days=1)) == "OVERDUE?"


def test_by_default_deadlines_count_the_people_the_notice_was_sent_to(campaign: Campaign, sink: Sink) -> None:
    """Without --segment, `notify deadlines` counts the recipients of the notice actually sent:
    Dan (nothing exposed, never sent) is not a New York resident to tell, and California is met
    once everyone affected there was told."""
    before = json.loads(campaign.notify("deadlines", "--json").out)
    assert before["people"] == 3 and "affected" in before["counted"]  # nothing sent: [segments] affected
    campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    data = json.loads(campaign.notify("deadlines", "--json").out)
    by_id = {o["id"]: o for o in data["obligations"]}
    assert data["people"] == 3 and "NY-IND" not in by_id
    assert by_id["CA-IND"]["status"] == "met" and by_id["CA-IND"]["people"] == 1


def test_a_regulator_filing_marked_done_is_shown_audited_and_in_the_evidence_pack(
    campaign: Campaign, sink: Sink, tmp_path: Path
) -> None:
    """`notify deadlines done NY-AG --at ... --ref ...` records the filing in the ledger with an
    audit entry; `notify deadlines` then says "filed" with the time and reference instead of a
    loud "OVERDUE?", and the evidence pack carries it."""
    campaign.notify("send", "--segment", "all", "--transport", sink.url, "--yes")
    done = campaign.notify("deadlines", "done", "NY-AG", "--at", "2026-12-01T10:00+01:00", "--ref", "AG-1234")
    assert done.code == 0 and "Marked NY-AG" in done.out
    data = json.loads(campaign.notify("deadlines", "--segment", "all", "--json").out)
    ny = {o["id"]: o for o in data["obligations"]}["NY-AG"]
    assert ny["status"] in ("filed", "filed late") and ny["filed"]["ref"] == "AG-1234"
    assert ny["filed"]["at"] == "2026-12-01T09:00:00+00:00"
    text = campaign.notify("deadlines", "--segment", "all").out
    assert "filed Tue 01 Dec 2026 10:00 CET, ref AG-1234" in text
    db = sqlite3.connect(campaign.root / "ledger.sqlite")
    try:
        actions = [r[0] for r in db.execute("SELECT details FROM audit WHERE action='deadline.done'")]
    finally:
        db.close()
    assert len(actions) == 1 and "AG-1234" in actions[0]
    assert campaign.notify("audit", "export", "--output", str(tmp_path / "pack")).code == 0
    summary = (tmp_path / "pack" / "summary.txt").read_text()
    assert "ref AG-1234" in summary


def test_marking_an_unknown_or_individual_deadline_done_is_refused(campaign: Campaign) -> None:
    """A misspelt rule suggests the right one; a deadline about individuals is met by sending."""
    typo = campaign.notify("deadlines", "done", "NY-AF")
    assert typo.code == 2 and "NY-AG" in typo.err
    people = campaign.notify("deadlines", "done", "CA-IND")
    assert people.code == 2 and "not by a mark" in people.err
    bad = campaign.notify("deadlines", "done", "NY-AG", "--at", "next tuesday")
    assert bad.code == 2 and "2026-12-01T10:00+01:00" in bad.err
