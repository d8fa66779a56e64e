"""``[letters]`` in notify.toml: paper, where the envelope windows fall, the return address, and
how letters are batched (notifier.letters.geometry holds the defaults and their sources)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from notifier.errors import ConfigError
from notifier.letters.geometry import BOX_HINT, CLEARANCE, PAPERS, Layout, default_layout, parse_box

__all__ = ["LetterSettings", "read_letters"]


@dataclass(frozen=True, slots=True)
class LetterSettings:
    layout: Layout = field(default_factory=Layout)
    batch_size: int = 100  # letters per batch PDF
    workers: int = 2  # processes printing batches side by side
    home_country: str = "US"  # addresses in this country are printed without a country line


def read_letters(cfg: dict[str, Any], path: str, lines: dict[str, int]) -> LetterSettings:
    """The [letters] table (its types are already checked by the schema). Raises ConfigError."""
    table = cfg.get("letters", {})
    paper = str(table.get("paper", "letter")).lower()
    if paper not in PAPERS:
        raise ConfigError(
            f"[letters] paper {paper!r} is not letter or a4",
            path=path,
            line=lines.get("letters.paper"),
            key="letters.paper",
        )
    layout = default_layout(paper)
    for key in ("address_box", "return_box"):
        if key in table:
            try:
                box = parse_box(table[key], paper=paper)
                layout = (
                    replace(layout, address_box=box)
                    if key == "address_box"
                    else replace(layout, return_box=box)
                )
            except ValueError as exc:
                raise ConfigError(
                    f"[letters] {key} {exc}",
                    path=path,
                    line=lines.get(f"letters.{key}"),
                    key=f"letters.{key}",
                    hint=f"the part of the page that shows through the window, as {BOX_HINT}",
                ) from None
    back = tuple(str(line) for line in table.get("return_address", []))
    layout = replace(layout, return_address=back)
    fits = int((layout.return_box.height - 2 * CLEARANCE) * 72 // 11)  # 9 pt on 11 pt lines
    if len(back) > fits:
        raise ConfigError(
            f"[letters] return_address has {len(back)} lines; at most {fits} fit the upper window",
            path=path,
            line=lines.get("letters.return_address"),
            key="letters.return_address",
        )
    return LetterSettings(
        layout=layout,
        batch_size=int(table.get("batch_size", 100)),
        workers=int(table.get("workers", 2)),
        home_country=str(table.get("home_country", "US" if paper == "letter" else "")).upper(),
    )
