"""What every family's reader needs: a header as one line (read once per message), the names of
a message's headers, the lines about a recipient."""

from __future__ import annotations

import email.message

__all__ = ["has_header", "header", "header_names", "lines_about"]

# What the families ask of a message's headers, kept on the message: each family asks for the
# Subject, the From, ..., and ``msg.get`` walks every header at every call.
_ASKED = "_notify_family_headers"


def _asked(msg: email.message.Message) -> dict[str, object]:
    kept: dict[str, object] | None = vars(msg).get(_ASKED)
    if kept is None:
        kept = vars(msg)[_ASKED] = {}
    return kept


def header(msg: email.message.Message, name: str) -> str:
    """The header ``name`` of ``msg`` as one line ("" when absent), asked once per message."""
    kept = _asked(msg)
    value = kept.get(name)
    if not isinstance(value, str):
        value = kept[name] = " ".join(str(msg.get(name) or "").split())
    return value


def header_names(msg: email.message.Message) -> frozenset[str]:
    """The names of ``msg``'s headers, lower-case (one pass over them per message)."""
    kept = _asked(msg)
    names = kept.get("")
    if not isinstance(names, frozenset):
        names = kept[""] = frozenset(k.lower() for k in msg)
    return names


def has_header(msg: email.message.Message, name: str) -> bool:
    """Whether ``msg`` has a header called ``name`` (lower-case)."""
    return name in header_names(msg)


def lines_about(body: str, address: str) -> str:
    """The recipient's diagnostic lines: those that name it, and for reports that put the
    reason on the line after ("because:", an indented MSEXCH line) the next two lines."""
    lines = body.splitlines()
    out: list[str] = []
    for i, line in enumerate(lines):
        if address in line.lower():
            out.extend(lines[i : i + 3])
    return "\n".join(out)
