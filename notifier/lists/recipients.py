"""Stream recipients out of CSV lists: parse, normalise, validate, and keep every reject.

A list is read one row at a time, so a 1,000,000-row file never sits in memory.
Each row becomes a :class:`Recipient` or a :class:`Reject` with file, line and reason;
nothing is dropped silently. Duplicates are merged by the ledger, which owns the
set of recipients (see ``ledger.import_list``).
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

from email_validator import EmailNotValidError, EmailUndeliverableError
from email_validator.deliverability import validate_email_deliverability

from notifier.errors import ListError
from notifier.lists.addresses import AddressCheck
from notifier.models import ListRow, Recipient, Reject

__all__ = ["ListRow", "dedupe_key", "read_list", "stored_key"]

_EMAIL_ALIASES = {"email", "e-mail", "email_address", "emailaddress", "mail"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_REGION = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")
MAX_ROW_LINES = 20  # a row spanning more physical lines is almost always an unclosed quote


def dedupe_key(email: str) -> str:
    """The identity of an address for de-duplication.

    Domains are case-insensitive (RFC 5321 §2.4); local parts are case-sensitive in
    theory but not at any mailbox provider in practice, so ``John@x`` and ``john@x``
    are one person.
    """
    local, _, domain = email.rpartition("@")
    return f"{local.lower()}@{domain.lower()}"


def stored_key(email: str) -> str:
    """The de-duplication key the import gave the address it stored as ``email``.

    The import stores the ASCII form of an address where the local part allows it, but keys it by
    its normalised (Unicode) form: for a domain in punycode (``xn--``) this is the key of the
    Unicode form, as email-validator gives it; for every other address, :func:`dedupe_key`.
    """
    if "xn--" not in email.lower():
        return dedupe_key(email)
    try:
        return dedupe_key(_STORED.check(email).normalized)
    except EmailNotValidError:  # not an address the import stored: its plain key
        return dedupe_key(email)


_STORED = AddressCheck()  # each domain's Unicode form, worked out once


def _lines(path: Path, bad_lines: dict[int, str]) -> Iterator[str]:
    """Decode ``path`` line by line so a bad byte names its line instead of aborting."""
    decoder_bom = codecs.BOM_UTF8
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if number == 1 and raw.startswith(decoder_bom):
                raw = raw[len(decoder_bom) :]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                bad_lines[number] = (
                    f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); "
                    "save the file as UTF-8"
                )
                yield raw.decode("utf-8", errors="replace")


class _DomainCheck:
    """MX (or A fallback) lookups for --check-deliverability, once per domain.

    A domain that plainly cannot receive mail (NXDOMAIN, null MX, no MX/A/AAAA) rejects
    the row. A lookup that times out or fails (SERVFAIL) cannot tell either way: the
    person is kept, with a warning, because dropping them would be worse.
    """

    def __init__(self, resolver: Any) -> None:
        self._resolver = resolver
        self._seen: dict[str, str | EmailUndeliverableError] = {}

    def check(self, ascii_domain: str, domain: str) -> str:
        """'' when fine, a warning text when unknown. Raises EmailUndeliverableError."""
        result = self._seen.get(ascii_domain)
        if result is None:
            try:
                info = validate_email_deliverability(ascii_domain, domain, dns_resolver=self._resolver)
                unknown = info.get("unknown-deliverability")
                result = f"could not check the mail servers of {domain} ({unknown}); kept" if unknown else ""
            except EmailUndeliverableError as exc:
                result = exc
            if len(self._seen) < 100_000:
                self._seen[ascii_domain] = result
        if isinstance(result, EmailUndeliverableError):
            raise result
        return result


def _sniff_delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _clean(value: str) -> tuple[str, bool]:
    """Strip a cell; control characters (CR, LF, ...) become spaces so no header can be injected."""
    cleaned = _CONTROL.sub(" ", value).strip()
    return cleaned, cleaned != value.strip()


def _fields(header: list[str], cells: list[str]) -> tuple[dict[str, Any], list[str]]:
    if _CONTROL.search("".join(cells)) is None:  # the common case: one search per row
        # One comprehension over the row (empty cells are absent: a template that needs one
        # fails loudly), then the few columns with rules; values keep the header's order.
        pairs = zip(header, cells, strict=True)
        fields: dict[str, Any] = {n: v for n, raw in pairs if n != "email" and (v := raw.strip())}
        warnings: list[str] = []
        if "exposed" in fields:
            fields["exposed"] = _categories(fields["exposed"])
        if "country" in fields:
            fields["country"] = value = fields["country"].upper()
            if not _COUNTRY.match(value):
                warnings.append(f"country {value!r} is not an ISO 3166-1 alpha-2 code (e.g. DE, US)")
        if "region" in fields:
            fields["region"] = value = fields["region"].upper()
            if not _REGION.match(value):
                warnings.append(f"region {value!r} is not an ISO 3166-2 code (e.g. US-CA)")
            elif "country" not in fields:
                fields["country"] = value[:2]
        return fields, warnings
    return _dirty_fields(header, cells)


def _categories(value: str) -> list[str]:
    """The ``exposed`` cell: ;-separated codes, lower case, each once, in the row's order (a
    list of its own for each row; a list holds a few distinct cells, each parsed once)."""
    known = _SEEN_CATEGORIES.get(value)
    if known is None:
        known = tuple(dict.fromkeys(c for c in (c.strip().lower() for c in value.split(";")) if c))
        if len(_SEEN_CATEGORIES) < 10_000:
            _SEEN_CATEGORIES[value] = known
    return list(known)


_SEEN_CATEGORIES: dict[str, tuple[str, ...]] = {}


def _dirty_fields(header: list[str], cells: list[str]) -> tuple[dict[str, Any], list[str]]:
    """:func:`_fields` for a row with control characters: each cleaned and warned about."""
    fields: dict[str, Any] = {}
    warnings: list[str] = []
    for name, raw in zip(header, cells, strict=True):
        if name == "email":
            continue
        value, changed = _clean(raw)
        if changed:
            warnings.append(f"control characters (line breaks) removed from {name!r}")
        if not value:
            continue  # empty cells are absent: a template that needs one fails loudly
        if name == "exposed":
            fields[name] = _categories(value)
            continue
        if name == "country":
            value = value.upper()
            if not _COUNTRY.match(value):
                warnings.append(f"country {value!r} is not an ISO 3166-1 alpha-2 code (e.g. DE, US)")
        elif name == "region":
            value = value.upper()
            if not _REGION.match(value):
                warnings.append(f"region {value!r} is not an ISO 3166-2 code (e.g. US-CA)")
        fields[name] = value
    if "region" in fields and "country" not in fields and _REGION.match(fields["region"]):
        fields["country"] = fields["region"][:2]
    return fields, warnings


def read_list(
    path: Path, *, check_deliverability: bool = False, dns_resolver: Any = None
) -> Generator[ListRow, None, None]:
    """Yield one ListRow per data row of the CSV at ``path``.

    Raises ListError when the file cannot be used at all: missing, empty, or
    without an email column. Rows with problems are yielded as rejects.
    """
    if not path.exists() or path.is_dir():
        raise ListError(f"{path}: list file not found", hint="check [lists] files in notify.toml or --list")
    bad_lines: dict[int, str] = {}
    lines = _lines(path, bad_lines)
    first = next(lines, None)
    while first is not None and not first.strip():
        first = next(lines, None)
    if first is None:
        raise ListError(f"{path}: the file is empty", hint="export the list again with a header row")
    delimiter = _sniff_delimiter(first)

    def all_lines() -> Iterator[str]:
        yield first
        yield from lines

    reader = csv.reader(all_lines(), delimiter=delimiter, strict=False)
    header_cells = next(reader)
    header = [_clean(h)[0].lower().replace(" ", "_") for h in header_cells]
    email_cols = [i for i, h in enumerate(header) if h in _EMAIL_ALIASES]
    if not email_cols:
        raise ListError(
            f"{path}:1: no email column in the header (found: {', '.join(header) or 'nothing'})",
            hint="name the address column 'email'",
        )
    header[email_cols[0]] = "email"
    if len(set(header)) != len(header):
        dupes = sorted({h for h in header if header.count(h) > 1})
        raise ListError(f"{path}:1: columns appear twice: {', '.join(dupes)}", hint="rename or remove one")
    email_at = email_cols[0]
    source = str(path)
    domains = _DomainCheck(dns_resolver) if check_deliverability else None
    addresses = AddressCheck()
    prev_end = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            line = prev_end + 1
            prev_end = reader.line_num
            yield ListRow(None, Reject(source, line, f"not readable as CSV: {exc}", "malformed", ""))
            continue
        start, end = prev_end + 1, reader.line_num
        prev_end = end
        if not "".join(cells).strip():
            continue  # a blank line is not a recipient
        raw = delimiter.join(cells)
        bad = [bad_lines[n] for n in range(start, end + 1) if n in bad_lines] if bad_lines else None
        if bad:
            yield ListRow(None, Reject(source, start, bad[0], "malformed", raw))
            continue
        if end - start + 1 > MAX_ROW_LINES:
            yield ListRow(
                None,
                Reject(
                    source,
                    start,
                    f'row runs from line {start} to {end}: a quote (") is probably not closed',
                    "malformed",
                    raw[:500],
                ),
            )
            continue
        if len(cells) != len(header):
            yield ListRow(
                None,
                Reject(
                    source,
                    start,
                    f"has {len(cells)} fields, the header has {len(header)}"
                    + (" (an unquoted delimiter in a value?)" if len(cells) > len(header) else ""),
                    "malformed",
                    raw,
                ),
            )
            continue
        fields, warnings = _fields(header, cells)
        address, changed = _clean(cells[email_at])
        if not address:
            yield ListRow(None, Reject(source, start, "the email cell is empty", "invalid", raw, "", fields))
            continue
        if changed:
            yield ListRow(
                None,
                Reject(
                    source,
                    start,
                    "the address contains line breaks or control characters",
                    "invalid",
                    raw,
                    address,
                    fields,
                ),
            )
            continue
        try:
            valid = addresses.check(address)
            if domains is not None:
                warning = domains.check(valid.ascii_domain, valid.domain)
                if warning:
                    warnings.append(warning)
        except EmailNotValidError as exc:
            yield ListRow(
                None, Reject(source, start, f"invalid address: {exc}", "invalid", raw, address, fields)
            )
            continue
        email = valid.ascii_email or valid.normalized
        recipient = Recipient(
            email=email,
            key=dedupe_key(valid.normalized),
            source=source,
            line=start,
            fields=fields,
            smtputf8=valid.ascii_email is None,
        )
        yield ListRow(recipient, None, tuple(warnings))
