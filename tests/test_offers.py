"""Monitoring offers (issue 17): [offers.NAME] checked, code pools imported from the vendor's
file, one code per (offer, recipient) issued before the first message and carried by every
resend, a pool too small stopping the run, minors' pools, lint of the offer, take-up."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

from notifier.ledger import open_ledger
from notifier.pipeline.campaign import recipient_context
from notifier.settings import load

from .conftest import Campaign
from .smtpsink import Sink

OFFERS = """
[offers.id-12m]
vendor = "Experian"
product = "IdentityWorks"
months = 12
enrol_days = 90
url = "https://www.experianidworks.com/credit"
phone = "877-555-0100"
engagement = "B121304"

[offers.id-24m]
vendor = "Experian"
product = "IdentityWorks 3B"
months = 24
enrol_by = 2027-03-31
url = "https://www.experianidworks.com/3bplus"
engagement = "B121305"
"""

HEADER = "id,email,first_name,last_name,country,region,exposed,minor,consent,consent_scope"
# Hand count: CT and MA with SSN need 18+ months (id-24m): O1, O2; CA with SSN (we were the
# source): id-12m, O3 (adult) and O5 (minor: the minors' pool); O4 (NY, email only) and O6
# (Spain) qualify for nothing.
PEOPLE = "\n".join(
    [
        HEADER,
        "O1,ana@example.com,Ana,Lopez,US,US-CT,email;ssn,,2025-01-01,esign;express",
        "O2,ben@example.org,Ben,Okafor,US,US-MA,email;ssn,,2025-01-01,esign;express",
        "O3,cat@example.net,Cat,Dubois,US,US-CA,email;ssn,,2025-01-01,esign;express",
        "O4,dan@example.com,Dan,Kim,US,US-NY,email,,2025-01-01,esign;express",
        "O5,eve@example.com,Eve,Stone,US,US-CA,email;ssn,yes,2025-01-01,esign;express",
        "O6,finn@example.net,Finn,Lee,ES,,email;name,,,",
    ]
)
QUALIFY = {
    "ana@example.com": "id-24m",
    "ben@example.org": "id-24m",
    "cat@example.net": "id-12m",
    "eve@example.com": "id-12m",
}


def codes_file(campaign: Campaign, name: str, codes: list[str]) -> Path:
    path = campaign.root / name
    path.write_text("activation_code,batch\n" + "".join(f"{c},7\n" for c in codes), encoding="utf-8")
    return path


def offered(campaign: Campaign, *, adults12: int = 3, adults24: int = 3, minors: int = 2) -> None:
    campaign.config.write_text(campaign.config.read_text(encoding="utf-8") + OFFERS, encoding="utf-8")
    campaign.write_list(PEOPLE + "\n")
    pools = (
        ("id-12m", "default", "A12", adults12),
        ("id-24m", "default", "A24", adults24),
        ("id-12m", "minors", "M12", minors),
    )
    for offer, pool, prefix, n in pools:
        if n:
            path = codes_file(campaign, f"{offer}-{pool}.csv", [f"{prefix}X{i:05d}" for i in range(n)])
            result = campaign.notify("offers", "import", str(path), "--offer", offer, "--pool", pool)
            assert result.code == 0, result.out + result.err


def text_of(data: bytes) -> str:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def codes_received(sink: Sink) -> dict[str, list[str]]:
    """Each recipient's activation codes, one entry per message they received."""
    out: dict[str, list[str]] = {}
    for r in sink.received:
        found = re.findall(r"activation code ([A-Za-z0-9-]+)", text_of(r.data))
        out.setdefault(r.rcpt_to, []).append(found[0] if found else "")
    return out


def test_an_offer_with_an_impossible_value_is_refused_naming_the_key_and_line(campaign: Campaign) -> None:
    """months = 0 is a configuration error naming the offer, the key and its line (exit 2)."""
    campaign.config.write_text(
        campaign.config.read_text(encoding="utf-8") + OFFERS.replace("months = 12", "months = 0"),
        encoding="utf-8",
    )
    line = campaign.config.read_text(encoding="utf-8").splitlines().index("months = 0") + 1
    result = campaign.notify("offers")
    assert result.code == 2
    assert (
        f"notify.toml:{line}: [offers.id-12m] months should be a whole number of months from 1 to 120"
        in result.err
    )


def test_an_offer_without_an_enrol_by_date_or_days_is_refused(campaign: Campaign) -> None:
    """The notice must say until when a code works: one of enrol_by and enrol_days is required."""
    campaign.config.write_text(
        campaign.config.read_text(encoding="utf-8") + OFFERS.replace("enrol_days = 90\n", ""),
        encoding="utf-8",
    )
    result = campaign.notify("offers")
    assert result.code == 2
    assert "[offers.id-12m] needs exactly one of enrol_by (a date) and enrol_days" in result.err


def test_import_names_bad_and_duplicate_rows_by_file_line_and_never_shows_a_code(campaign: Campaign) -> None:
    """Rows without a usable code and codes already imported are reported as file:line (exit 1);
    the codes themselves appear nowhere in the output."""
    campaign.config.write_text(campaign.config.read_text(encoding="utf-8") + OFFERS, encoding="utf-8")
    path = campaign.root / "codes.csv"
    path.write_text("code\nGOODCODE1\nGOODCODE2\nbad code!\n\nGOODCODE1\nAB\n", encoding="utf-8")
    result = campaign.notify("offers", "import", str(path), "--offer", "id-12m")
    assert result.code == 1
    assert "2 code(s) added to id-12m (default pool)" in result.out
    assert "codes.csv:4: the code has characters other than letters, digits and '-'" in result.out
    assert "codes.csv:7: a code of 2 characters (expected 4 to 64)" in result.out
    assert "1 code(s) already imported (earlier in the file or before), not added: codes.csv:6" in result.out
    assert "GOODCODE" not in result.out + result.err and "bad code" not in result.out + result.err


def test_each_qualifying_person_gets_one_code_and_the_same_code_again_on_resend(
    campaign: Campaign, sink: Sink
) -> None:
    """Everyone the rules cover gets their own code from the right offer; a resend carries the
    same code; nobody else gets an offer; no code goes to two people."""
    offered(campaign)
    sent = campaign.notify("send", "--segment", "all", "--transport", sink.url, "--yes")
    assert sent.code == 0, sent.out + sent.err
    again = campaign.notify("send", "--segment", "all", "--transport", sink.url, "--yes", "--resend")
    assert again.code == 0, again.out + again.err
    codes = codes_received(sink)
    assert {a for a, c in codes.items() if any(c)} == set(QUALIFY)
    for address, offer in QUALIFY.items():
        first, second = codes[address]
        assert first == second != ""
        assert first.startswith(
            {"id-12m": "M12" if address == "eve@example.com" else "A12", "id-24m": "A24"}[offer]
        )
    issued = [c[0] for a, c in codes.items() if a in QUALIFY]
    assert len(set(issued)) == len(issued)


def test_the_context_letters_use_carries_the_code_the_email_carried(campaign: Campaign, sink: Sink) -> None:
    """recipient_context (what letters and follow-ups render with) gives the issued code, not a new one."""
    offered(campaign)
    assert campaign.notify("send", "--segment", "all", "--transport", sink.url, "--yes").code == 0
    emailed = codes_received(sink)["ana@example.com"][0]
    settings = load(campaign.config)
    ledger = open_ledger(settings)
    try:
        view = {"email": "ana@example.com", "country": "US", "region": "US-CT", "exposed": ["email", "ssn"]}
        context = recipient_context(settings, view, "ana@example.com", ledger)
    finally:
        ledger.close()
    assert context["offer"]["code"] == emailed and context["offer"]["months"] == 24


def test_a_pool_too_small_stops_the_run_before_the_first_message(campaign: Campaign, sink: Sink) -> None:
    """Two people need a 24-month code and only one was imported: nothing reaches the server,
    and the error says which pool is how many short."""
    offered(campaign, adults24=1)
    result = campaign.notify("send", "--segment", "all", "--transport", sink.url, "--yes")
    assert result.code == 1
    assert sink.received == []
    assert "not enough credit-monitoring codes" in result.err
    assert "id-24m (default pool): 2 people need a code, 1 free — 1 short" in result.err


def test_minors_need_codes_from_the_minors_pool(campaign: Campaign, sink: Sink) -> None:
    """A person marked minor in the list needs a code of the minors' pool; with none imported the
    run stops and says to import them with --pool minors."""
    offered(campaign, minors=0)
    result = campaign.notify("send", "--segment", "all", "--transport", sink.url, "--yes")
    assert result.code == 1 and sink.received == []
    assert "id-12m (minors pool): 1 people need a code, 0 free — 1 short" in result.err
    assert "--pool minors" in result.err


def test_offers_shows_pools_issued_left_and_take_up_from_the_vendor_report(
    campaign: Campaign, sink: Sink
) -> None:
    """After sending, `notify offers` counts what was issued and left; the vendor's enrolment
    report sets the take-up; unknown codes in it are counted, not shown."""
    offered(campaign)
    assert campaign.notify("send", "--segment", "all", "--transport", sink.url, "--yes").code == 0
    ana = codes_received(sink)["ana@example.com"][0]
    report = campaign.root / "enrolments.csv"
    report.write_text(
        f"code,enrolled_at\n{ana},2026-12-01T10:00:00+00:00\nNOTOURS99,2026-12-01\n", encoding="utf-8"
    )
    result = campaign.notify("offers", "report", str(report), "--offer", "id-24m")
    assert result.code == 1  # a code that is not ours needs a look
    assert "take-up of id-24m: 1 of 2 issued (50%)" in result.out
    assert "1 code(s) in the report are not in this offer's pools" in result.out
    assert ana not in result.out and "NOTOURS99" not in result.out
    shown = campaign.notify("offers").out
    assert "default  3 imported, 2 issued, 1 left, 1 enrolled (50% of issued)" in shown


def test_codes_are_in_no_log_no_report_and_no_audit_entry(campaign: Campaign, sink: Sink) -> None:
    """A code reaches only its recipient's message: not the command output, `notify report`'s CSV
    or the audit log."""
    offered(campaign)
    sent = campaign.notify("send", "--segment", "all", "--transport", sink.url, "--yes")
    codes = [c[0] for c in codes_received(sink).values() if c[0]]
    assert len(codes) == 4
    csv_out = campaign.notify("report", "--format", "csv").out
    settings = load(campaign.config)
    ledger = open_ledger(settings)
    try:
        audit = "".join(repr(e) for e in ledger.audit_entries())
    finally:
        ledger.close()
    for code in codes:
        assert code not in sent.out + sent.err and code not in csv_out and code not in audit


def test_lint_errors_when_a_required_offer_is_missing_or_too_short(campaign: Campaign) -> None:
    """With only a 12-month offer, Connecticut (24) and Massachusetts (18) are errors; with no
    offer at all, California's CA-08 is one too."""
    campaign.write_list(PEOPLE + "\n")
    none = campaign.notify("lint", "--json")
    assert none.code == 1
    assert "CA-08" in none.out and "no offer is configured" in none.out
    campaign.config.write_text(
        campaign.config.read_text(encoding="utf-8") + OFFERS.split("[offers.id-24m]")[0], encoding="utf-8"
    )
    short = campaign.notify("lint")
    assert short.code == 1
    assert "the offer 'id-12m' runs 12 months, less than the 24 required" in short.out
    assert "the offer 'id-12m' runs 12 months, less than the 18 required" in short.out
    assert "CA-08" not in short.out


def test_lint_is_met_when_the_offers_are_long_enough_and_shown(campaign: Campaign) -> None:
    """The built-in notice shows the offer block, so with both offers no offer rule is broken."""
    campaign.write_list(PEOPLE + "\n")
    campaign.config.write_text(campaign.config.read_text(encoding="utf-8") + OFFERS, encoding="utf-8")
    result = campaign.notify("lint", "--json")
    for rule in ("CT-OFFER", "MA-04", "CA-08", "DC-01", "DE-OFFER"):
        assert f'"id": "{rule}"' not in result.out


def test_lint_warns_on_waiver_or_arbitration_words_for_massachusetts(campaign: Campaign) -> None:
    """MA 93H §3A: a notice to Massachusetts that speaks of arbitration or a waiver draws a warning."""
    campaign.write_list(PEOPLE + "\n")
    campaign.config.write_text(campaign.config.read_text(encoding="utf-8") + OFFERS, encoding="utf-8")
    body = campaign.root / "templates" / "breach-notice" / "variants" / "US-MA" / "body.txt"
    body.write_text(
        body.read_text(encoding="utf-8") + "\nEnrolling means you agree to binding arbitration.\n",
        encoding="utf-8",
    )
    result = campaign.notify("lint")
    assert "WARN  MA-04-WAIVER" in result.out
    assert "arbitration" in result.out
