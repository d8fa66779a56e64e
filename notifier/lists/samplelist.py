"""A synthetic subscriber list: made-up people at reserved example domains (RFC 2606).

Deterministic for a given seed, so ``lists/subscribers.csv`` can be regenerated and
checked. Nobody in it is real.

It carries the channel evidence a real list would (README "Letters and other channels"): most
people gave consent to electronic notice (``consent``, ``consent_scope``, ``primary_channel``
email), some are customarily written to and have only a postal address (in the US, a letter),
and a few have neither (no lawful channel: the loud path of `notify send` and `notify channels`).
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterator

__all__ = ["COLUMNS", "generate", "rows", "write_csv"]

COLUMNS = (
    "id",
    "email",
    "first_name",
    "last_name",
    "locale",
    "country",
    "region",
    "exposed",
    "consent",
    "consent_scope",
    "primary_channel",
    "postal_line1",
    "postal_city",
    "postal_region",
    "postal_postcode",
    "postal_country",
)

_FIRST = (
    "Alex",
    "Sam",
    "Maria",
    "José",
    "Zoë",
    "Priya",
    "Chen",
    "Fatima",
    "Liam",
    "Emma",
    "Noah",
    "Olivia",
    "Lukas",
    "Sofia",
    "Mateo",
    "Aoife",
    "Jonas",
    "Chloé",
    "Ines",
    "Tariq",
    "Hannah",
    "Björn",
    "Grace",
    "Yusuf",
)
_LAST = (
    "Smith",
    "García",
    "Müller",
    "Dubois",
    "Murphy",
    "Rossi",
    "Jansen",
    "Kowalski",
    "Nguyen",
    "Okafor",
    "Johnson",
    "Brown",
    "Lopez",
    "Schmidt",
    "Martin",
    "O'Brien",
    "Silva",
    "Novak",
    "Kim",
    "Patel",
)
_PLACES: tuple[tuple[str, str, str, int], ...] = (
    # country, region, locale, weight
    ("US", "US-CA", "en-US", 14),
    ("US", "US-NY", "en-US", 8),
    ("US", "US-TX", "en-US", 7),
    ("US", "US-FL", "en-US", 6),
    ("US", "US-WA", "en-US", 4),
    ("US", "US-CO", "en-US", 3),
    ("US", "US-MA", "en-US", 3),
    ("DE", "", "de-DE", 10),
    ("FR", "", "fr-FR", 8),
    ("IE", "", "en-IE", 5),
    ("GB", "", "en-GB", 10),
    ("NL", "", "nl-NL", 5),
    ("ES", "", "es-ES", 5),
    ("IT", "", "it-IT", 4),
    ("CA", "CA-ON", "en-CA", 4),
    ("AU", "AU-NSW", "en-AU", 4),
)
_EXPOSED = (
    ("email;name", 30),
    ("email;name;postal_address", 20),
    ("email;name;phone", 10),
    ("email;password_hash", 12),
    ("email;name;date_of_birth", 8),
    ("email;name;purchase_history", 6),
    ("email;name;password_hash;security_questions", 4),
    ("email;name;ssn", 2),
    ("", 8),
)
_DOMAINS = ("example.com", "example.org", "example.net")
# A city and postcode for each place (postal_region: the part of `region` after the country).
_TOWNS: dict[tuple[str, str], tuple[str, str]] = {
    ("US", "US-CA"): ("Sacramento", "95814"),
    ("US", "US-NY"): ("Albany", "12207"),
    ("US", "US-TX"): ("Austin", "73301"),
    ("US", "US-FL"): ("Tallahassee", "32301"),
    ("US", "US-WA"): ("Olympia", "98501"),
    ("US", "US-CO"): ("Denver", "80202"),
    ("US", "US-MA"): ("Boston", "02108"),
    ("DE", ""): ("Berlin", "10115"),
    ("FR", ""): ("Paris", "75001"),
    ("IE", ""): ("Dublin", "D02 X285"),
    ("GB", ""): ("London", "SW1A 1AA"),
    ("NL", ""): ("Amsterdam", "1012 JS"),
    ("ES", ""): ("Madrid", "28001"),
    ("IT", ""): ("Roma", "00184"),
    ("CA", "CA-ON"): ("Toronto", "M5H 2N2"),
    ("AU", "AU-NSW"): ("Sydney", "2000"),
}
# Shares of the channel evidence: consent to electronic notice (some of them also with a postal
# address), written to by post with an address only, and neither (no lawful channel in the US).
_CONSENTED, _POSTAL_ONLY = 0.82, 0.165


def rows(count: int, *, seed: int = 2026) -> Iterator[dict[str, str]]:
    """Yield ``count`` synthetic people, the same ones for the same seed."""
    rng = random.Random(seed)
    places = [p for p in _PLACES for _ in range(p[3])]
    exposed = [e for e, w in _EXPOSED for _ in range(w)]
    evidence = random.Random(f"{seed}-channels")  # its own stream: the other columns stay as they were
    for i in range(1, count + 1):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        country, region, locale, _ = rng.choice(places)
        ascii_first = first.encode("ascii", "ignore").decode() or "person"
        local = f"{ascii_first}.{last.encode('ascii', 'ignore').decode()}.{i}".lower().replace("'", "")
        row = {
            "id": f"S{i:06d}",
            "email": f"{local}@{_DOMAINS[i % len(_DOMAINS)]}",
            "first_name": first,
            "last_name": last,
            "locale": locale,
            "country": country,
            "region": region,
            "exposed": rng.choice(exposed),
        }
        yield _with_evidence(row, rng.randint(1, 250), evidence)


def _with_evidence(row: dict[str, str], number: int, rng: random.Random) -> dict[str, str]:
    """``row`` with its channel evidence columns (``number``: the street number of its address)."""
    draw = rng.random()
    consented = draw < _CONSENTED
    has_address = (not consented and draw < _CONSENTED + _POSTAL_ONLY) or (consented and rng.random() < 0.6)
    given = f"{rng.randint(2019, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    row["consent"] = given if consented else ""
    row["consent_scope"] = "esign;express" if consented else ""
    row["primary_channel"] = "email" if consented else ("postal" if has_address else "")
    town, postcode = _TOWNS[(row["country"], row["region"])] if has_address else ("", "")
    row["postal_line1"] = f"{number} Example Street" if has_address else ""
    row["postal_city"] = town
    row["postal_region"] = row["region"].partition("-")[2] if has_address else ""
    row["postal_postcode"] = postcode
    row["postal_country"] = row["country"] if has_address else ""
    return row


def write_csv(count: int, out: io.TextIOBase | io.StringIO, *, seed: int = 2026) -> None:
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows(count, seed=seed))


def generate(count: int = 1000, *, seed: int = 2026) -> str:
    buf = io.StringIO()
    write_csv(count, buf, seed=seed)
    return buf.getvalue()


if __name__ == "__main__":  # python -m notifier.lists.samplelist > lists/subscribers.csv
    import sys

    sys.stdout.write(generate())
