"""Reading a bounce's MIME structure in one pass gives exactly the message tree the stdlib's
parser gives (headers, payloads, preamble, epilogue, nesting), and so exactly the same parsed
bounce (issue 15: "the same answers")."""

from __future__ import annotations

import email
import email.message
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifier.bounces import parse
from notifier.bounces.mime import without_returned_body
from notifier.bounces.mimesplit import message_from
from notifier.bounces.parse import parse_bounce

DATA = Path(__file__).parent / "data" / "bounces"
DEV = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "bounces-dev" / "samples"
FILES = sorted(DATA.glob("*.eml")) + (sorted(DEV.iterdir()) if DEV.is_dir() else [])


def tree(msg: email.message.Message) -> Any:
    """Everything a parsed message holds, nested parts included."""
    payload = msg._payload  # type: ignore[attr-defined]
    parts = [tree(p) for p in payload] if isinstance(payload, list) else payload
    return (msg._headers, parts, msg.preamble, msg.epilogue, msg.get_default_type(), msg.get_unixfrom())  # type: ignore[attr-defined]


def forms(raw: bytes) -> list[bytes]:
    """A message as stored, with LF line ends, and as parse_bounce reads it (the returned
    original's body cut off)."""
    lf = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return [raw, lf, without_returned_body(lf)]


def test_every_bounce_we_hold_reads_as_the_stdlib_reads_it() -> None:
    """For every fixture and every sample of the dev corpus, in every form we parse, the tree is
    the stdlib's."""
    assert FILES
    for path in FILES:
        for raw in forms(path.read_bytes()):
            assert tree(message_from(raw)) == tree(email.message_from_bytes(raw)), path.name


def test_every_bounce_we_hold_parses_to_the_same_answer_with_either_reader(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """parse_bounce says the same about every message (every field) whichever reader builds
    the tree."""
    raws = [path.read_bytes() for path in FILES]
    fast = [json.dumps(parse_bounce(raw).as_dict()) for raw in raws]
    monkeypatch.setattr(parse, "message_from", email.message_from_bytes)
    assert fast == [json.dumps(parse_bounce(raw).as_dict()) for raw in raws]


_LINES = [
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B"',
    'Content-Type: multipart/mixed; boundary="C"',
    "Content-Type: multipart/mixed",
    "Content-Type: message/delivery-status",
    "Content-Type: message/rfc822",
    "Content-Type: text/rfc822-headers",
    'Content-Type: multipart/digest; boundary="B"',
    "Content-Transfer-Encoding: base64",
    "Final-Recipient: rfc822; ana@example.com",
    "Action: failed",
    "Subject: Undelivered",
    "\tfolded on",
    " folded",
    "",
    "",
    "--B",
    "--B--",
    "--B  ",
    "--C",
    "--C--",
    "--BB",
    "From MAILER-DAEMON Mon Dec  1 08:00:00 2026",
    "From: MAILER-DAEMON@example.net",
    ":no name",
    "plain text, not a field",
    "550 5.1.1 user unknown",
    "caf\xe9",
]


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_LINES), max_size=40), st.booleans())
def test_any_arrangement_of_fields_boundaries_and_blank_lines_reads_as_the_stdlib_reads_it(
    lines: list[str], last_line_ends: bool
) -> None:
    """Messages made of fields, folds, blank lines, boundaries (opening, closing, repeated,
    missing), envelope lines, nameless fields and body text in any order give the stdlib's
    tree."""
    text = "\n".join(lines) + ("\n" if last_line_ends else "")
    raw = text.encode("latin-1")
    assert tree(message_from(raw)) == tree(email.message_from_bytes(raw))
