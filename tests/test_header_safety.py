"""Whatever a list holds, the headers we write stay well-formed: no line over 998 octets
(RFC 5322 §2.1.1), no header a value could add, and text that looks like an RFC 2047 encoded
word is sent as that literal text, never decoded by the reader into something else."""

from __future__ import annotations

import email
import email.policy
import re
from email.header import decode_header, make_header
from email.message import EmailMessage

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifier.models import Rendered
from notifier.render.mime import MessageTemplate, header_safe

from .conftest import Campaign
from .smtpsink import Sink

TEMPLATE = MessageTemplate(
    from_header="Example Security <security@example.com>",
    from_display="Example Security",
    from_address="security@example.com",
    reply_to="privacy@example.com",
)
MID = "<abcdefghijklmnop.breach-notice@example.com>"
HEADERS = ["content-type", "date", "from", "message-id", "mime-version", "reply-to", "subject", "to"]
SMUGGLE = "=?utf-8?q?x=0D=0ABcc:_evil@x?="


def build(subject: str, name: str, *, to: str = "ana@example.com", utf8: bool = False) -> bytes:
    return TEMPLATE.build(
        Rendered(subject, "<p>x</p>", "x\n"),
        to_address=to,
        to_display=name,
        message_id=MID,
        utf8=utf8,
        now=1_800_000_000,
    )


def head_lines(data: bytes) -> list[bytes]:
    return data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")


def parse(data: bytes) -> EmailMessage:
    # As text: an SMTPUTF8 message carries raw UTF-8 in its headers (RFC 6532).
    msg = email.message_from_string(data.decode("utf-8"), policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def raw_header(data: bytes, name: str) -> str:
    """The header's value as sent, unfolded."""
    msg = email.message_from_string(data.decode("utf-8"), policy=email.policy.compat32)
    value = msg[name]
    assert isinstance(value, str)
    return value.replace("\r\n", "").replace("\n", "")


def rfc2047_text(value: str) -> str:
    """A header value decoded as RFC 2047 says (whitespace between encoded words dropped)."""
    return str(make_header(decode_header(value)))


def sent_display(data: bytes, to: str) -> str:
    """The To header's display name as an RFC 2047 reader shows it (quotes removed)."""
    raw = raw_header(data, "To")
    if not raw.endswith(f"<{to}>"):
        assert raw == to
        return ""
    display = raw.removesuffix(f"<{to}>").rstrip()
    if display.startswith('"'):  # a quoted string, never encoded (RFC 2047 §5)
        return re.sub(r"\\(.)", r"\1", display[1:-1])
    return rfc2047_text(display)


def expected_display(name: str) -> str:
    return header_safe(header_safe(name)[:200])


PIECES = ["=?", "?=", "\r", "\n", "\r\n", "Bcc: x@y", " ", "q", "é", "😀", "?"]
# List values an attacker or a broken export could produce: encoded words, line breaks,
# very long cells with and without spaces, and any Unicode.
hostile = st.one_of(
    st.text(),
    st.lists(st.sampled_from(PIECES)).map("".join),
    # Up to 100,000 characters of one repeated piece (longer ones only make the parser slow).
    st.builds(lambda w, n: (w * n)[:n], st.sampled_from([*PIECES, "ab ", SMUGGLE]), st.integers(0, 100_000)),
    st.builds(lambda a, b: a + SMUGGLE + b, st.text(max_size=20), st.text(max_size=20)),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(subject=hostile, name=hostile, utf8=st.booleans())
def test_no_list_value_makes_a_long_line_an_extra_header_or_a_decoded_surprise(
    subject: str, name: str, utf8: bool
) -> None:
    """Every header line is at most 998 octets, the header set is fixed, the Subject parses back
    to the rendered text and the To display name decodes to the list's text."""
    to = "zoë@example.com" if utf8 else "ana@example.com"
    data = build(subject, name, to=to, utf8=utf8)
    assert max(len(line) for line in head_lines(data)) <= 998
    msg = parse(data)
    assert sorted(k.lower() for k in msg) == HEADERS
    assert str(msg["Subject"]) == header_safe(subject)
    assert msg["To"].addresses[0].addr_spec == to
    display = sent_display(data, to)
    assert display == expected_display(name)


def test_a_100000_character_cell_gives_no_line_over_998_octets() -> None:
    """A 100,000-character word in the subject is sent as encoded words of short lines."""
    data = build("x" * 100_000, "y" * 100_000)
    assert max(len(line) for line in head_lines(data)) <= 998
    subject = raw_header(data, "Subject")
    assert subject.startswith("=?utf-8?") and len(subject) > 100_000
    assert str(parse(data)["Subject"]) == "x" * 100_000


def test_an_encoded_word_in_a_list_value_stays_literal_text() -> None:
    """An encoded word in a list value is not passed through raw: readers see it, not CR LF Bcc."""
    data = build(f"Hello {SMUGGLE}", SMUGGLE)
    assert SMUGGLE.encode() not in data
    msg = parse(data)
    assert str(msg["Subject"]) == f"Hello {SMUGGLE}"
    assert msg["Bcc"] is None
    assert "\r" not in rfc2047_text(raw_header(data, "Subject"))
    assert sent_display(data, "ana@example.com") == SMUGGLE


def test_an_encoded_word_in_a_utf8_recipients_name_stays_literal_text() -> None:
    """SMTPUTF8 messages carry raw UTF-8 names, but a name holding an encoded word is encoded."""
    data = build("Notice", SMUGGLE, to="zoë@example.com", utf8=True)
    assert SMUGGLE.encode() not in data
    assert sent_display(data, "zoë@example.com") == SMUGGLE


def test_ordinary_headers_stay_readable_plain_text() -> None:
    """The common case is unchanged: short ASCII values go as they are, not encoded."""
    data = build("Notice of Data Breach", "Ana Lopez")
    assert b"\r\nSubject: Notice of Data Breach\r\n" in data
    assert b"\r\nTo: Ana Lopez <ana@example.com>\r\n" in data


def test_hostile_list_cells_through_a_real_send(campaign: Campaign, sink: Sink) -> None:
    """Sent over SMTP, a message whose list row holds a 100,000-character name and an encoded
    word keeps every header line within 998 octets and gains no header."""
    campaign.write_list(
        "email,first_name,last_name,exposed\n"
        f"ana@example.com,{'A' * 100_000},Lopez,email\n"
        f'ben@example.com,"{SMUGGLE}",Okafor,email\n'
    )
    subject = campaign.root / "templates" / "breach-notice" / "subject.txt"
    subject.write_text("Notice for {{ recipient.first_name }}\n", encoding="utf-8")
    # --force: the pre-send check rightly refuses a sample message with 100 kB of headers;
    # what is tested here is what goes out when it is overridden.
    result = campaign.notify("send", "--segment", "all", "--transport", sink.url, "--yes", "--force")
    assert result.code == 0, result.err
    by_rcpt = {m.rcpt_to: m.data for m in sink.received}
    for rcpt, first in (("ana@example.com", "A" * 100_000), ("ben@example.com", SMUGGLE)):
        data = by_rcpt[rcpt]
        assert max(len(line) for line in head_lines(data)) <= 998
        msg = parse(data)
        assert str(msg["Subject"]) == f"Notice for {first}"
        assert msg["Bcc"] is None
    # In the headers it is encoded; the body may show it, as the plain text it is.
    assert SMUGGLE.encode() not in b"\r\n".join(head_lines(by_rcpt["ben@example.com"]))
