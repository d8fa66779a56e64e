"""notify check against a real DNS server on 127.0.0.1: the well-configured domain passes,
each broken one gives its documented FAIL or WARN with the reference's check ID."""

from __future__ import annotations

import json
import shutil
import sqlite3
from typing import Any

import pytest

from .authzone import Keys
from .conftest import Campaign
from .smtpsink import Sink


def use_sender(
    c: Campaign,
    domain: str,
    *,
    dkim_domain: str | None = None,
    bounce: str | None = None,
    key: str = "dkim.pem",
) -> None:
    """Send From security@DOMAIN with bounces at BOUNCE and DKIM d=DKIM_DOMAIN."""
    c.edit_config(
        'from = "Example Shop Security <security@example.com>"', f'from = "Security <security@{domain}>"'
    )
    c.edit_config('bounce_domain = "bounces.example.com"', f'bounce_domain = "{bounce or domain}"')
    c.edit_config('domain = "example.com"', f'domain = "{dkim_domain or domain}"')
    c.edit_config('key = "dkim.pem"', f'key = "{key}"')


def check(c: Campaign, *args: str) -> tuple[int, dict[str, Any], str]:
    result = c.notify("check", "--json", *args)
    data = json.loads(result.out)
    return result.code, data, result.err


def statuses(data: dict[str, Any], check_id: str) -> set[str]:
    return {f["status"] for f in data["findings"] if f["id"] == check_id}


def finding(data: dict[str, Any], check_id: str) -> dict[str, Any]:
    return next(f for f in data["findings"] if f["id"] == check_id)


def test_the_well_configured_domain_passes_everything(campaign: Campaign, tls_sink: Sink, keys: Keys) -> None:
    """example.com with SPF, DKIM (RSA and a second Ed25519 signature), DMARC p=reject, PTR
    and a STARTTLS relay: no FAIL, no WARN."""
    campaign.edit_config('url = "outbox:outbox"', f'url = "{tls_sink.url}"')
    shutil.copy(keys.ed25519, campaign.root / "ed.pem")
    (campaign.root / "ed.pem").chmod(0o600)
    campaign.edit_config(
        'key = "dkim.pem"', 'key = "dkim.pem"\ned25519_selector = "e1"\ned25519_key = "ed.pem"'
    )
    code, data, _ = check(campaign)
    bad = [f for f in data["findings"] if f["status"] in ("FAIL", "WARN")]
    assert bad == []
    assert code == 0
    ids = {f["id"] for f in data["findings"]}
    for expected in (
        "SPF-1",
        "SPF-2",
        "SPF-3",
        "SPF-4",
        "SPF-8",
        "SPF-11",
        "DKIM-1",
        "DKIM-2",
        "DKIM-3",
        "DKIM-4",
        "DKIM-5",
        "DKIM-6",
        "DKIM-7",
        "DMARC-1",
        "DMARC-3",
        "DMARC-4",
        "DMARC-7",
        "DMARC-8",
        "DMARC-9",
        "INF-1",
        "INF-2",
        "INF-5",
        "MSG-1",
        "MSG-2",
        "MSG-3",
        "TRANSPORT-1",
        "PROV-GMAIL",
        "PROV-YAHOO",
        "PROV-OUTLOOK",
        "LIST-1",
    ):
        assert expected in ids, expected
    assert tls_sink.received == []  # the transport check never sends


def test_text_report_groups_by_area_with_fixes(campaign: Campaign) -> None:
    use_sender(campaign, "nospf.example", dkim_domain="example.com")
    result = campaign.notify("check")
    assert result.code == 1
    out = result.out
    for area in (
        "Sender authentication",
        "Infrastructure",
        "Mailbox-provider rules",
        "Messages",
        "List",
        "Transport",
    ):
        assert f"\n{area}\n" in out
    assert "FAIL  SPF-1        no SPF record at nospf.example" in out
    assert 'fix: publish: nospf.example. IN TXT "v=spf1 ' in out


BROKEN = [
    # (from domain, dkim domain, key file, check id, status, words in what was found)
    ("nospf.example", "example.com", "dkim.pem", "SPF-1", "FAIL", "no SPF record"),
    ("twospf.example", "example.com", "dkim.pem", "SPF-1", "FAIL", "2 SPF records"),
    ("plusall.example", "example.com", "dkim.pem", "SPF-8", "FAIL", "+all"),
    ("many.example", "example.com", "dkim.pem", "SPF-3", "FAIL", "11 DNS-querying terms"),
    ("voids.example", "example.com", "dkim.pem", "SPF-4", "FAIL", "3 void lookups"),
    ("incnone.example", "example.com", "dkim.pem", "SPF-6", "FAIL", "nospf.example is included"),
    ("nodkim.example", None, "dkim.pem", "DKIM-1", "FAIL", "no DKIM key published"),
    ("wrongkey.example", None, "dkim.pem", "DKIM-4", "FAIL", "not the public half"),
    ("smallkey.example", None, "small.pem", "DKIM-3", "WARN", "1024-bit"),
    ("nodmarc.example", "example.com", "dkim.pem", "DMARC-1", "FAIL", "no DMARC record"),
    ("nop.example", "example.com", "dkim.pem", "DMARC-4", "FAIL", "no p= policy"),
    ("twodmarc.example", "example.com", "dkim.pem", "DMARC-2", "FAIL", "2 DMARC records"),
    ("unaligned.example", "example.com", "dkim.pem", "DMARC-8", "FAIL", "not aligned"),
    ("gmail.com", "example.com", "dkim.pem", "DMARC-9", "FAIL", "mailbox provider"),
]


@pytest.mark.parametrize(
    ("domain", "dkim_domain", "key", "check_id", "status", "words"),
    BROKEN,
    ids=[f"{b[3]}-{b[0]}" for b in BROKEN],
)
def test_each_broken_domain_gives_its_finding(
    campaign: Campaign,
    keys: Keys,
    domain: str,
    dkim_domain: str | None,
    key: str,
    check_id: str,
    status: str,
    words: str,
) -> None:
    shutil.copy(keys.small, campaign.root / "small.pem")
    (campaign.root / "small.pem").chmod(0o600)
    bounce = "bounces.example.com" if domain == "unaligned.example" else None
    use_sender(campaign, domain, dkim_domain=dkim_domain, bounce=bounce, key=key)
    code, data, _ = check(campaign)
    assert status in statuses(data, check_id), json.dumps(data, indent=1)
    assert words in " ".join(f["found"] for f in data["findings"] if f["id"] == check_id)
    if status == "FAIL":
        assert code == 1


def test_a_dns_timeout_is_could_not_verify_never_pass(campaign: Campaign) -> None:
    """Every lookup for the sending domain times out: the SPF and DMARC checks WARN
    with the reason; nothing about that domain is reported as passing."""
    use_sender(campaign, "slow.timeout", dkim_domain="example.com")
    _code, data, _ = check(campaign)
    spf = finding(data, "SPF-1")
    assert spf["status"] == "WARN" and "could not verify" in spf["found"] and "timed out" in spf["found"]
    assert finding(data, "DMARC-1")["status"] == "WARN"
    assert "PASS" not in statuses(data, "SPF-11") and "PASS" not in statuses(data, "DMARC-8")


def test_check_spf_prints_result_and_trace(campaign: Campaign) -> None:
    result = campaign.notify("check", "spf", "127.0.0.1", "bounces.example.com")
    assert result.code == 0
    assert result.out.startswith("SPF pass for 127.0.0.1 sending as bounces.example.com")
    assert "lookups: 0 of 10" in result.out
    assert "record: v=spf1 ip4:127.0.0.1 -all" in result.out
    failing = campaign.notify("check", "spf", "192.0.2.9", "bounces.example.com", "--json")
    assert failing.code == 1
    assert json.loads(failing.out)["result"] == "fail"


def test_send_refuses_a_broken_domain_and_force_records_the_override(campaign: Campaign, sink: Sink) -> None:
    """On FAIL nothing is sent and the failing checks are named; --force sends and the
    ledger keeps the override with the full report."""
    use_sender(campaign, "nospf.example", dkim_domain="example.com")
    refused = campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    assert refused.code == 1
    assert "nothing was sent" in refused.err and "SPF-1" in refused.err and "--force" in refused.err
    assert sink.received == []
    forced = campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes", "--force")
    assert forced.code == 0, forced.err
    assert "sending despite" in forced.out
    assert len(sink.received) == 3
    db = sqlite3.connect(campaign.root / "ledger.sqlite")
    kind, failed, report, run_id, user = db.execute(
        "SELECT kind, failed, report, run_id, user FROM checks"
    ).fetchone()
    assert kind == "override" and "SPF-1" in failed.split(",") and run_id == 1 and user
    assert any(f["id"] == "SPF-1" and f["status"] == "FAIL" for f in json.loads(report)["findings"])


def test_force_asks_again_on_a_terminal(campaign: Campaign, sink: Sink) -> None:
    import io

    from notifier.cli import app as cli

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    use_sender(campaign, "nospf.example", dkim_domain="example.com")
    out = io.StringIO()
    code = cli.run(
        [
            "--config",
            str(campaign.config),
            "send",
            "--segment",
            "affected",
            "--transport",
            sink.url,
            "--force",
        ],
        stdin=Tty("no\n"),
        out=out,
    )
    assert code == 0  # declining at a prompt cancels (issue 13): "Cancelled, nothing sent."
    assert "Type FORCE to send anyway" in out.getvalue()
    assert sink.received == []


def test_the_outbox_skips_network_checks(campaign: Campaign) -> None:
    """A local outbox sends nothing to the internet, so no DNS gate stands in the way."""
    use_sender(campaign, "nospf.example", dkim_domain="example.com")
    result = campaign.notify("send", "--segment", "affected", "--yes")
    assert result.code == 0 and len(campaign.outbox()) == 3
