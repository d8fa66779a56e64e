"""A person at an internationalised domain gets their channel decision recorded like anyone else
(the import stores their address in ASCII but keys them by its Unicode form)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from notifier.channels.gate import ChannelGate
from notifier.channels.policy import ChannelPolicy
from notifier.channels.rules import load_channel_rules
from notifier.ledger import SqliteLedger
from notifier.lists.recipients import read_list, stored_key
from notifier.lists.segments import resolve
from notifier.pipeline import stages

POLICY = ChannelPolicy(load_channel_rules(), True, frozenset({"email"}), 1.0)
LIST = "email,country\nana@bücher.example,ES\nBo@Example.com,ES\nçé@exämple.de,DE\n"


def test_the_key_of_a_stored_address_is_the_key_the_import_gave_it(tmp_path: Path) -> None:
    """Punycode, plain and SMTPUTF8 addresses: stored_key(stored email) is the import's key."""
    path = tmp_path / "l.csv"
    path.write_text(LIST, encoding="utf-8")
    people = [row.recipient for row in read_list(path) if row.recipient is not None]
    assert len(people) == 3 and people[0].email.startswith("ana@xn--")
    assert [stored_key(p.email) for p in people] == [p.key for p in people]


def test_everyone_planned_with_the_channel_gate_has_a_recorded_decision(tmp_path: Path) -> None:
    """Three people, one at a punycode domain: three decisions in the ledger, not two."""
    path = tmp_path / "l.csv"
    path.write_text(LIST, encoding="utf-8")
    ledger = SqliteLedger(tmp_path / "l.sqlite")
    imports = stages.import_lists(ledger, [path])
    gate = ChannelGate(POLICY, key=stored_key)
    stages.plan(ledger, "n", imports, resolve("all", {}), resend=False, channels=gate)
    ledger.close()
    db = sqlite3.connect(tmp_path / "l.sqlite")
    undecided = db.execute(
        "SELECT r.email FROM recipients r LEFT JOIN channel_decisions d ON d.recipient_id = r.id "
        "WHERE d.channel IS NULL"
    ).fetchall()
    db.close()
    assert undecided == []
