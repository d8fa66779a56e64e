"""The list reader's address check gives email-validator's own answer, with each domain checked once."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from notifier.lists.addresses import AddressCheck

LOCAL = st.text(alphabet="abcXYZ019.+-_'!#~\"\\ @é", min_size=0, max_size=70)
DOMAIN = st.sampled_from(
    ["example.com", "EXAMPLE.org", "bücher.example", "xn--bcher-kva.example", "localhost", "a..b.com",
     "[127.0.0.1]", "test", "exa_mple.com", "-bad.example", "x" * 250 + ".com", "example.invalid"]
)  # fmt: skip


def library(address: str) -> tuple[str, str | None] | str:
    try:
        v = validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        return str(exc)
    return (v.normalized, v.ascii_email)


def ours(check: AddressCheck, address: str) -> tuple[str, str | None] | str:
    try:
        a = check.check(address)
    except EmailNotValidError as exc:
        return str(exc)
    return (a.normalized, a.ascii_email)


@settings(max_examples=400, deadline=None)
@given(LOCAL, DOMAIN)
def test_every_address_gets_the_libraries_answer_and_message(local: str, domain: str) -> None:
    """Accepted or refused, normalised form and error text are the library's, whatever the address."""
    check = AddressCheck()
    address = f"{local}@{domain}"
    assert ours(check, address) == library(address)
    assert ours(check, address) == library(address)  # the second time from the domain kept


def test_a_refused_address_names_the_librarys_reason() -> None:
    """A person at a domain that cannot exist is refused with the library's words, not ours."""
    with pytest.raises(EmailNotValidError, match="special-use or reserved"):
        AddressCheck().check("someone@example.invalid")


def test_mailbox_names_rfc2142_makes_case_insensitive_are_lower_cased() -> None:
    """Postmaster@ and Abuse@ are normalised as the library does (RFC 2142), not left as typed."""
    check = AddressCheck()
    assert check.check("PostMaster@Example.com").normalized == "postmaster@example.com"
    assert check.check("Jane.Doe@Example.com").normalized == "Jane.Doe@example.com"
