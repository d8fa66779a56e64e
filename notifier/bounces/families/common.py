"""What every family's reader needs: a header as one line, the lines about a recipient."""

from __future__ import annotations

import email.message

__all__ = ["header", "lines_about"]


def header(msg: email.message.Message, name: str) -> str:
    return " ".join(str(msg.get(name) or "").split())


def lines_about(body: str, address: str) -> str:
    """The recipient's diagnostic lines: those that name it, and for reports that put the
    reason on the line after ("because:", an indented MSEXCH line) the next two lines."""
    lines = body.splitlines()
    out: list[str] = []
    for i, line in enumerate(lines):
        if address in line.lower():
            out.extend(lines[i : i + 3])
    return "\n".join(out)
