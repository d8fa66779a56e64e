"""Monitoring offers in letters (issue 17): `notify letters build` issues each qualifying person
their code before the first letter, prints it in their letter — the same code an email already
carried — and stops, printing nothing, when a pool is too small."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from notifier.ledger import open_ledger
from notifier.settings import load

from .conftest import Campaign, needs_print_tools
from .smtpsink import Fault, Sink
from .test_letters import HEADER, LETTERS, POSTAL, letter_text, manifest
from .test_offers import OFFERS, codes_received

pytestmark = needs_print_tools

# P1 (California, SSN exposed, no e-sign consent: a letter) qualifies for id-12m; P2 and P3 for
# nothing (see tests/test_offers.py for the rules' hand count).
EMAILED_SSN = (
    "E2,fay@example.com,Fay,Moss,US,US-CA,email;ssn,1 Bay St,,Oakland,CA,94607,US,2025-01-01,esign,,,,,,,\n"
)
SECOND_SSN = "P4,gus@example.com,Gus,Hale,US,US-CA,name;ssn,4 Ash Ct,,Davis,CA,95616,US,,,,,,,,,\n"


@pytest.fixture
def offered(campaign: Campaign) -> Campaign:
    text = campaign.config.read_text(encoding="utf-8")
    campaign.config.write_text(text + LETTERS + OFFERS, encoding="utf-8")
    campaign.write_list(HEADER + POSTAL)
    return campaign


def import_codes(c: Campaign, offer: str, codes: list[str]) -> None:
    path = c.root / f"{offer}.csv"
    path.write_text("activation_code,batch\n" + "".join(f"{code},7\n" for code in codes), encoding="utf-8")
    result = c.notify("offers", "import", str(path), "--offer", offer)
    assert result.code == 0, result.out + result.err


def build(c: Campaign, segment: str = "affected") -> tuple[int, str, Path]:
    out = c.root / "letters"
    result = c.notify("letters", "build", "--segment", segment, "--output", str(out))
    return result.code, result.out + result.err, out


def code_in(text: str) -> str:
    found: list[str] = re.findall(r"activation code ([A-Za-z0-9-]+)", text)
    assert len(found) == 1, text
    return found[0]


def ledger_code(c: Campaign, key: str, offer: str) -> str:
    ledger = open_ledger(load(c.config))
    try:
        code: str = ledger.offer_codes_of([key])[key][offer][0]
        return code
    finally:
        ledger.close()


def test_a_postal_person_who_qualifies_gets_a_letter_with_their_own_code(offered: Campaign) -> None:
    """Someone whose channel is a letter and who qualifies for an offer is printed (not listed as
    needing a code), and pdftotext of their letter shows the code the ledger issued them."""
    import_codes(offered, "id-12m", ["A12X00000", "A12X00001"])
    code, out, folder = build(offered)
    assert code == 0, out
    rows = {r["recipient_id"]: r for r in manifest(folder)}
    assert set(rows) == {"P1", "P2", "P3"}
    issued = ledger_code(offered, "ana@example.com", "id-12m")
    assert code_in(letter_text(folder, rows["P1"])) == issued
    assert "activation code" not in letter_text(folder, rows["P2"])


def test_a_letter_after_a_bounced_email_carries_the_code_the_email_carried(
    offered: Campaign, sink: Sink
) -> None:
    """A person emailed first, whose email was refused for good, gets a letter (--segment
    unreached) with the very code their email carried, not a second one."""
    import_codes(offered, "id-12m", ["A12X00000", "A12X00001", "A12X00002"])
    offered.write_list(HEADER + EMAILED_SSN)
    sink.fault("fay@example.com", Fault("data", "550 5.1.1 no such user", keep=True))
    sent = offered.notify("send", "--segment", "all", "--transport", sink.url, "--yes")
    assert sent.code == 1, sent.out + sent.err
    emailed = codes_received(sink)["fay@example.com"][0]
    assert emailed
    code, out, folder = build(offered, "unreached")
    assert code == 0, out
    (row,) = manifest(folder)
    assert row["recipient_id"] == "E2"
    assert code_in(letter_text(folder, row)) == emailed == ledger_code(offered, "fay@example.com", "id-12m")


def test_a_pool_too_small_stops_the_build_before_the_first_letter(offered: Campaign) -> None:
    """Two letter recipients need a 12-month code and one was imported: the build stops (exit 1)
    naming the pool and how many short, in send's words, and no PDF is written."""
    import_codes(offered, "id-12m", ["A12X00000"])
    offered.write_list(HEADER + POSTAL + SECOND_SSN)
    code, out, folder = build(offered)
    assert code == 1, out
    assert "not enough credit-monitoring codes" in out
    assert "id-12m (default pool): 2 people need a code, 1 free — 1 short" in out
    assert not folder.exists() or not list(folder.glob("*.pdf"))
