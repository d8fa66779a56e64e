"""Code pools under several senders on a real PostgreSQL ledger (issue 17): processes issuing
at the same time never give one code to two people or two codes to one person, and a sender
killed with SIGKILL mid-run loses no code: the rerun sends everyone the code they already hold.

Needs NOTIFY_TEST_PG_URL (see tests/test_ledger_backends.py); skipped without it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter

from .conftest import Campaign
from .smtpsink import Sink
from .test_ledger_backends import finish, pg_database, query  # noqa: F401 - pg_database is a fixture
from .test_offers import codes_received

OFFER = """
[offers.ct-24m]
vendor = "Experian"
product = "IdentityWorks 3B"
months = 24
enrol_days = 90
url = "https://www.experianidworks.com/3bplus"
"""

ISSUER = textwrap.dedent(
    """
    import json, random, sys
    from notifier.ledger.postgres import PgLedger
    url, seed = sys.argv[1], int(sys.argv[2])
    keys = [f"person{i}@example.com" for i in range(600)]
    random.Random(seed).shuffle(keys)
    ledger = PgLedger(url)
    got = {}
    for start in range(0, len(keys), 40):
        codes, short = ledger.issue_codes("ct-24m", [(k, "default") for k in keys[start:start + 40]])
        assert not short, short
        got.update(codes)
    ledger.close()
    print(json.dumps(got))
    """
)


def test_two_processes_issuing_at_once_never_share_a_code(pg_database: str) -> None:  # noqa: F811
    """Two processes issue codes to the same 600 people at the same time, in different orders:
    each person ends with exactly one code, both processes were told the same one, and no code
    belongs to two people."""
    from notifier.ledger.postgres import PgLedger

    ledger = PgLedger(pg_database)
    ledger.import_codes("ct-24m", "default", [(i + 2, f"CODE{i:06d}") for i in range(1000)])
    ledger.close()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", ISSUER, pg_database, str(seed)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in (1, 2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outs]
    first, second = (json.loads(out) for out, _ in outs)
    assert len(first) == len(second) == 600
    assert first == second  # the same code for each person, whoever issued it
    assert len(set(first.values())) == 600
    import psycopg

    with psycopg.connect(pg_database, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT count(*), count(DISTINCT issued_to), count(DISTINCT code) FROM offer_codes "
            "WHERE issued_to IS NOT NULL"
        ).fetchone()
    assert rows == (600, 600, 600)


def _shared(campaign: Campaign, url: str, sink: Sink, people: int, codes: int) -> None:
    campaign.edit_config('path = "ledger.sqlite"', f'url = "{url}"\nlease = "2s"')
    campaign.edit_config('url = "outbox:outbox"', f'url = "{sink.url}"')
    campaign.config.write_text(campaign.config.read_text(encoding="utf-8") + OFFER, encoding="utf-8")
    rows = ["id,email,first_name,last_name,country,region,exposed,consent,consent_scope"]
    rows += [
        f"P{i},person{i}@example.com,P{i},Test,US,US-CT,email;ssn,2025-01-01,esign" for i in range(people)
    ]
    campaign.write_list("\n".join(rows) + "\n")
    path = campaign.root / "codes.csv"
    path.write_text("code\n" + "".join(f"CT{i:06d}\n" for i in range(codes)), encoding="utf-8")
    imported = campaign.notify("offers", "import", str(path), "--offer", "ct-24m")
    assert imported.code == 0, imported.out + imported.err
    assert campaign.notify("lists", "check").code == 0


def _sender(campaign: Campaign, *, quiet: bool = False) -> subprocess.Popen[str]:
    # A sender about to be killed writes nowhere: a pipe its sending processes inherited would
    # keep the test waiting for an end of file.
    out = subprocess.DEVNULL if quiet else subprocess.PIPE
    return subprocess.Popen(
        [sys.executable, "-m", "notifier", "send", "--segment", "all", "--yes"],
        stdout=out,
        stderr=out,
        text=True,
        env=dict(os.environ, NOTIFY_CONFIG=str(campaign.config)),
        cwd=campaign.root,
    )


def _check_codes(campaign: Campaign, sink: Sink, people: int, imported: int) -> Counter[int]:
    """Every person received, every message of theirs carries the one code they hold, no code
    is anyone else's, and the pool lost none (issued + free = imported)."""
    codes = codes_received(sink)
    assert len(codes) == people
    theirs = {}
    for address, found in codes.items():
        assert len(set(found)) == 1 and found[0], (address, found)
        theirs[address] = found[0]
    assert len(set(theirs.values())) == people
    held = dict(query(campaign, "SELECT issued_to, code FROM offer_codes WHERE issued_to IS NOT NULL"))
    assert held == theirs
    free = query(campaign, "SELECT count(*) FROM offer_codes WHERE issued_to IS NULL")[0][0]
    assert len(held) + free == imported
    return Counter(len(found) for found in codes.values())


def test_two_senders_each_person_gets_one_code_none_twice(
    campaign: Campaign,
    pg_database: str,  # noqa: F811
    sink: Sink,
) -> None:
    """Two `notify send` processes on one PostgreSQL campaign: 400 people, 450 codes; everyone
    gets one message with their own code; 400 issued, 50 left."""
    _shared(campaign, pg_database, sink, 400, 450)
    campaign.edit_config('rate = "2000/s"', 'rate = "3000/s"')
    results = finish([_sender(campaign), _sender(campaign)], timeout=300)
    assert all(code == 0 for code, _, _ in results), [err for _, _, err in results]
    per_person = _check_codes(campaign, sink, 400, 450)
    assert per_person == Counter({1: 400})


def test_a_sender_killed_mid_run_loses_no_code_and_the_rerun_sends_the_same_one(
    campaign: Campaign,
    pg_database: str,  # noqa: F811
    sink: Sink,
) -> None:
    """kill -9 a sender after some messages; the next run finishes: nobody is missed, a resent
    (possibly duplicated) message carries the same code as the first, and no code is lost."""
    _shared(campaign, pg_database, sink, 300, 300)
    campaign.edit_config('rate = "2000/s"', 'rate = "100/s"')
    proc = _sender(campaign, quiet=True)
    deadline = time.monotonic() + 60
    while len(sink.received) < 60 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    time.sleep(2.5)  # the lease of the dead sender's claims runs out
    campaign.edit_config('rate = "100/s"', 'rate = "3000/s"')
    rerun = finish([_sender(campaign)], timeout=300)
    assert rerun[0][0] == 0, rerun[0][2]
    per_person = _check_codes(campaign, sink, 300, 300)
    assert sum(per_person.values()) == 300
    duplicated = query(campaign, "SELECT count(*) FROM messages WHERE possibly_duplicated = 1")[0][0]
    assert sum(n - 1 for n in per_person.elements()) <= duplicated
