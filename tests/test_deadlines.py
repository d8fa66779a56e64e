"""The deadline planner: right clocks, right thresholds, real hours across DST, met from the ledger."""

from __future__ import annotations

import datetime as dt
import json
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
    everyone = json.loads(campaign.notify("deadlines", "--json").out)
    ny = {o["id"]: o for o in everyone["obligations"]}
    assert ny["NY-IND"]["status"] != "met" and ny["NY-AG"]["clock_start"] is not None


def test_a_campaign_without_a_discovery_time_is_told_what_to_add(campaign: Campaign) -> None:
    campaign.edit_config("discovered = 2026-11-18T09:30:00+01:00", "")
    result = campaign.notify("deadlines")
    assert result.code == 2 and "[incident] discovered is missing" in result.err
