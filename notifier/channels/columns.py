"""The list columns that carry channel evidence, their allowed values, and postal addresses.

Values are checked by `notify lists check` (an unknown value is an error with file:line): a
channel decided from a typo ("yse") would be decided on nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "EVIDENCE_COLUMNS",
    "NEXT_OF_KIN_COLUMNS",
    "POSTAL_COLUMNS",
    "YES",
    "check_fields",
    "consent_scopes",
    "has_address",
    "has_consent",
    "is_yes",
    "next_of_kin_address",
    "postal_address",
]

POSTAL_COLUMNS: tuple[str, ...] = (
    "postal_name",
    "postal_line1",
    "postal_line2",
    "postal_city",
    "postal_region",
    "postal_postcode",
    "postal_country",
)
# A deceased person's letter goes to their next of kin (HIPAA 45 CFR 164.404(d)(1)(ii); reference
# notice-channels §2.3): the same address fields, prefixed next_of_kin_ instead of postal_.
NEXT_OF_KIN_COLUMNS: tuple[str, ...] = tuple(c.replace("postal_", "next_of_kin_") for c in POSTAL_COLUMNS)

YES = frozenset({"yes", "y", "true", "1"})
_NO = frozenset({"no", "n", "false", "0"})
_CONSENT_NONE = frozenset({"no", "none", "withdrawn"})
SCOPES = frozenset({"esign", "express"})
CHANNELS = frozenset({"email", "postal"})
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")
_YES_NO = ("mailbox_provided_by_us", "prior_business_relationship", "deceased")

# Documented in README ("Letters and other channels"): column -> what it holds.
EVIDENCE_COLUMNS: dict[str, str] = {
    "consent": "consent to electronic notice: the date given (YYYY-MM-DD), ref:<record id>, or no/withdrawn",
    "consent_scope": "what the consent covers, ;-separated: esign (E-SIGN 101(c) disclosures given), express",
    "primary_channel": "how we customarily talk to them: email or postal",
    "prior_business_relationship": "yes/no (Pennsylvania)",
    "mailbox_provided_by_us": "yes/no: their address is a mailbox we provide",
    "deceased": "yes/no: the letter goes to the next of kin (next_of_kin_* columns)",
}


def is_yes(fields: Mapping[str, Any], column: str) -> bool:
    return str(fields.get(column, "")).strip().lower() in YES


def has_consent(fields: Mapping[str, Any]) -> bool:
    """A consent date or reference is held (and it is not 'no' or 'withdrawn')."""
    value = str(fields.get("consent", "")).strip()
    return bool(value) and value.lower() not in _CONSENT_NONE


def consent_scopes(fields: Mapping[str, Any]) -> frozenset[str]:
    raw = str(fields.get("consent_scope", ""))
    return frozenset(s.strip().lower() for s in raw.split(";") if s.strip())


def check_fields(fields: Mapping[str, Any]) -> list[str]:
    """Every problem with the evidence columns of one row, in plain words (empty: fine)."""
    problems: list[str] = []
    consent = str(fields.get("consent", "")).strip()
    if consent and not (
        _DATE.match(consent) or consent.lower().startswith("ref:") or consent.lower() in _CONSENT_NONE
    ):
        problems.append(f"consent {consent!r} is not a date (YYYY-MM-DD), ref:<record id>, no or withdrawn")
    unknown = sorted(consent_scopes(fields) - SCOPES)
    if unknown:
        problems.append(f"consent_scope {';'.join(unknown)!r} is not one of: esign, express")
    if consent_scopes(fields) and not has_consent(fields):
        problems.append("consent_scope is set but consent holds no date or ref: (when was it given?)")
    channel = str(fields.get("primary_channel", "")).strip().lower()
    if channel and channel not in CHANNELS:
        problems.append(f"primary_channel {channel!r} is not email or postal")
    for column in _YES_NO:
        value = str(fields.get(column, "")).strip().lower()
        if value and value not in YES | _NO:
            problems.append(f"{column} {value!r} is not yes or no")
    problems += _address_problems(fields, "postal_")
    problems += _address_problems(fields, "next_of_kin_")
    return problems


def _address_problems(fields: Mapping[str, Any], prefix: str) -> list[str]:
    present = [c for c in fields if c.startswith(prefix)]
    if not present:
        return []
    problems = []
    country = str(fields.get(f"{prefix}country", "")).strip()
    if country and not _COUNTRY.match(country):
        problems.append(f"{prefix}country {country!r} is not an ISO 3166-1 alpha-2 code (e.g. US, DE)")
    missing = [c for c in _required(fields, prefix) if not str(fields.get(c, "")).strip()]
    if missing:
        problems.append(f"incomplete address: {', '.join(missing)} missing (a letter could not be delivered)")
    return problems


def _required(fields: Mapping[str, Any], prefix: str) -> list[str]:
    need = [f"{prefix}line1", f"{prefix}city", f"{prefix}country"]
    if prefix == "next_of_kin_" or not (fields.get("first_name") or fields.get("last_name")):
        need.insert(0, f"{prefix}name")
    if str(fields.get(f"{prefix}country", "")).strip().upper() == "US":
        need += [f"{prefix}region", f"{prefix}postcode"]
    return need


def postal_address(fields: Mapping[str, Any], *, home_country: str | None = None) -> list[str] | None:
    """The address block lines of the person's own postal address, or None when incomplete.

    The name is ``postal_name``, else first and last name. The country line is left out when it
    is ``home_country`` (domestic mail); USPS Pub 28 style capitals are left to the letter.
    """
    return _address(fields, "postal_", home_country)


def next_of_kin_address(fields: Mapping[str, Any], *, home_country: str | None = None) -> list[str] | None:
    """The next of kin's address block lines (for a deceased person), or None when incomplete."""
    return _address(fields, "next_of_kin_", home_country)


def has_address(fields: Mapping[str, Any], prefix: str = "postal_") -> bool:
    """Whether the row holds a complete address under ``prefix`` (postal_ or next_of_kin_): what
    :func:`postal_address` / :func:`next_of_kin_address` answer with lines instead of None."""
    if not any(c.startswith(prefix) for c in fields):
        return False
    return all(str(fields.get(c, "")).strip() for c in _required(fields, prefix))


def _address(fields: Mapping[str, Any], prefix: str, home_country: str | None) -> list[str] | None:
    def get(name: str) -> str:
        return str(fields.get(f"{prefix}{name}", "")).strip()

    if not has_address(fields, prefix):
        return None
    name = get("name") or " ".join(
        str(fields[k]).strip() for k in ("first_name", "last_name") if fields.get(k)
    )
    country = get("country").upper()
    region = get("region").upper().removeprefix(f"{country}-")
    city, postcode = get("city"), get("postcode")
    lines = [name, get("line1")]
    if get("line2"):
        lines.append(get("line2"))
    if country in {"US", "CA", "AU"}:
        lines.append(" ".join(p for p in (city, region, postcode) if p))
    elif country == "GB":
        lines += [city] + ([postcode] if postcode else [])
    else:
        lines.append(" ".join(p for p in (postcode, city) if p))
        if region:
            lines.append(region)
    if home_country is None or country != home_country.upper():
        lines.append(country)
    return lines
