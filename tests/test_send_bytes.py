"""The cheap send path builds and signs exactly the bytes the careful one did (issue 15)."""

from __future__ import annotations

from email import message_from_bytes
from email.message import Message

import dkim
from dkim.canonicalization import Relaxed
from hypothesis import given, settings
from hypothesis import strategies as st

from notifier.models import Rendered
from notifier.render.mime import MessageTemplate, _html_part, _Lines, _text_part
from notifier.render.signing import Signer, load_key, split_message

from .authzone import Keys
from .dnsserver import DnsServer
from .test_signing import dnsfunc_for

# Text as templates and values make it: words, runs of spaces, tabs, every kind of line end,
# dots and equals signs at line starts, non-ASCII letters, control characters, long lines.
_PIECES = ["a", "word", " ", "  ", "\t", "\n", "\r\n", "\r", ".", "=", "=_", "é", "’", "\u202f", "\x00",
           "\x0b", "x" * 80, "y" * 1000, "From "]  # fmt: skip
texts = st.lists(st.sampled_from(_PIECES), max_size=40).map("".join)


@settings(max_examples=400)
@given(texts)
def test_a_text_part_encoded_line_by_line_equals_the_whole_part_encoded_at_once(text: str) -> None:
    """Each text part is byte for byte what encoding it whole gives, the first time and from the cache."""
    lines = _Lines(html=False)
    first = lines.encode(text)[:2]
    assert first == _text_part(text)
    assert lines.encode(text)[:2] == first


@settings(max_examples=400)
@given(texts)
def test_an_html_part_encoded_line_by_line_equals_the_whole_part_encoded_at_once(html: str) -> None:
    """Each HTML part is byte for byte what encoding it whole gives, the first time and from the cache."""
    lines = _Lines(html=True)
    first = lines.encode(html)[:2]
    assert first == _html_part(html)
    assert lines.encode(html)[:2] == first


def test_a_trailing_space_at_the_soft_break_column_is_encoded_as_the_whole_part_encodes_it() -> None:
    """b2a_qp places the "=20" of a line's trailing space before or after its last soft break
    depending on whether a line break follows; a line is encoded as it stands in the part (a
    property run found "...From \\n" encoded differently once)."""
    text = "é" + "y" * 63 + "From \n"
    assert _Lines(html=False).encode(text)[:2] == _text_part(text)


def _template() -> MessageTemplate:
    return MessageTemplate(from_header="", from_display="Sec", from_address="security@example.com")


@settings(max_examples=400)
@given(texts, texts)
def test_a_body_said_to_be_canonical_is_left_as_it_is_by_dkim_canonicalisation(text: str, html: str) -> None:
    """The builder only says a body needs no DKIM canonicalisation when dkimpy's relaxed
    canonicalisation would indeed leave it unchanged."""
    built = _template().build_message(
        Rendered("Hi", html, text), to_address="a@example.org", to_display="A", message_id="<m1@example.com>"
    )
    body = split_message(built.data)[1]
    if built.canonical_body:
        assert Relaxed.canonicalize_body(body) == body


def test_a_typical_notice_body_is_found_canonical() -> None:
    """An ordinary notice (single spaces, no trailing blanks) skips the signer's body scan."""
    built = _template().build_message(
        Rendered("Hi", "<p>Dear Ana,</p>\n<p>We are sorry.</p>\n", "Dear Ana,\n\nWe are sorry — truly.\n"),
        to_address="a@example.org",
        to_display="A",
        message_id="<m1@example.com>",
    )
    assert built.canonical_body


def _parts(data: bytes) -> list[Message]:
    return [p for p in message_from_bytes(data).walk() if not p.is_multipart()]


@settings(max_examples=60, deadline=None)
@given(texts, texts)
def test_signed_messages_verify_with_dkimpy_whatever_their_bodies(
    keys: Keys, auth_dns: DnsServer, text: str, html: str
) -> None:
    """A message signed on the fast path (body hashed as built) verifies with dkimpy."""
    key = load_key(keys.main, domain="example.com", selector="s1")
    built = _template().build_message(
        Rendered("Hi", html, text), to_address="a@example.org", to_display="A", message_id="<m2@example.com>"
    )
    signed = Signer([key]).sign(built.data, canonical_body=built.canonical_body)
    assert dkim.verify(signed, dnsfunc=dnsfunc_for(auth_dns))
    assert signed.endswith(built.data)
    assert len(_parts(signed)) == 2


def test_a_claimed_row_crosses_to_a_sending_process_whole() -> None:
    """Every field of a claimed row and its recipient reaches the sending process unchanged (a
    field added later must be added to the pipe's tuple too: this test names them)."""
    from dataclasses import fields

    from notifier.ledger import Claimed
    from notifier.models import Outcome, Recipient
    from notifier.pipeline.workers import _pack, _unpack

    assert [f.name for f in fields(Claimed)] == ["row", "recipient", "attempts", "first_attempt_at",
                                                 "possibly_duplicated"]  # fmt: skip
    assert [f.name for f in fields(Recipient)] == ["email", "key", "source", "line", "fields", "smtputf8"]
    assert [f.name for f in fields(Outcome)] == ["verdict", "code", "text", "queue_id", "at", "command",
                                                 "possibly_delivered"]  # fmt: skip
    who = Recipient("zoë@example.org", "zoë@example.org", "b.csv", 7, {"first_name": "Zoë"}, True)
    claimed = Claimed(41, who, 2, 1765000000.5, True)
    assert _unpack(_pack(claimed, {"offer": {"code": "X"}})) == (claimed, {"offer": {"code": "X"}})
