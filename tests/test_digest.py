"""The incident-team digest (issue 17): counts of where the campaign stands, as text and HTML,
sent through its own transport, never the campaign's, and schedulable."""

from __future__ import annotations

import csv
import email
import email.policy
import io
import re
import time
from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from notifier.digest.render import render_digest
from notifier.digest.status import collect
from notifier.followups import schedule
from notifier.settings import load

from .conftest import Campaign
from .smtpsink import Fault, Sink

LIST = """id,email,first_name,last_name,locale,country,region,exposed,postal_address
D1,zoe.quist@example.com,Zoë,Quist,es-US,US,US-CA,email;password_hash,"12 Elm Road, Springfield"
D2,ybarra.x@example.org,Xavier,Ybarra,,US,US-TX,email;name,"4 Oak Lane, Dallas"
D3,wanda.v@example.net,Wanda,Vukovic,de-DE,DE,,email;name,"Hauptstr. 9, Berlin"
D4,bounce.me@example.com,Umberto,Tesseract,,US,US-CA,email,"77 Pine St, Fresno"
D5,not-an-address,Rosalind,Quayle,,US,US-NY,email,"1 Main St, Albany"
"""


@pytest.fixture
def team_sink() -> Iterator[Sink]:
    """A second SMTP server: the incident team's mail system, apart from the campaign's."""
    s = Sink().start()
    try:
        yield s
    finally:
        s.stop()


def _with_digest(campaign: Campaign, team: Sink, *, extra: str = "") -> None:
    campaign.config.write_text(
        campaign.config.read_text(encoding="utf-8")
        + f'\n[digest]\nto = ["ciso@team.example", "counsel@team.example"]\ntransport = "{team.url}"\n'
        + 'codename = "BLUE HERON"\n'
        + '\n[digest.lists]\nincident-team = ["lead@team.example"]\n'
        + extra,
        encoding="utf-8",
    )


def _send(campaign: Campaign, sink: Sink) -> None:
    sink.fault("bounce.me@example.com", Fault("rcpt", "550 5.1.1 no such user"))
    result = campaign.notify("send", "--segment", "all", "--transport", sink.url, "--yes")
    assert result.code in (0, 1), result.err


def test_the_digest_goes_through_its_own_smtp_server_not_the_campaigns(
    campaign: Campaign, sink: Sink, team_sink: Sink
) -> None:
    """`notify digest --send` delivers to [digest] to through [digest] transport (a second SMTP
    server); the campaign's server, which may be the breached one, sees none of it."""
    campaign.write_list(LIST)
    _with_digest(campaign, team_sink)
    _send(campaign, sink)
    campaign_mail = len(sink.received)
    result = campaign.notify("digest", "--send")
    assert result.code == 0, result.err
    assert sorted(r.rcpt_to for r in team_sink.received) == ["ciso@team.example", "counsel@team.example"]
    assert len(sink.received) == campaign_mail
    msg = email.message_from_bytes(team_sink.received[0].data, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    assert msg["Subject"].startswith("Incident digest: BLUE HERON")
    text = msg.get_body(("plain",))
    assert text is not None and "3 sent (accepted by a server)" in str(text.get_content())


def test_digest_to_a_named_list_reaches_only_that_list(campaign: Campaign, team_sink: Sink) -> None:
    """`--to incident-team` sends to the addresses of [digest.lists] incident-team only; an unknown
    name is refused with the known ones."""
    campaign.write_list(LIST)
    _with_digest(campaign, team_sink)
    assert campaign.notify("digest", "--to", "incident-team").code == 0
    assert [r.rcpt_to for r in team_sink.received] == ["lead@team.example"]
    wrong = campaign.notify("digest", "--to", "incident-teem")
    assert wrong.code == 2 and "incident-team" in wrong.err


def test_the_digest_counts_what_the_team_needs(campaign: Campaign, sink: Sink, team_sink: Sink) -> None:
    """Sent, unreached by jurisdiction, overdue deadlines and scheduled follow-ups appear as
    counts, in text and HTML."""
    campaign.write_list(LIST)
    _with_digest(campaign, team_sink)
    campaign.fill_follow_up_facts()
    _send(campaign, sink)
    assert campaign.notify("schedule", "--notice", "what-we-changed", "--after", "7d").code == 0
    text = campaign.notify("digest").out
    assert "breach-notice: 5 planned, 3 sent (accepted by a server)" in text
    assert "Unreached by email (need another channel): 2 — US-CA 1, US-NY 1" in text
    assert "what-we-changed: waiting" in text
    # The GDPR authority's 72 hours ran out before anyone marked the filing done.
    assert "!! OVERDUE? GDPR-SA" in text
    assert re.search(r"Regulator, attorney-general and credit-bureau filings: .*\d+ OVERDUE\?", text)
    html = campaign.notify("digest", "--format", "html").out
    assert "<h2" in html and "Unreached by email" in html


def test_the_digest_holds_no_list_value(campaign: Campaign, sink: Sink, team_sink: Sink) -> None:
    """Searched for every value of every row of the list (names, addresses, ids, postal
    addresses), the text and HTML digests hold none: counts only. Jurisdiction codes are shown on
    purpose, as counts by place."""
    campaign.write_list(LIST)
    _with_digest(campaign, team_sink)
    _send(campaign, sink)
    assert campaign.notify("digest", "--send").code == 0
    rendered = [
        campaign.notify("digest").out,
        campaign.notify("digest", "--format", "html").out,
        *(r.data.decode("utf-8", "replace") for r in team_sink.received),
    ]
    for row in csv.DictReader(io.StringIO(LIST)):
        for column, value in row.items():
            if column in ("country", "region", "exposed", "locale") or not value:
                continue
            for digest in rendered:
                assert not re.search(rf"\b{re.escape(value)}\b", digest), (column, value)


def test_the_html_digest_escapes_what_it_shows(campaign: Campaign, team_sink: Sink) -> None:
    """A campaign name with markup in it is shown as text in the HTML digest."""
    campaign.write_list(LIST)
    campaign.edit_config('name = "test"', 'name = "<script>alert(1)</script>"')
    settings = load(campaign.config)
    html = render_digest(collect(settings), "html")
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_the_digest_refuses_the_campaigns_own_transport(campaign: Campaign, sink: Sink) -> None:
    """A [digest] transport equal to the campaign's is refused: that system may be the breached one."""
    campaign.write_list(LIST)
    campaign.edit_config('url = "outbox:outbox"', f'url = "{sink.url}"')
    campaign.config.write_text(
        campaign.config.read_text(encoding="utf-8")
        + f'\n[digest]\nto = ["ciso@team.example"]\ntransport = "{sink.url}"\n',
        encoding="utf-8",
    )
    result = campaign.notify("digest", "--send")
    assert result.code == 2 and "campaign's own transport" in result.err
    assert sink.received == []


def test_the_digest_password_comes_from_its_own_variable(
    campaign: Campaign, team_sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A digest server that needs a login takes NOTIFY_DIGEST_SMTP_PASSWORD; the campaign's
    NOTIFY_SMTP_PASSWORD is never offered to it."""
    campaign.write_list(LIST)
    monkeypatch.setenv("NOTIFY_SMTP_PASSWORD", "campaign-secret")
    monkeypatch.delenv("NOTIFY_DIGEST_SMTP_PASSWORD", raising=False)
    host = team_sink.url.removeprefix("smtp://")
    campaign.config.write_text(
        campaign.config.read_text(encoding="utf-8")
        + f'\n[digest]\nto = ["ciso@team.example"]\ntransport = "smtp://alerts@{host}"\n',
        encoding="utf-8",
    )
    result = campaign.notify("digest", "--send")
    assert result.code == 2 and "NOTIFY_DIGEST_SMTP_PASSWORD" in result.err
    assert team_sink.received == []


def test_a_daily_digest_is_sent_by_run_due_and_waits_for_the_next_day(
    campaign: Campaign, team_sink: Sink
) -> None:
    """`notify schedule --digest daily --at 08:00` is sent by run-due once its time has come,
    then waits for the next day; it shows in `notify schedule list`."""
    campaign.write_list(LIST)
    _with_digest(campaign, team_sink)
    made = campaign.notify("schedule", "--digest", "daily", "--at", "08:00")
    assert made.code == 0, made.err
    assert "incident digest daily at 08:00" in campaign.notify("schedule", "list").out
    assert re.search(r"; next digest \w{3} \d\d \w{3} \d{4} 08:00", campaign.notify("digest").out)
    settings = load(campaign.config)
    later = time.time() + 86400 + 60
    out = io.StringIO()
    assert schedule.run_due(settings, out, now=lambda: later) == 0
    assert len(team_sink.received) == 2, out.getvalue()
    again = io.StringIO()
    schedule.run_due(settings, again, now=lambda: later + 60)
    assert len(team_sink.received) == 2 and "waiting" in again.getvalue()
