"""SPF evaluation (RFC 7208) against a real DNS server on 127.0.0.1, with pyspf as an
independent second opinion on every case."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from notifier.checks.dns.lookup import Lookup
from notifier.checks.dns.resolver import make_resolver
from notifier.checks.dns.spf import evaluate
from notifier.checks.dns.spfcheck import check_spf
from notifier.checks.report import Status

from .dnsserver import DnsServer
from .spfsuite import pyspf_through

ZONE = """
good.example.       300 IN TXT "v=spf1 ip4:192.0.2.0/24 include:relay.example -all"
relay.example.      300 IN TXT "v=spf1 ip4:198.51.100.7 ip6:2001:db8::/32 ~all"
amx.example.        300 IN TXT "v=spf1 a mx/24 -all"
amx.example.        300 IN A   203.0.113.5
amx.example.        300 IN MX  10 mail.amx.example.
mail.amx.example.   300 IN A   203.0.113.77
redir.example.      300 IN TXT "v=spf1 redirect=good.example"
redirnone.example.  300 IN TXT "v=spf1 redirect=nospf.example"
nospf.example.      300 IN TXT "google-site-verification=abc"
incnone.example.    300 IN TXT "v=spf1 include:nospf.example -all"
two.example.        300 IN TXT "v=spf1 -all"
two.example.        300 IN TXT "v=spf1 +all"
plusall.example.    300 IN TXT "v=spf1 +all"
neutral.example.    300 IN TXT "v=spf1 ip4:192.0.2.1"
macro.example.      300 IN TXT "v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all"
5.113.0.203.alice._spf.macro.example. 300 IN A 127.0.0.2
exp.example.        300 IN TXT "v=spf1 -all exp=explain.exp.example"
explain.exp.example. 300 IN TXT "%{i} is not one of %{d}'s senders"
ptr.example.        300 IN TXT "v=spf1 ptr -all"
5.113.0.203.in-addr.arpa. 300 IN PTR host.ptr.example.
host.ptr.example.   300 IN A   203.0.113.5
many.example.       300 IN TXT "v=spf1 include:l1.example include:l2.example include:l3.example include:l4.example include:l5.example include:l6.example -all"
l1.example.         300 IN TXT "v=spf1 a:x1.example a:x2.example ~all"
l2.example.         300 IN TXT "v=spf1 ~all"
l3.example.         300 IN TXT "v=spf1 ~all"
l4.example.         300 IN TXT "v=spf1 ~all"
l5.example.         300 IN TXT "v=spf1 a:x3.example a:x4.example a:x5.example ~all"
l6.example.         300 IN TXT "v=spf1 ip4:192.0.2.99 ~all"
x1.example.         300 IN A   192.0.2.200
x2.example.         300 IN A   192.0.2.201
x3.example.         300 IN A   192.0.2.202
x4.example.         300 IN A   192.0.2.203
x5.example.         300 IN A   192.0.2.204
voids.example.      300 IN TXT "v=spf1 a:v1.example a:v2.example a:v3.example -all"
slow.example.       300 IN TXT "v=spf1 include:x.timeout -all"
badmech.example.    300 IN TXT "v=spf1 ip4:192.0.2.1 foo:bar -all"
twelve.example.     300 IN TXT "v=spf1 include:l1.example include:l2.example include:l3.example include:l4.example include:l5.example include:l6.example a:x1.example ip4:192.0.2.250 -all"
numtop.example.     300 IN TXT "v=spf1 a:abc.123 ip4:192.0.2.10 -all"
cidr032.example.    300 IN TXT "v=spf1 ip4:192.0.2.10/032 -all"
unkmod.example.     300 IN TXT "v=spf1 ip4:192.0.2.10 foo=%abc -all"
ptrcase.example.    300 IN TXT "v=spf1 ptr:PTR.Example -all"
"""

CASES: list[tuple[str, str, str, str]] = [
    # (ip, mail from, expected result, why)
    ("192.0.2.10", "a@good.example", "pass", "ip4 in the domain's own range"),
    ("198.51.100.7", "a@good.example", "pass", "ip4 inside an include"),
    ("2001:db8::1", "a@good.example", "pass", "ip6 inside an include"),
    ("203.0.113.9", "a@good.example", "fail", "not listed: -all"),
    ("203.0.113.5", "a@amx.example", "pass", "a mechanism"),
    ("203.0.113.80", "a@amx.example", "pass", "mx with a /24"),
    ("192.0.2.10", "a@redir.example", "pass", "redirect to a passing domain"),
    ("192.0.2.10", "a@redirnone.example", "permerror", "redirect to a domain without SPF"),
    ("192.0.2.10", "a@incnone.example", "permerror", "include of a domain without SPF"),
    ("192.0.2.10", "a@nospf.example", "none", "no SPF record"),
    ("192.0.2.10", "a@two.example", "permerror", "two SPF records"),
    ("192.0.2.10", "a@neutral.example", "neutral", "no match and no all"),
    ("203.0.113.5", "alice@macro.example", "pass", "exists with %{ir} and %{l1r+-} macros"),
    ("203.0.113.6", "alice@macro.example", "fail", "exists target missing"),
    ("203.0.113.5", "a@ptr.example", "pass", "ptr forward-confirmed"),
    ("203.0.113.6", "a@ptr.example", "fail", "ptr without a name"),
    ("192.0.2.250", "a@many.example", "permerror", "11 DNS lookups"),
    ("192.0.2.10", "a@voids.example", "permerror", "3 void lookups"),
    ("192.0.2.10", "a@badmech.example", "permerror", "unknown mechanism"),
    ("203.0.113.9", "a@exp.example", "fail", "fail with an explanation"),
    ("192.0.2.250", "a@twelve.example", "permerror", "12 DNS lookups, the IP listed after them"),
    ("192.0.2.10", "a@numtop.example", "permerror", "a numeric top label, even before a match"),
    ("192.0.2.10", "a@cidr032.example", "permerror", "a CIDR length with a leading zero"),
    ("192.0.2.10", "a@unkmod.example", "permerror", "an unknown modifier whose value is no macro-string"),
    ("203.0.113.5", "a@ptrcase.example", "pass", "ptr compares names case-blind"),
]


@pytest.fixture(scope="module")
def dns() -> Iterator[DnsServer]:
    server = DnsServer(ZONE).start()
    try:
        yield server
    finally:
        server.stop()


def lookup_for(dns: DnsServer) -> Lookup:
    return Lookup(make_resolver([dns.nameserver], timeout=1.0))


@pytest.mark.parametrize(("ip", "sender", "expected", "why"), CASES, ids=[c[3] for c in CASES])
def test_check_host(dns: DnsServer, ip: str, sender: str, expected: str, why: str) -> None:
    result = evaluate(lookup_for(dns), ip, sender)
    assert result.result == expected, "\n".join(result.trace)


@pytest.mark.parametrize(("ip", "sender", "expected", "why"), CASES, ids=[c[3] for c in CASES])
def test_pyspf_agrees(dns: DnsServer, ip: str, sender: str, expected: str, why: str) -> None:
    """An independent implementation, asked through the same DNS server, gives the same result."""
    with pyspf_through(make_resolver([dns.nameserver], timeout=1.0)) as spf:
        theirs = spf.check2(i=ip, s=sender, h="mta.example")[0]
    assert theirs == expected


def test_the_trace_shows_terms_lookups_and_the_count(dns: DnsServer) -> None:
    result = evaluate(lookup_for(dns), "198.51.100.7", "a@good.example")
    trace = "\n".join(result.trace)
    assert "record: v=spf1 ip4:192.0.2.0/24 include:relay.example -all" in trace
    assert "DNS TXT relay.example -> v=spf1 ip4:198.51.100.7" in trace
    assert "ip4:198.51.100.7: match" in trace
    assert result.lookups == 1 and "include:relay.example matched" in result.reason


def test_the_lookup_limit_is_named(dns: DnsServer) -> None:
    result = evaluate(lookup_for(dns), "192.0.2.250", "a@many.example")
    assert "more than 10 DNS lookups" in result.reason


def test_exp_explains_a_failure(dns: DnsServer) -> None:
    result = evaluate(lookup_for(dns), "203.0.113.9", "a@exp.example")
    assert result.explanation == "203.0.113.9 is not one of exp.example's senders"


def test_an_empty_mail_from_is_checked_as_postmaster_at_the_helo(dns: DnsServer) -> None:
    """A bounce (MAIL FROM:<>) is evaluated for the HELO domain (RFC 7208 §2.4)."""
    result = evaluate(lookup_for(dns), "192.0.2.10", "", helo="good.example")
    assert result.result == "pass" and "good.example" in result.reason


def test_a_malformed_term_is_named_with_its_cause(dns: DnsServer) -> None:
    """The permerror names the term and why it is malformed, with cause "syntax"."""
    result = evaluate(lookup_for(dns), "192.0.2.10", "a@numtop.example")
    assert result.cause == "syntax"
    assert "'a:abc.123'" in result.reason and "top-level domain" in result.reason


def test_spf11_names_too_many_lookups_not_a_missing_address(dns: DnsServer) -> None:
    """With 12 lookups the IP's failure is the lookup limit, so the fix says flatten, never "add ip4:"."""
    findings = list(check_spf(lookup_for(dns), "twelve.example", ["192.0.2.250"]))
    spf11 = next(f for f in findings if f.id == "SPF-11")
    assert spf11.status is Status.FAIL and "permerror" in spf11.found
    assert "more than 10 DNS lookups" in spf11.fix and "SPF-3" in spf11.fix
    assert "add ip4:192.0.2.250" not in spf11.fix


def test_spf11_asks_to_add_the_address_only_when_nothing_listed_it(dns: DnsServer) -> None:
    """An IP that -all rejected gets "add ip4:IP"; an IPv6 one gets "ip6:"."""
    v4 = next(f for f in check_spf(lookup_for(dns), "good.example", ["203.0.113.9"]) if f.id == "SPF-11")
    assert "add ip4:203.0.113.9 to good.example's SPF record" in v4.fix
    v6 = next(f for f in check_spf(lookup_for(dns), "good.example", ["2001:db9::1"]) if f.id == "SPF-11")
    assert "add ip6:2001:db9::1" in v6.fix


def test_spf11_names_a_syntax_error_rather_than_the_address(dns: DnsServer) -> None:
    """A record malformed after the IP's own term fails every IP: the fix quotes the bad term."""
    spf11 = next(f for f in check_spf(lookup_for(dns), "numtop.example", ["192.0.2.10"]) if f.id == "SPF-11")
    assert "malformed" in spf11.fix and "a:abc.123" in spf11.fix and "add ip4" not in spf11.fix


def test_a_dns_timeout_is_temperror_never_pass(dns: DnsServer) -> None:
    result = evaluate(lookup_for(dns), "192.0.2.10", "a@slow.example")
    assert result.result == "temperror"
    assert "timed out" in result.reason
