"""Each person's lawful channel: counted by `notify channels`, obeyed by `notify send` against a
real SMTP server, recorded in the ledger, shown by status and report, overridable only with
--force (audited), and never to a compromised mailbox we provide."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

from .conftest import Campaign
from .smtpsink import Sink

HEADER = (
    "id,email,first_name,last_name,country,region,exposed,consent,consent_scope,primary_channel,"
    "mailbox_provided_by_us,prior_business_relationship,postal_line1,postal_city,postal_region,"
    "postal_postcode,postal_country"
)
# Hand count: email P1 P2 P4 P7 P9 (5); postal P3 P6 P8 (3); none possible P5 P10 (2).
MIXED = "\n".join(
    [
        HEADER,
        # Spain: no written-notice statute: email to the address held.
        "P1,ana@example.com,Ana,Lopez,ES,,email;name,,,,,,,,,,",
        # California with E-SIGN consent: email.
        "P2,ben@example.org,Ben,Okafor,US,US-CA,email;name,2024-03-01,esign,,,,,,,,",
        # California without consent, with an address: a letter.
        "P3,cara@example.org,Cara,Reyes,US,US-CA,email;name,,,,,,1 Main St,Los Angeles,CA,90001,US",
        # New York with express consent: email, and every notice logged.
        "P4,dan@example.com,Dan,Kim,US,US-NY,email,2025-01-02,express,,,,,,,,",
        # New York with E-SIGN consent only (not express) and no address: no lawful channel.
        "P5,eve@example.com,Eve,Stone,US,US-NY,email,2025-01-02,esign,,,,,,,,",
        # Texas (E-SIGN only): 'primary channel email' does not count there; a letter.
        "P6,finn@example.net,Finn,Lee,US,US-TX,email,,,email,,,5 Elm St,Austin,TX,73301,US",
        # Colorado: email is the primary channel: email.
        "P7,gus@example.net,Gus,Park,US,US-CO,email,,,email,,,,,,,",
        # California, a mailbox we provide whose login leaked: never emailed; a letter.
        "P8,hana@mail.example.com,Hana,Sato,US,US-CA,mailbox_credentials;email,2024-03-01,esign,,yes,,"
        "9 Oak Ave,San Diego,CA,92101,US",
        # Pennsylvania: prior business relationship and an address: email.
        "P9,ivan@example.org,Ivan,Petrov,US,US-PA,email,,,,,yes,,,,,",
        # Germany, our mailbox, password leaked (strict policy), no address: no lawful channel.
        "P10,jo@mail.example.com,Jo,Ng,DE,,password_hash;email,,,,yes,,,,,,",
    ]
)
EMAIL = {"ana@example.com", "ben@example.org", "dan@example.com", "gus@example.net", "ivan@example.org"}
NEVER = {"hana@mail.example.com", "jo@mail.example.com"}


def mixed(campaign: Campaign) -> Campaign:
    campaign.edit_config("[channels]\napply = false\n", "")
    campaign.write_list(MIXED + "\n")
    return campaign


def test_channels_counts_equal_the_hand_count(campaign: Campaign) -> None:
    """`notify channels --json` counts email, letters and no-channel people as counted by hand,
    per jurisdiction."""
    c = mixed(campaign)
    result = c.notify("channels", "--segment", "affected", "--json")
    assert result.code == 1, result.err  # two people have no lawful channel: needs attention
    data = json.loads(result.out)
    assert data["by_channel"] == {"email": 5, "postal": 3, "none-possible": 2}
    assert data["by_jurisdiction"]["US-CA"] == {"email": 1, "postal": 2, "none-possible": 0}
    assert data["by_jurisdiction"]["US-NY"] == {"email": 1, "postal": 0, "none-possible": 1}
    assert data["by_jurisdiction"]["DE"] == {"email": 0, "postal": 0, "none-possible": 1}
    rules = {r["rule"] for r in data["reasons"]}
    assert {"CH-US-NY", "MBX-US-CA", "MBX-STRICT", "CH-US-PA", "CH-DEFAULT"} <= rules
    assert data["log_required"] == 2  # both New Yorkers


def test_channels_text_names_each_reason_without_personal_data(campaign: Campaign) -> None:
    """The table says why, per rule, and names nobody."""
    c = mixed(campaign)
    out = c.notify("channels", "--segment", "affected").out
    assert "express_consent" in out and "mailbox we provide" in out
    for value in ("ana@example.com", "Okafor", "1 Main St", "Los Angeles"):
        assert value not in out


def test_send_emails_only_people_whose_channel_is_email(campaign: Campaign, sink: Sink) -> None:
    """The SMTP server receives the notice for exactly the email-channel people."""
    c = mixed(campaign)
    result = c.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    assert result.code == 0, result.err
    assert set(sink.by_recipient()) == EMAIL
    assert "5 by email, 3 by letter, 2 with no lawful channel" in result.out


def test_each_decision_is_recorded_with_its_rule(campaign: Campaign, sink: Sink) -> None:
    """The ledger holds one decision per (notice, recipient) with the rule that decided it."""
    c = mixed(campaign)
    c.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    db = sqlite3.connect(c.root / "ledger.sqlite")
    rows = db.execute(
        "SELECT r.email, d.channel, d.rule FROM channel_decisions d "
        "JOIN recipients r ON r.id = d.recipient_id"
    ).fetchall()
    db.close()
    decided = {e: (ch, rule) for e, ch, rule in rows}
    assert len(decided) == 10
    assert decided["hana@mail.example.com"] == ("postal", "MBX-US-CA")
    assert decided["eve@example.com"] == ("none-possible", "CH-US-NY")
    assert decided["ivan@example.org"] == ("email", "CH-US-PA")


def test_status_and_report_show_the_channel(campaign: Campaign, sink: Sink) -> None:
    """`status` counts channels; `report` has a channel column and lists the people not emailed."""
    c = mixed(campaign)
    c.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    status = json.loads(c.notify("status", "--json").out)
    assert status["notices"][0]["channels"] == {"email": 5, "postal": 3, "none-possible": 2}
    assert "5 by email, 3 by letter, 2 with no lawful channel" in c.notify("status").out
    rows = list(csv.DictReader(io.StringIO(c.notify("report").out)))
    by_email = {r["email"]: r for r in rows}
    assert by_email["cara@example.org"]["state"] == "not-emailed"
    assert by_email["cara@example.org"]["channel"] == "postal"
    assert by_email["ana@example.com"]["channel"] == "email"
    assert by_email["jo@mail.example.com"]["channel_rule"] == "MBX-STRICT"


def test_force_emails_the_others_too_and_is_audited(campaign: Campaign, sink: Sink) -> None:
    """--force sends to people whose channel is not email as well, and the audit log says so."""
    c = mixed(campaign)
    result = c.notify("send", "--segment", "affected", "--transport", sink.url, "--yes", "--force")
    assert result.code == 0, result.err
    assert set(sink.by_recipient()) == EMAIL | {"cara@example.org", "eve@example.com", "finn@example.net"}
    db = sqlite3.connect(c.root / "ledger.sqlite")
    entries = db.execute("SELECT details FROM audit WHERE action = 'send.force_channel'").fetchall()
    db.close()
    assert len(entries) == 1
    details = json.loads(entries[0][0])
    assert details["forced"] == {"none-possible": 1, "postal": 2}
    assert "cara@example.org" not in entries[0][0]  # counts only
    assert "--force:" in result.out


def test_compromised_mailbox_is_never_emailed_even_with_force(campaign: Campaign, sink: Sink) -> None:
    """A mailbox we provide whose login leaked receives nothing, with --force or with the rules off."""
    c = mixed(campaign)
    c.notify("send", "--segment", "affected", "--transport", sink.url, "--yes", "--force")
    assert not NEVER & set(sink.by_recipient())
    c.config.write_text(
        c.config.read_text(encoding="utf-8") + "\n[channels]\napply = false\n", encoding="utf-8"
    )
    c.notify("send", "--segment", "affected", "--transport", sink.url, "--yes", "--resend")
    assert not NEVER & set(sink.by_recipient())


def test_rules_off_emails_everyone_else_and_says_so(campaign: Campaign, sink: Sink) -> None:
    """With [channels] apply = false the run warns that some of those emails are not lawful notice."""
    c = mixed(campaign)
    c.config.write_text(
        c.config.read_text(encoding="utf-8") + "\n[channels]\napply = false\n", encoding="utf-8"
    )
    result = c.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    assert result.code == 0, result.err
    assert len(sink.by_recipient()) == 8
    assert "not their legal notice" in result.out


def test_evidence_pack_shows_each_channel_and_rule_without_addresses(campaign: Campaign, sink: Sink) -> None:
    """`notify audit export`: per notice the channel counts and rules, per list id the channel."""
    c = mixed(campaign)
    c.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    result = c.notify("audit", "export", "--output", str(c.root / "pack"))
    assert result.code == 0, result.err
    data = json.loads((c.root / "pack" / "evidence.json").read_text(encoding="utf-8"))
    channels = data["notices"]["breach-notice"]["channels"]
    assert channels["by_channel"] == {"email": 5, "none-possible": 2, "postal": 3}
    by_id = {r["list_id"]: r for r in data["recipients"]}
    assert by_id["P3"]["channel"] == "postal" and by_id["P3"]["state"] == "not-emailed"
    assert by_id["P8"]["channel_rule"] == "MBX-US-CA"
    assert data["notice_log_entries"] == 1
    summary = (c.root / "pack" / "summary.txt").read_text(encoding="utf-8")
    assert "5 by email, 3 by letter, 2 with no lawful channel" in summary
    assert "cara@example.org" not in summary and "cara@example.org" not in json.dumps(data)
