"""Build RFC 5322 / MIME messages fast, with no way to inject a header.

The stdlib ``EmailMessage`` costs ~1 ms per message to build and serialise (DESIGN §4),
so the skeleton (fixed headers, boundary layout) is built once per notice by
:class:`MessageTemplate` and only the per-recipient parts are filled in.

Safety: every header value passes through :func:`header_safe`, which turns CR, LF and
other control characters into spaces before encoding (RFC 5322 §2.2: a header is one
logical line). Values are encoded from their text, never passed through as if already
encoded: a value holding ``=?`` (the start of an RFC 2047 encoded word, which a reader would
decode, into CR LF "Bcc:" for instance) is itself encoded, so a reader decodes it back to the
same literal text. No header line exceeds 998 octets (RFC 5322 §2.1.1) whatever the value:
text is folded at spaces, and a value with a word too long to fold is sent as encoded words,
which split anywhere. Bodies are 7bit when they are ASCII with lines of at most 998 octets
(RFC 5322 §2.1.1) — HTML almost always is, as non-ASCII characters become character
references — and quoted-printable otherwise. The boundary holds "=_", which
quoted-printable always encodes and which the 7bit parts are checked not to contain.
"""

from __future__ import annotations

import binascii
import re
import time
from email.charset import Charset
from email.header import Header
from email.utils import formataddr, formatdate

from notifier.models import Rendered

__all__ = ["MessageTemplate", "fold", "header_safe"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]")
CRLF = b"\r\n"


def header_safe(value: str) -> str:
    """One logical line: control characters (CR, LF, TAB, NUL...) become single spaces."""
    return " ".join(_CONTROL.sub(" ", value).split())


def fold(name: str, value: str) -> str:
    """``Name: value`` folded at spaces to lines of at most 78 characters (RFC 5322 §2.2.3).

    ``value`` must already be header-safe ASCII (encoded words included).
    """
    line = f"{name}: "
    out: list[str] = []
    for word in value.split(" "):
        if len(line) + len(word) > 78 and line.strip() and not line.endswith(": "):
            out.append(line.rstrip(" "))
            line = " "
        line += word + " "
    out.append(line.rstrip(" "))
    return "\r\n".join(out)


MAX_LINE = 998  # octets, without CRLF (RFC 5322 §2.1.1)
_UTF8 = Charset("utf-8")


def _encoded_words(name: str, value: str) -> str:
    """``value`` as RFC 2047 encoded words (UTF-8), folded to lines of at most 78 octets."""
    return Header(value, "utf-8", header_name=name, maxlinelen=78).encode(linesep="\r\n")


def _plain(value: str) -> bool:
    """True when ``value`` can go as it is: ASCII with nothing a reader would decode."""
    return value.isascii() and "=?" not in value


def _encode_unstructured(name: str, value: str) -> str:
    value = header_safe(value)
    if _plain(value):
        folded = fold(name, value)
        # Cheap common case first: a short header cannot hold a long line.
        if len(folded) <= MAX_LINE or all(len(line) <= MAX_LINE for line in folded.split("\r\n")):
            return folded
    return f"{name}: {_encoded_words(name, value)}"


def _address(name: str, display: str, address: str, *, utf8: bool) -> str:
    display = header_safe(header_safe(display)[:200])
    if not display:
        return f"{name}: {address}" if utf8 else fold(name, address)
    if "=?" in display:
        # Quoting would not help: readers decode encoded words inside quotes too.
        return f"{name}: {_encoded_words(name, display)} <{address}>"
    if utf8:
        # SMTPUTF8 message (RFC 6532): raw UTF-8 is allowed in headers.
        if any(c in display for c in '()<>@,;:\\".[]'):
            display = '"' + display.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return f"{name}: {display} <{address}>"
    if not display.isascii():
        word = _UTF8.header_encode(display)  # one encoded word: the fast, common case
        if len(word) > 75:  # RFC 2047 §2; a long name as one word could pass 998 octets
            word = _encoded_words(name, display)
        return f"{name}: {word} <{address}>"
    return fold(name, formataddr((display, address)))


def _body(data: bytes) -> tuple[bytes, bytes]:
    """(Content-Transfer-Encoding, encoded body) for UTF-8 ``data`` with LF line ends.

    7bit when the part is ASCII with lines of at most 998 octets (RFC 5322 §2.1.1),
    else quoted-printable. Never 8bit: a relay that downgrades 8bit to QP breaks the
    DKIM body hash.
    """
    if (
        data.isascii()
        and b"\r" not in data
        and b"\x00" not in data
        and b"=_" not in data  # so no line can ever equal the boundary
        and max(map(len, data.split(b"\n"))) <= 998
    ):
        return b"7bit", data.replace(b"\n", CRLF)
    encoded = binascii.b2a_qp(data, quotetabs=False, istext=True, header=False)
    return b"quoted-printable", encoded.replace(b"\n", CRLF)


def _text_part(text: str) -> tuple[bytes, bytes]:
    return _body(text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8"))


def _html_part(html: str) -> tuple[bytes, bytes]:
    # Non-ASCII characters become numeric character references (&#233;), which every
    # HTML reader decodes, so the HTML part is almost always plain 7bit: no encoding cost.
    return _body(html.replace("\r\n", "\n").replace("\r", "\n").encode("ascii", "xmlcharrefreplace"))


class MessageTemplate:
    """The fixed part of every message of one notice."""

    def __init__(
        self,
        *,
        from_header: str,
        from_display: str,
        from_address: str,
        reply_to: str = "",
        extra_headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        fixed = [_address("From", from_display, from_address, utf8=False)]
        if reply_to:
            fixed.append(fold("Reply-To", header_safe(reply_to)))
        for name, value in extra_headers:
            fixed.append(_encode_unstructured(name, value))
        fixed.append("MIME-Version: 1.0")
        self._fixed = ("\r\n".join(fixed) + "\r\n").encode("ascii")
        self._date_cache: tuple[int, bytes] = (0, b"")

    def _date(self, now: float) -> bytes:
        second = int(now)
        if self._date_cache[0] != second:
            self._date_cache = (second, f"Date: {formatdate(second)}\r\n".encode("ascii"))
        return self._date_cache[1]

    def build(
        self,
        rendered: Rendered,
        *,
        to_address: str,
        to_display: str,
        message_id: str,
        utf8: bool = False,
        now: float | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> bytes:
        """The complete message, CRLF line ends, ready for DATA. ``headers`` are per-message
        extras (List-Unsubscribe), made injection-safe like every other header."""
        boundary = "=_" + message_id.strip("<>").split("@")[0][:24]
        head = [
            self._fixed,
            self._date(time.time() if now is None else now),
            f"Message-ID: {message_id}\r\n".encode("ascii"),
            (_address("To", to_display, to_address, utf8=utf8) + "\r\n").encode("utf-8"),
            (_encode_unstructured("Subject", rendered.subject) + "\r\n").encode("utf-8"),
            *((fold(name, header_safe(value)) + "\r\n").encode("ascii") for name, value in headers),
            f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'.encode("ascii"),
        ]
        b = boundary.encode("ascii")
        text_cte, text = _text_part(rendered.text)
        html_cte, html = _html_part(rendered.html)
        cte = b"Content-Transfer-Encoding: "
        body = [
            b"This is a multi-part message in MIME format.\r\n\r\n--" + b + CRLF,
            b"Content-Type: text/plain; charset=utf-8\r\n" + cte + text_cte + CRLF + CRLF,
            text,
            CRLF + b"--" + b + CRLF,
            b"Content-Type: text/html; charset=utf-8\r\n" + cte + html_cte + CRLF + CRLF,
            html,
            CRLF + b"--" + b + b"--" + CRLF,
        ]
        return b"".join(head) + b"".join(body)
