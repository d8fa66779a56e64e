"""Where each key sits in notify.toml, so an error can name the line to edit."""

from __future__ import annotations

import re

__all__ = ["key_lines"]


def key_lines(text: str) -> dict[str, int]:
    """Map dotted key paths ("throttle.rate", "segments.eu") to their line numbers.

    tomllib does not report positions, so this light scan of table headers and
    ``key =`` lines lets errors name the line a user has to edit.
    """
    lines: dict[str, int] = {}
    table = ""
    header = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
    assign = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_.\-"' ]+?)\s*=""")
    in_multiline = False
    for number, raw in enumerate(text.splitlines(), start=1):
        if in_multiline:
            if raw.count('"""') % 2 == 1 or raw.count("'''") % 2 == 1:
                in_multiline = False
            continue
        m = header.match(raw)
        if m:
            table = ".".join(p.strip().strip("\"'") for p in m.group(1).split("."))
            lines.setdefault(table, number)
            continue
        m = assign.match(raw)
        if m:
            key = ".".join(p.strip().strip("\"'") for p in m.group(1).split("."))
            lines.setdefault(f"{table}.{key}" if table else key, number)
            rest = raw[m.end() :]
            if rest.count('"""') % 2 == 1 or rest.count("'''") % 2 == 1:
                in_multiline = True
    return lines
