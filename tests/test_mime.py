"""Messages: well-formed RFC 5322/MIME that round-trips, with no way to inject a header."""

from __future__ import annotations

import email
import email.policy
import html as htmllib
from email.message import EmailMessage

from hypothesis import given, settings
from hypothesis import strategies as st

from notifier.models import Rendered
from notifier.render.mime import MessageTemplate, fold, header_safe

TEMPLATE = MessageTemplate(
    from_header="Example Security <security@example.com>",
    from_display="Example Security",
    from_address="security@example.com",
    reply_to="privacy@example.com",
)
MID = "<abcdefghijklmnop.breach-notice@example.com>"


def build(
    subject: str = "Notice of Data Breach",
    name: str = "Ana Lopez",
    html: str = "<p>x</p>",
    text: str = "x\n",
    to: str = "ana@example.com",
    utf8: bool = False,
) -> bytes:
    return TEMPLATE.build(
        Rendered(subject, html, text),
        to_address=to,
        to_display=name,
        message_id=MID,
        utf8=utf8,
        now=1_800_000_000,
    )


def parse(data: bytes) -> EmailMessage:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_message_has_the_headers_rfc5322_requires_once_each() -> None:
    msg = parse(build())
    for name in ("From", "To", "Subject", "Date", "Message-ID", "MIME-Version"):
        assert len(msg.get_all(name) or []) == 1, name
    assert msg["Message-ID"] == MID
    assert msg["Reply-To"] == "privacy@example.com"
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]


def test_every_line_ends_crlf_and_stays_under_998_octets() -> None:
    data = build(text="word " * 5000, html="<p>" + "x" * 5000 + "</p>", subject="s " * 200)
    lines = data.split(b"\r\n")
    assert all(b"\n" not in line and b"\r" not in line for line in lines)
    assert max(len(line) for line in lines) <= 998


@settings(max_examples=300)
@given(st.text(), st.text())
def test_no_name_or_subject_can_inject_a_header(name: str, subject: str) -> None:
    """Whatever a list or template puts in a name or subject, the header set is fixed."""
    data = build(subject=subject, name=name)
    msg = parse(data)
    assert sorted(k.lower() for k in msg) == sorted(
        ["from", "reply-to", "mime-version", "date", "message-id", "to", "subject", "content-type"]
    )
    assert msg["To"].addresses[0].addr_spec == "ana@example.com"


@given(st.text(alphabet=st.characters(codec="utf-8"), min_size=1))
def test_non_ascii_subjects_and_names_round_trip(value: str) -> None:
    msg = parse(build(subject=value, name=value))
    assert str(msg["Subject"]) == header_safe(value)


def test_bodies_round_trip_exactly() -> None:
    text = "Dear Zoë,\n\nLine with trailing space \nand a . alone:\n.\nend\n"
    html = "<p>Größe — 😀</p>\n"
    msg = parse(build(text=text, html=html))
    plain, rich = msg.get_body(("plain",)), msg.get_body(("html",))
    assert plain is not None and rich is not None
    assert plain.get_content().replace("\r\n", "\n") == text
    # Non-ASCII in HTML travels as character references, which mean the same characters.
    assert htmllib.unescape(rich.get_content().replace("\r\n", "\n")) == html
    assert rich["Content-Transfer-Encoding"] == "7bit"


def test_parts_are_7bit_when_they_can_be_and_never_8bit() -> None:
    """ASCII parts with short lines go as 7bit (cheap, readable); others as quoted-printable;
    never 8bit, which relays may rewrite and so break a DKIM body hash."""
    msg = parse(build(text="plain ascii\n", html="<p>é</p>"))
    assert [p["Content-Transfer-Encoding"] for p in msg.iter_parts()] == ["7bit", "7bit"]
    msg = parse(build(text="Zoë\n", html="<p>" + "x" * 2000 + "</p>"))
    assert [p["Content-Transfer-Encoding"] for p in msg.iter_parts()] == [
        "quoted-printable",
        "quoted-printable",
    ]


def test_internationalised_address_uses_utf8_headers() -> None:
    """An SMTPUTF8 recipient (RFC 6532) gets a UTF-8 To header, not an encoded word."""
    data = build(to="zoë@example.com", name="Zoë", utf8=True)
    assert "To: Zoë <zoë@example.com>".encode() in data


def test_folding_keeps_words_whole() -> None:
    folded = fold("Subject", " ".join(["word"] * 40))
    assert all(len(line) <= 78 for line in folded.split("\r\n"))
    assert folded.replace("\r\n ", " ") == "Subject: " + " ".join(["word"] * 40)
