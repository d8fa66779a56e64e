"""Address syntax checks at list speed: email-validator's answer, with each domain checked once.

``email_validator.validate_email`` spends most of its ~40 µs per address on the part after the
@-sign (IDNA/UTS-46 remapping, per-character checks), which a list repeats for every person at
the same domain. An address whose local part is plain ASCII dot-atom text (the library's own
``DOT_ATOM_TEXT``) is valid exactly when its domain is, and then normalises to the local part
unchanged plus the domain's normal form; the domain's answer is computed once by the library
and kept. Everything else (quoted or non-ASCII local parts, the mailbox names RFC 2142 makes
case-insensitive, domain literals, lengths near the limits, any domain the library refuses) goes
to the library whole, so its error messages reach the user as they are.
tests/test_addresses.py checks that both paths give the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import (
    CASE_INSENSITIVE_MAILBOX_NAMES,
    DOT_ATOM_TEXT,
    EMAIL_MAX_LENGTH,
    LOCAL_PART_MAX_LENGTH,
)

__all__ = ["Address", "AddressCheck"]

_CASE_INSENSITIVE = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)
_DOMAINS_KEPT = 100_000  # bounded, so a list of a million one-off domains stays small in memory


@dataclass(frozen=True, slots=True)
class Address:
    """What the import keeps of a valid address (email_validator's names)."""

    normalized: str  # local part + the domain's Unicode form
    ascii_email: str | None  # None when the address needs SMTPUTF8
    ascii_domain: str
    domain: str


class AddressCheck:
    """``check(address)``: the Address, or EmailNotValidError with the library's own message."""

    def __init__(self) -> None:
        self._domains: dict[str, tuple[str, str] | None] = {}

    def check(self, address: str) -> Address:
        local, at, domain_part = address.rpartition("@")
        if at and local and domain_part and self._plain(local):
            domain = self._domain(domain_part)
            if domain is not None:
                ascii_domain, unicode_domain = domain
                normalized = f"{local}@{unicode_domain}"
                ascii_email = f"{local}@{ascii_domain}"
                longest = max(len(address.encode()), len(normalized.encode()), len(ascii_email))
                if longest <= EMAIL_MAX_LENGTH:
                    return Address(normalized, ascii_email, ascii_domain, unicode_domain)
        return self._full(address)

    @staticmethod
    def _plain(local: str) -> bool:
        return (
            len(local) <= LOCAL_PART_MAX_LENGTH
            and local.isascii()
            and DOT_ATOM_TEXT.match(local) is not None
            and local.lower() not in _CASE_INSENSITIVE
        )

    def _domain(self, domain_part: str) -> tuple[str, str] | None:
        """(ASCII form, Unicode form) of a domain the library accepts; None otherwise."""
        if domain_part in self._domains:
            return self._domains[domain_part]
        result: tuple[str, str] | None
        if domain_part.startswith("["):
            result = None  # a domain literal: the library decides whether it is allowed
        else:
            try:
                valid = validate_email(f"a@{domain_part}", check_deliverability=False)
                result = (valid.ascii_domain, valid.domain)
            except EmailNotValidError:
                result = None  # the full check below says why, for this address
        if len(self._domains) < _DOMAINS_KEPT:
            self._domains[domain_part] = result
        return result

    @staticmethod
    def _full(address: str) -> Address:
        valid = validate_email(address, check_deliverability=False)
        return Address(valid.normalized, valid.ascii_email, valid.ascii_domain, valid.domain)
