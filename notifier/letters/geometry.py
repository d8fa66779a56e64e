"""Where things go on a printed letter: paper sizes, the envelope window, the address block.

Every length is kept in inches (PDF points / 72). Facts (reference notice-channels §2.3):

- the recipient block of a #10 double-window envelope, as PostalMethods places it on a US
  Letter sheet: 0.5" from the left, 2.042" from the top, at most 3.5" wide and 0.875" high;
  the return block at 0.5" / 0.5", at most 3.5" x 0.792"; the body from 3 3/8" down;
- at least 1/8" clearance between the address and the window's edge on every side
  (mail.uic.edu), so the configured ``address_box`` is the part of the page that shows through
  the window and the address is printed 1/8" inside it;
- the address in capitals, sans-serif, 8–18 pt (10–12 recommended), at least 2 pt between
  lines, punctuation left out (PostalMethods' USPS notes).

The A4 default follows DIN 5008 form B and a DL window envelope (address field 20 mm from the
left, 45 mm from the top, 85 x 45 mm): that is not in the reference — VERIFY against the
envelopes the mail house uses, and set ``[letters] address_box`` to match.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "BOX_HINT",
    "Box",
    "CLEARANCE",
    "Layout",
    "PAPERS",
    "address_lines",
    "default_layout",
    "fit_size",
    "parse_box",
    "text_width",
]

CLEARANCE = 0.125  # inches between the address and the window edge (mail.uic.edu)
PAPERS = {"letter": (8.5, 11.0), "a4": (210 / 25.4, 297 / 25.4)}
ADDRESS_PT = 10.0  # 10–12 pt recommended; we shrink to MIN_PT to fit a long line
MIN_PT = 8.0  # the smallest size the USPS notes allow
LEADING = 2.0  # points between lines, at least 2 (PostalMethods)


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle on the page, in inches from the page's top-left corner."""

    left: float
    top: float
    width: float
    height: float

    def inset(self, by: float) -> Box:
        return Box(self.left + by, self.top + by, self.width - 2 * by, self.height - 2 * by)

    @property
    def bottom(self) -> float:
        return self.top + self.height

    def as_points(self) -> tuple[float, float, float, float]:
        """(x0, top, x1, bottom) in PDF points measured from the top, as pdfplumber reports."""
        return (self.left * 72, self.top * 72, (self.left + self.width) * 72, self.bottom * 72)


@dataclass(frozen=True, slots=True)
class Layout:
    """The geometry of one campaign's letters ([letters] in notify.toml)."""

    paper: str = "letter"
    address_box: Box = Box(0.375, 1.917, 3.75, 1.125)  # the window: PostalMethods block + 1/8"
    return_box: Box = Box(0.375, 0.375, 3.75, 1.042)  # the upper window: return block + 1/8"
    return_address: tuple[str, ...] = ()
    margin: float = 0.75  # left/right, and the top of pages after the first
    body_top: float = 3.375  # where the first page's text starts (PostalMethods: 3 3/8")

    @property
    def size(self) -> tuple[float, float]:
        return PAPERS[self.paper]

    @property
    def address_area(self) -> Box:
        """Where the address is printed: the window less the clearance on every side."""
        return self.address_box.inset(CLEARANCE)

    def max_lines(self, size: float = MIN_PT) -> int:
        return int((self.address_area.height * 72 + LEADING) // (size + LEADING))


def default_layout(paper: str) -> Layout:
    if paper == "a4":
        mm = 1 / 25.4
        return Layout(
            paper="a4",
            address_box=Box(20 * mm, 45 * mm, 85 * mm, 45 * mm),
            return_box=Box(20 * mm, 15 * mm, 85 * mm, 25 * mm),
            margin=20 * mm,
            body_top=100 * mm,
        )
    return Layout()


_LENGTH = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(in|mm|cm|pt)?\s*$")
_UNITS = {"in": 1.0, "mm": 1 / 25.4, "cm": 1 / 2.54, "pt": 1 / 72}


BOX_HINT = (
    'four lengths: left top width height, e.g. "0.375in 1.917in 3.75in 1.125in" or "20mm 45mm 85mm 45mm"'
)


def parse_box(value: object, *, paper: str) -> Box:
    """``"0.375in 1.917in 3.75in 1.125in"``: left, top, width, height (a bare number is inches).
    Raises ValueError saying what is wrong when it is not four lengths that fit on the page."""
    parts = value.split() if isinstance(value, str) else None
    if parts is None or len(parts) != 4:
        raise ValueError(f"should be {BOX_HINT}")
    inches = []
    for part in parts:
        m = _LENGTH.match(part)
        if m is None:
            raise ValueError(f"{part!r} is not a length (in, mm, cm or pt)")
        inches.append(float(m.group(1)) * _UNITS[m.group(2) or "in"])
    box = Box(*inches)
    width, height = PAPERS[paper]
    small = box.width <= 2 * CLEARANCE or box.height <= 2 * CLEARANCE
    if small or box.left + box.width > width or box.bottom > height:
        raise ValueError(f"does not fit on {paper} paper with 1/8 in clearance inside it")
    return box


# Advance widths (1/1000 em) of Helvetica, which Liberation Sans and Arial match metric for
# metric; an address is printed in capitals, so capitals, digits and the marks left in it.
_WIDTHS = dict(
    zip(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 #-/&'",
        [
            667,
            667,
            722,
            722,
            667,
            611,
            778,
            722,
            278,
            500,
            667,
            556,
            833,
            722,
            778,
            667,
            778,
            722,
            667,
            611,
            722,
            667,
            944,
            667,
            667,
            611,
        ]
        + [556] * 10
        + [278, 556, 333, 278, 667, 191],
        strict=True,
    )
)


def text_width(text: str, size: float) -> float:
    """The printed width of ``text`` in points at ``size``; unknown characters count as 1 em."""
    total = 0
    for c in text:
        base = unicodedata.normalize("NFKD", c)[:1] or c  # É is as wide as E
        total += _WIDTHS.get(c, _WIDTHS.get(base, 1000))
    return total * size / 1000


_DROP = re.compile(r"[.,;:!?\"()\[\]{}]")


def address_lines(lines: list[str]) -> list[str]:
    """Address lines as the USPS reads them best: capitals, no punctuation, single spaces.
    Letters with accents keep them (é stays É): a foreign address must still be right."""
    out = []
    for line in lines:
        text = unicodedata.normalize("NFC", _DROP.sub(" ", line)).upper()
        text = " ".join(text.split())
        if text:
            out.append(text)
    return out


def fit_size(lines: list[str], layout: Layout) -> float | None:
    """The largest size from 10 pt down to 8 pt at which every line fits the address area
    and all lines fit its height; None when even 8 pt does not."""
    area = layout.address_area
    size = ADDRESS_PT
    while size >= MIN_PT:
        fits_height = len(lines) * size + (len(lines) - 1) * LEADING <= area.height * 72
        if fits_height and all(text_width(line, size) <= area.width * 72 for line in lines):
            return size
        size -= 0.5
    return None
