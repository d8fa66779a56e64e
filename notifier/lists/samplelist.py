"""A synthetic subscriber list: made-up people at reserved example domains (RFC 2606).

Deterministic for a given seed, so ``lists/subscribers.csv`` can be regenerated and
checked. Nobody in it is real.
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
    "postal_address",
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


def rows(count: int, *, seed: int = 2026) -> Iterator[dict[str, str]]:
    """Yield ``count`` synthetic people, the same ones for the same seed."""
    rng = random.Random(seed)
    places = [p for p in _PLACES for _ in range(p[3])]
    exposed = [e for e, w in _EXPOSED for _ in range(w)]
    for i in range(1, count + 1):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        country, region, locale, _ = rng.choice(places)
        ascii_first = first.encode("ascii", "ignore").decode() or "person"
        local = f"{ascii_first}.{last.encode('ascii', 'ignore').decode()}.{i}".lower().replace("'", "")
        yield {
            "id": f"S{i:06d}",
            "email": f"{local}@{_DOMAINS[i % len(_DOMAINS)]}",
            "first_name": first,
            "last_name": last,
            "locale": locale,
            "country": country,
            "region": region,
            "exposed": rng.choice(exposed),
            "postal_address": f"{rng.randint(1, 250)} Example Street, Exampletown",
        }


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
