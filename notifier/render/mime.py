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
from dataclasses import dataclass
from email.charset import Charset
from email.header import Header
from email.utils import formataddr, formatdate

from notifier.models import Rendered

__all__ = ["Built", "MessageTemplate", "fold", "header_safe"]

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
    DKIM body hash. (The reference the line-by-line :class:`_Lines` is tested against.)
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


def _canonical(line: bytes) -> bool:
    """True when DKIM's relaxed body canonicalisation (RFC 6376 §3.4.4) leaves ``line`` as it is:
    no tab, no run of spaces, no space at the end (and, to stay on the exact path, no other
    control character that some whitespace splitters treat as a space)."""
    return not (b"  " in line or line.endswith(b" ") or b"\t" in line or b"\x0b" in line or b"\x0c" in line)


_Line = tuple[bytes | None, bool, bytes, bool]  # (7bit form or None, canonical, QP form, canonical)
_CACHE_LINES = 20_000  # distinct lines remembered per part kind (then forgotten all at once)


class _Lines:
    """A part's body encoded line by line, each distinct line once.

    A notice's lines are nearly all the template's own, the same for every recipient: encoding
    (7bit check, quoted-printable) and the DKIM canonical test are done the first time a line is
    seen and looked up after, ~4x cheaper than encoding and scanning the whole part each time
    (issue 15). Byte for byte what :func:`_body` gives for the whole part (tested), because both
    encodings work line by line: b2a_qp's soft breaks and its escaping of trailing whitespace and
    of a lone ``.`` depend on nothing beyond the line and whether a line break follows it (the
    part's last line is encoded and cached apart). The memory is bounded: past
    ``_CACHE_LINES`` distinct lines the cache starts again."""

    def __init__(self, *, html: bool) -> None:
        # HTML: non-ASCII characters become numeric character references (&#233;), which every
        # HTML reader decodes, so the HTML part is almost always plain 7bit: no encoding cost.
        self.errors = "xmlcharrefreplace" if html else "strict"
        self.charset = "ascii" if html else "utf-8"
        self.cache: dict[str, _Line] = {}  # lines a line break follows
        self.last: dict[str, _Line] = {}  # a part's last line (usually "")

    def _add(self, line: str, ended: bool = True) -> _Line:
        # A line a line break follows (``ended``), or the part's last line: b2a_qp places its last
        # soft break differently for the two (a trailing space near column 76 is "=20" on the
        # line before the break, or after it), so each is encoded as the whole part would encode
        # it, and cached apart.
        data = line.encode(self.charset, self.errors)
        seven = (
            data
            if data.isascii() and b"\x00" not in data and b"=_" not in data and len(data) <= MAX_LINE
            else None
        )
        # A long line comes back as several, joined by soft breaks ("=" LF): CRLF on the wire.
        qp = binascii.b2a_qp(data + b"\n" if ended else data, quotetabs=False, istext=True, header=False)
        qp = (qp[:-1] if ended else qp).replace(b"\n", CRLF)
        entry = (seven, seven is not None and _canonical(seven), qp, _canonical(qp))
        cache = self.cache if ended else self.last
        if len(cache) >= _CACHE_LINES:
            cache.clear()
        cache[line] = entry
        return entry

    def encode(self, text: str) -> tuple[bytes, bytes, bool]:
        """(Content-Transfer-Encoding, body with CRLF line ends, body already DKIM-canonical)."""
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        get, add = self.cache.get, self._add
        lines = text.split("\n")
        last = lines.pop()
        entries = [get(line) or add(line) for line in lines]
        entries.append(self.last.get(last) or add(last, False))
        sevens = [e[0] for e in entries]
        if None not in sevens:
            return b"7bit", CRLF.join(sevens), False not in [e[1] for e in entries]  # type: ignore[arg-type]
        return b"quoted-printable", CRLF.join([e[2] for e in entries]), False not in [e[3] for e in entries]


def _text_part(text: str) -> tuple[bytes, bytes]:
    return _body(text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8"))


def _html_part(html: str) -> tuple[bytes, bytes]:
    return _body(html.replace("\r\n", "\n").replace("\r", "\n").encode("ascii", "xmlcharrefreplace"))


@dataclass(frozen=True, slots=True)
class Built:
    """A finished message and whether its body is already in DKIM's relaxed canonical form (then
    the signer hashes it as it is instead of scanning it again)."""

    data: bytes
    canonical_body: bool


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
        self._text = _Lines(html=False)
        self._html = _Lines(html=True)

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
        return self.build_message(
            rendered,
            to_address=to_address,
            to_display=to_display,
            message_id=message_id,
            utf8=utf8,
            now=now,
            headers=headers,
        ).data

    def build_message(
        self,
        rendered: Rendered,
        *,
        to_address: str,
        to_display: str,
        message_id: str,
        utf8: bool = False,
        now: float | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> Built:
        """:meth:`build`, saying whether the body is DKIM-canonical already."""
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
        text_cte, text, text_canonical = self._text.encode(rendered.text)
        html_cte, html, html_canonical = self._html.encode(rendered.html)
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
        # The boundary lines and part headers above are canonical (single spaces, none at the end),
        # and the body ends with a non-empty line: canonical when both parts are.
        return Built(b"".join(head) + b"".join(body), text_canonical and html_canonical)
