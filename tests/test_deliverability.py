"""--check-deliverability asks a real DNS server (127.0.0.1) for each domain's mail servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .conftest import Campaign
from .dnsserver import DnsServer

ZONE = """
example.com.      300 IN MX 10 mx.example.com.
mx.example.com.   300 IN A  127.0.0.1
nomail.example.   300 IN MX 0 .
"""


@pytest.fixture
def dns() -> Iterator[DnsServer]:
    server = DnsServer(ZONE).start()
    try:
        yield server
    finally:
        server.stop()


def test_domains_without_mail_servers_are_rejected_and_unknowns_kept(
    campaign: Campaign, dns: DnsServer
) -> None:
    """NXDOMAIN and null MX reject the row; a timeout or SERVFAIL keeps the person with a warning."""
    campaign.set_nameserver(dns.nameserver)
    campaign.write_list(
        "email,exposed\n"
        "ok@example.com,email\n"
        "gone@nowhere.example,email\n"
        "null@nomail.example,email\n"
        "slow@slow.timeout,email\n"
        "broken@x.servfail,email\n"
    )
    result = campaign.notify("lists", "check", "--check-deliverability")
    out = result.out
    assert "5 rows — 3 usable, 2 rejected" in out
    assert "subscribers.csv:3: invalid address: The domain name nowhere.example does not exist" in out
    assert "subscribers.csv:4: invalid address: The domain name nomail.example does not accept email" in out
    assert "subscribers.csv:5: could not check the mail servers of slow.timeout (timeout); kept" in out
    assert "subscribers.csv:6: could not check the mail servers of x.servfail" in out


def test_nameservers_from_the_environment_win(
    campaign: Campaign, dns: DnsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFY_NAMESERVERS", dns.nameserver)
    campaign.write_list("email,exposed\ngone@nowhere.example,email\n")
    result = campaign.notify("lists", "check", "--check-deliverability")
    assert "does not exist" in result.out
