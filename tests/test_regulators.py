"""Regulator filing packs (issue 17): who must be told, with the residents counted from the
lists, the due time from the deadline planner and the filing status; drafts that answer each
regulator's fields and a sample notice that holds nobody's data."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

from notifier.ledger import open_ledger
from notifier.settings import load

from .conftest import Campaign, needs_print_tools

HEADER = (
    "id,email,first_name,last_name,country,region,exposed,consent,consent_scope,account_ref,"
    "postal_line1,postal_city,postal_region,postal_postcode,postal_country"
)
# Columns that say where someone lives and what was exposed: the sample notice is rendered
# for the regulator's own place and categories on purpose, so these are not searched for.
PLACE_COLUMNS = {
    "country",
    "region",
    "exposed",
    "consent",
    "consent_scope",
    "postal_region",
    "postal_country",
}
EU = ["DE", "DE", "FR", "IE", "ES"]


def people() -> list[str]:
    """Hand count: CA 501 (AG over 500), TX 250 of whom 20 get letters (AG at 250), NY 3 and MA 2
    (AG for any), FL 10 (under 500: no FL AG), GB 4 (ICO), EU 5 (the lead authority)."""
    rows = []
    n = 0

    def add(country: str, region: str, count: int, *, letter: bool = False) -> None:
        nonlocal n
        for _ in range(count):
            n += 1
            consent = ",," if letter else ",2025-01-01,esign;express"
            postal = f"{n} Quillwort Lane,Zanesborough{n},{region[3:]},7{n:04d},US" if letter else ",,,,"
            rows.append(
                f"Z{n:05d},zq{n}.person@example.com,Yselde{n}q,Vantorre{n}k,{country},{region},"
                f"email;ssn{consent},ACCT-{n:07d}X,{postal}"
            )

    add("US", "US-CA", 501)
    add("US", "US-TX", 230)
    add("US", "US-TX", 20, letter=True)
    add("US", "US-NY", 3)
    add("US", "US-MA", 2)
    add("US", "US-FL", 10)
    add("GB", "", 4)
    for country in EU:
        add(country, "", 1)
    return rows


def regulated(campaign: Campaign) -> Path:
    return campaign.write_list("\n".join([HEADER, *people()]) + "\n")


def listed(campaign: Campaign) -> dict[str, dict[str, object]]:
    result = campaign.notify("regulators", "--json")
    assert result.code in (0, 1), result.out + result.err  # 1: the incident's 72 hours are past
    return {r["id"]: r for r in json.loads(result.out)["regulators"]}


def test_each_regulator_is_listed_with_a_resident_count_equal_to_a_hand_count(campaign: Campaign) -> None:
    """CA 501, TX 250, NY 3, MA 2, UK 4, EU 5 residents: exactly those regulators, with those
    counts; Florida's 10 are under its threshold of 500."""
    regulated(campaign)
    found = listed(campaign)
    counts = {rid: r["residents"] for rid, r in found.items()}
    assert counts == {"CA-AG": 501, "TX-AG": 250, "NY-AG": 3, "MA-AG": 2, "UK-ICO": 4, "GDPR-SA": 5}


def test_a_regulator_shows_its_due_time_and_then_filed_once_marked_done(campaign: Campaign) -> None:
    """TX-AG is due 30 days after determination; `notify deadlines done TX-AG` makes it filed."""
    regulated(campaign)
    before = listed(campaign)["TX-AG"]
    assert before["status"] in ("to do", "OVERDUE?")
    assert str(before["due"]).startswith("2026-12-18T09:30:00+01:00")
    done = campaign.notify("deadlines", "done", "TX-AG", "--at", "2026-12-01T10:00+01:00", "--ref", "TX-77")
    assert done.code == 0, done.err
    after = listed(campaign)["TX-AG"]
    assert after["status"] == "filed"
    assert after["filed"]["ref"] == "TX-77"  # type: ignore[index]


def test_hhs_is_listed_only_for_a_hipaa_breach(campaign: Campaign) -> None:
    """HHS OCR is told of 500 or more US individuals only when [incident] hipaa = true."""
    regulated(campaign)
    assert "HHS-OCR" not in listed(campaign)
    campaign.edit_config("law_enforcement_delay = false", "law_enforcement_delay = false\nhipaa = true")
    assert listed(campaign)["HHS-OCR"]["residents"] == 501 + 250 + 3 + 2 + 10


def test_the_deadline_planner_knows_the_regulators_the_reference_adds(campaign: Campaign) -> None:
    """A regulator that only regulators.toml names (Pennsylvania's AG) is a deadline too, and
    can be marked filed."""
    campaign.write_list(
        "\n".join(
            [HEADER]
            + [f"P{i},p{i}@example.com,P,Q,US,US-PA,email,2025-01-01,esign,,,,,," for i in range(501)]
        )
        + "\n"
    )
    plan = json.loads(campaign.notify("deadlines", "--json").out)
    assert "PA-AG" in {o["id"] for o in plan["obligations"]}
    assert campaign.notify("deadlines", "done", "PA-AG", "--ref", "PA-1").code == 0
    assert listed(campaign)["PA-AG"]["status"] == "filed"
    assert "VERIFY" in campaign.notify("regulators").out  # PA's effective date is unconfirmed


def _texts(folder: Path) -> str:
    out = []
    for path in sorted(folder.iterdir()):
        if path.suffix == ".pdf":
            out.append(
                subprocess.run(
                    ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
                ).stdout
            )
        else:
            out.append(path.read_text(encoding="utf-8"))
    return "\n".join(out)


@needs_print_tools
def test_the_california_sample_notice_holds_no_value_of_the_list(campaign: Campaign) -> None:
    """After a real send (codes issued), the CA AG draft's sample notice (HTML, text and the PDF,
    read back with pdftotext) contains no value of any list row — names, addresses, ids, email
    addresses, account numbers, postal addresses — and no activation code; placeholders stand in."""
    path = regulated(campaign)
    campaign.config.write_text(
        campaign.config.read_text(encoding="utf-8")
        + '\n[offers.id-12m]\nvendor = "Experian"\nproduct = "IdentityWorks"\nmonths = 24\nenrol_days = 90\n'
        'url = "https://www.experianidworks.com/credit"\n',
        encoding="utf-8",
    )
    codes = campaign.root / "codes.csv"
    codes.write_text("code\n" + "".join(f"QK{i:06d}Z\n" for i in range(800)), encoding="utf-8")
    assert campaign.notify("offers", "import", str(codes), "--offer", "id-12m").code == 0
    sent = campaign.notify("send", "--segment", "all", "--yes")
    assert sent.code == 0, sent.out + sent.err
    out = campaign.root / "ca-ag"
    result = campaign.notify("regulators", "draft", "CA-AG", "--output", str(out))
    assert result.code == 0, result.out + result.err
    assert (out / "sample-notice.pdf").read_bytes().startswith(b"%PDF")
    text = _texts(out)
    assert "[FIRST NAME]" in text and "[ACTIVATION CODE]" in text
    with path.open(encoding="utf-8") as fh:
        values = {v for row in csv.DictReader(fh) for k, v in row.items() if v and k not in PLACE_COLUMNS}
    assert len(values) > 2000
    leaked = sorted(v for v in values if v in text)
    assert leaked == []
    settings = load(campaign.config)
    ledger = open_ledger(settings)
    try:
        issued = [
            c
            for held in ledger.offer_codes_of([f"zq{n}.person@example.com" for n in range(1, 800)]).values()
            for c, _ in held.values()
        ]
    finally:
        ledger.close()
    assert issued and not [c for c in issued if c in text]


def test_counts_by_method_in_the_texas_draft_equal_a_hand_count(campaign: Campaign) -> None:
    """Texas asks how many were sent notice by mail or another direct method: 230 by email
    (accepted), 20 by letter (the channel decisions), as the list was built."""
    regulated(campaign)
    assert campaign.notify("send", "--segment", "all", "--yes").code == 0
    out = campaign.root / "tx"
    assert campaign.notify("regulators", "draft", "tx-ag", "--output", str(out)).code == 0
    fields = {
        f["label"]: f["value"]
        for f in json.loads((out / "fields.json").read_text(encoding="utf-8"))["fields"]
    }
    method = fields["Number of Texans sent notice, by mail or other direct method"]
    assert method.startswith("email: 230 accepted by the receiving mail servers")
    assert "postal: 20 decided" in method
    assert fields["Number of Texas residents affected"] == "250"


def test_the_gdpr_draft_answers_article_33_3_and_leaves_the_unknown_to_fill_in(campaign: Campaign) -> None:
    """The lead authority's draft has (a)-(d) of Art. 33(3) from notify.toml, the EU count, and
    says TO FILL IN where notify.toml is silent."""
    regulated(campaign)
    out = campaign.root / "gdpr"
    result = campaign.notify("regulators", "draft", "GDPR-SA", "--output", str(out))
    assert result.code == 0, result.err
    fields = {
        f["label"]: f["value"]
        for f in json.loads((out / "fields.json").read_text(encoding="utf-8"))["fields"]
    }
    assert fields["(a) Nature of the breach"].startswith("On 10 November 2026 an unauthorised person")
    assert fields["(a) Approximate number of data subjects (EU/EEA residents)"] == "5"
    assert fields["(d) Measures taken or proposed, including to mitigate its effects"].startswith("We locked")
    assert fields["Supervisory authority"].startswith("TO FILL IN")
    assert "field(s) say TO FILL IN" in result.out
    assert not (out / "sample-notice.html").exists()  # the authority asks for no copy


def test_draft_files_are_private(campaign: Campaign) -> None:
    """Every file of a draft is 0600 and its folder 0700."""
    regulated(campaign)
    out = campaign.root / "ma"
    assert campaign.notify("regulators", "draft", "MA-AG", "--output", str(out)).code == 0
    assert out.stat().st_mode & 0o777 == 0o700
    assert {p.name for p in out.iterdir()} >= {
        "fields.txt",
        "fields.json",
        "sample-notice.html",
        "sample-notice.pdf",
    }
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in out.iterdir())


def test_an_unknown_regulator_is_refused_with_the_closest_name(campaign: Campaign) -> None:
    """A typo in the regulator's id is a usage error suggesting the one meant (exit 2)."""
    result = campaign.notify("regulators", "draft", "CA-AGG", "--output", str(campaign.root / "x"))
    assert result.code == 2
    assert "CA-AG" in result.err
