"""Letters on both ledgers (issue 16): SQLite and PostgreSQL record the same batches and returns."""

from __future__ import annotations

import json

from .conftest import Campaign
from .test_ledger_backends import backend, pg_database  # noqa: F401 - fixtures
from .test_letters import DECEASED, HEADER, LETTERS, POSTAL, manifest


def test_letters_are_recorded_resumed_and_returned_on_both_ledgers(backend: Campaign) -> None:  # noqa: F811
    """On SQLite and PostgreSQL alike: a build records every letter once, a second build prints
    nothing new, and a returned letter shows in `report --unreached`."""
    backend.config.write_text(backend.config.read_text(encoding="utf-8") + LETTERS, encoding="utf-8")
    backend.write_list(HEADER + POSTAL + DECEASED)
    out = backend.root / "letters"
    first = backend.notify("letters", "build", "--segment", "affected", "--output", str(out))
    assert first.code == 0, first.out + first.err
    again = backend.notify("letters", "build", "--segment", "affected", "--output", str(out))
    assert "Printed 0 letters" in again.out and "4 were printed by an earlier build" in again.out
    assert sorted(r["recipient_id"] for r in manifest(out)) == ["D1", "P1", "P2", "P3"]
    returns = backend.root / "returns.csv"
    returns.write_text("recipient_id,reason\nD1,deceased\n")
    assert backend.notify("letters", "returned", str(returns)).code == 0
    report = backend.notify("report", "--unreached", "--format", "json")
    rows = [r for r in json.loads(report.out) if r["state"] == "letter-returned"]
    assert [(r["id"], r["reason"]) for r in rows] == [("D1", "deceased")]
