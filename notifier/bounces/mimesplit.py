"""A bounce's MIME structure read in one pass over its lines: the message tree the stdlib's
``email.message_from_bytes`` builds (compat32 :class:`email.message.Message` objects, the same
headers, payloads, preamble and epilogue), for the well-formed shapes bounces take, at a
fraction of the cost of the stdlib's feed parser, which reads every line through a stack of
end-of-part tests.

It follows the feed parser's rules (``email.feedparser``, Python 3.11) step by step: headers up
to the first empty line, each unfolded by the policy's own ``header_source_parse``; a
``message/delivery-status`` body as blocks of fields with an empty line between them; any other
``message/*`` body as a message of its own; a multipart split at its boundary lines (RFC 2046:
the line end before a boundary belongs to the boundary, repeated boundary lines make no empty
part, a missing closing boundary ends the last part at the end of the text). Anything it was
not written for (a CR, a field without a name, a continuation line with no field before it, an
envelope ``From`` line last among the fields, a digest) goes to the stdlib parser, and so does
any error, so the answer is always the stdlib's.
"""

from __future__ import annotations

import email
import email.message
import re
from email import errors

__all__ = ["message_from"]

_HEADER = re.compile(r"[\041-\071\073-\176]+:")  # a field name and its colon (RFC 5322 2.2)
_FIELD_LINE = re.compile(r"From |[\041-\071\073-\176]*:|[\t ]")  # what the stdlib takes for a field line
_EOL_AT_END = re.compile(r"(\r\n|\r|\n)\Z")
Lines = list[str]


class _Unusual(Exception):
    """A shape this reader leaves to the stdlib parser."""


def message_from(raw: bytes) -> email.message.Message:
    """What ``email.message_from_bytes(raw)`` gives."""
    if not raw or b"\r" in raw:
        return email.message_from_bytes(raw)
    text = raw.decode("ascii", errors="surrogateescape")
    pieces = text.split("\n")
    lines = [piece + "\n" for piece in pieces[:-1]]
    if pieces[-1]:
        lines.append(pieces[-1])
    try:
        return _message(lines, 0, len(lines))[0]
    except Exception:  # _Unusual; RecursionError on absurd nesting; a shape not foreseen
        return email.message_from_bytes(raw)  # the stdlib's answer, whatever it is


def _message(lines: Lines, start: int, end: int) -> tuple[email.message.Message, email.message.Message]:
    """(the message in ``lines[start:end]``, the last message made while reading it: the one
    whose trailing line end belongs to an enclosing boundary)."""
    msg = email.message.Message()
    at = _headers(msg, lines, start, end)
    ctype = msg.get_content_type()
    if ctype == "message/delivery-status":
        return msg, _status_blocks(msg, lines, at, end)
    maintype = ctype.partition("/")[0]
    if maintype == "message":
        inner, last = _message(lines, at, end)
        msg.attach(inner)
        return msg, last
    if maintype == "multipart":
        _multipart(msg, ctype, lines, at, end)
        return msg, msg
    msg.set_payload("".join(lines[at:end]))
    return msg, msg


def _headers(
    msg: email.message.Message, lines: Lines, start: int, end: int, stop_at_blank: bool = True
) -> int:
    """Read the header fields from ``start`` into ``msg``; where its body starts (after the
    empty line, which is consumed; or at a line that cannot be a field, which the body keeps)."""
    fields = msg._headers  # type: ignore[attr-defined]
    field: Lines = []
    at = start
    while at < end:
        line = lines[at]
        if line == "\n":
            at += stop_at_blank
            break
        if line[0] in " \t":
            if not field:
                raise _Unusual  # a continuation with no field before it
            field.append(line)
        elif _HEADER.match(line):
            if field:
                fields.append(_field(field))
            field = [line]
        elif line.startswith("From ") and at == start:
            msg.set_unixfrom(line[:-1] if line.endswith("\n") else line)  # the mbox envelope line
        elif line.startswith("From ") and at + 1 < end and _FIELD_LINE.match(lines[at + 1]):
            # An envelope line amid the fields: dropped, and it ends the field before it.
            msg.policy.handle_defect(msg, errors.MisplacedEnvelopeHeaderDefect(line))
            if field:
                fields.append(_field(field))
            field = []
        elif line.startswith(("From ", ":")):
            raise _Unusual  # an envelope line last, or a field without a name
        else:
            # Body text where a field should be: the body starts here (as the stdlib reads it).
            msg.policy.handle_defect(msg, errors.MissingHeaderBodySeparatorDefect())
            break
        at += 1
    if field:
        fields.append(_field(field))
    return at


def _field(lines: Lines) -> tuple[str, str]:
    """One field unfolded as compat32's ``header_source_parse`` does it."""
    name, value = lines[0].split(":", 1)
    value = value.lstrip(" \t") + "".join(lines[1:])
    return name, value.rstrip("\r\n")


def _status_blocks(msg: email.message.Message, lines: Lines, start: int, end: int) -> email.message.Message:
    """The field blocks of a delivery-status body, each a message of its own with an empty
    body; an empty line ends a block (RFC 3464 2.1). Returns the last block."""
    at, last = start, msg
    while True:
        block = email.message.Message()
        msg.attach(block)
        last = block
        at = _headers(block, lines, at, end, stop_at_blank=False)
        if block.get_content_maintype() in ("message", "multipart"):
            raise _Unusual
        body = at  # text where a field should be: the block's body, up to the empty line
        while at < end and lines[at] != "\n":
            at += 1
        block.set_payload("".join(lines[body:at]))
        if at < end:
            at += 1  # the empty line after the block
        if at >= end:
            return last


def _multipart(msg: email.message.Message, ctype: str, lines: Lines, start: int, end: int) -> None:
    boundary = msg.get_boundary()
    if ctype == "multipart/digest":
        raise _Unusual  # its parts default to message/rfc822
    if boundary is None:
        msg.policy.handle_defect(msg, errors.NoBoundaryInMultipartDefect())
        msg.set_payload("".join(lines[start:end]))
        return
    if str(msg.get("content-transfer-encoding", "8bit")).lower() not in ("7bit", "8bit", "binary"):
        msg.policy.handle_defect(msg, errors.InvalidMultipartContentTransferEncodingDefect())
    is_boundary = re.compile(
        "(?P<sep>" + re.escape("--" + boundary) + r")(?P<end>--)?(?P<ws>[ \t]*)(?P<linesep>\r\n|\r|\n)?$"
    ).match
    at = start
    while at < end and not is_boundary(lines[at]):
        at += 1
    if at >= end or is_boundary(lines[at]).group("end"):  # type: ignore[union-attr]
        # No opening boundary: all before the first boundary is the payload; the rest is read
        # and dropped (the stdlib's epilogue stays empty here).
        msg.policy.handle_defect(msg, errors.StartBoundaryNotFoundDefect())
        msg.set_payload("".join(lines[start:at]))
        msg.epilogue = ""
        return
    if at > start:
        preamble = lines[start:at]
        preamble[-1] = _without_eol(preamble[-1])
        msg.preamble = "".join(preamble)
    while True:
        at += 1  # the boundary line, and any repeated right after it
        while at < end and is_boundary(lines[at]):
            at += 1
        if at >= end:
            # A boundary line last: the stdlib reads one more part, with nothing in it.
            empty = email.message.Message()
            empty.set_payload("")
            msg.attach(empty)
            return
        stop = at
        while stop < end and not is_boundary(lines[stop]):
            stop += 1
        part, last = _message(lines, at, stop)
        msg.attach(part)
        if last.get_content_maintype() == "multipart":
            if last.epilogue == "":
                last.epilogue = None
            elif last.epilogue is not None:
                last.epilogue = _without_eol(last.epilogue)
        elif isinstance(last._payload, str):  # type: ignore[attr-defined]
            last._payload = _without_eol(last._payload)  # type: ignore[attr-defined]
        at = stop
        if at >= end:
            return  # no closing boundary: the last part runs to the end
        closing = is_boundary(lines[at])
        if closing is not None and closing.group("end"):
            # Everything after the closing boundary line (whose line end is its own).
            msg.epilogue = "".join(lines[at + 1 : end])
            return


def _without_eol(text: str) -> str:
    found = _EOL_AT_END.search(text)
    return text[: -len(found.group(0))] if found else text
