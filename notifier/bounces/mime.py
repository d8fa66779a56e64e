"""The parts of a bounce that its MIME structure holds: header values, the human-readable text,
the returned original's headers, where a returned copy starts, and the addresses that can never
be the bounced recipient (ours, a list's)."""

from __future__ import annotations

import email.message
import email.utils
import re
from email.header import decode_header, make_header

from notifier.bounces.mimesplit import message_from

__all__ = [
    "ADDRESS",
    "Parts",
    "RETURNED",
    "address_in",
    "body_text",
    "date_of",
    "header_text",
    "original_headers",
    "returned_at",
    "senders_and_lists",
    "unescaped",
    "walk",
    "without_returned_body",
]

# An unquoted local part starts where the run of local-part characters starts (the lookbehind):
# a search then tries each run once instead of from every character of it, which kept a
# hostile line of 60,000 "a" or "a." (no "@") busy for 17 s; now linear.
ADDRESS = re.compile(
    r"(?:\"[^\"\r\n<>@]+\"|(?<![A-Za-z0-9.!#$%&'*+/=?^_`{|}~-])[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+)"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+"
)
_LIST_RETURN_PATH = re.compile(
    r"^(?:owner-(?P<owner>[^@]+)|(?P<list>[^@]+?)-(?:bounces?|admin|owner|request))(?:\+[^@]*)?@(?P<domain>.+)$"
)
_LIST_HEADERS = ("list-post", "list-owner", "list-help", "list-unsubscribe", "list-subscribe", "list-id")
Parts = list[tuple[email.message.Message, str]]
_TAG = re.compile(r"<[^>]+>")
_ANGLED = re.compile(r"<([^>]+)>")
RETURNED = re.compile(
    r"^.{0,12}(-{2,}|={2,}|\*{2,}).{0,40}(original message|copy of the message|returned message|"
    r"below this line|message headers|original headers|unsent message|text of the message)"
    r"|^content-type: message/rfc822"
    r"|^(the )?original message (follows|headers|(was|is) (attached|included|enclosed))"
    r"|^(the )?original message as received (is|was|follows)",
    re.I | re.M,
)
_RETURNED_CUES = (
    "original message",
    "copy of the message",
    "returned message",
    "below this line",
    "message headers",
    "original headers",
    "unsent message",
    "text of the message",
    "content-type: message/rfc822",
)
_RFC822_PART = re.compile(rb"^content-type:[ \t]*message/rfc822", re.I | re.M)
_READ_AFTER = (b"message/delivery-status", b"message/feedback-report", b"text/rfc822-headers")


def header_text(value: object) -> str:
    if value is None:
        return ""
    try:
        return str(make_header(decode_header(str(value))))
    except Exception:
        return str(value)


def date_of(value: object) -> float | None:
    try:
        return email.utils.parsedate_to_datetime(str(value)).timestamp() if value else None
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def found_address(text: str) -> str:
    """An address as ADDRESS matched it in running text, lower-cased, without the sentence's
    full stop, the quote that opens 'quoted' addresses in prose (Exim 2.x: "addressed to
    'someone@example.org', failed"; the pattern allows an apostrophe in a local part) or an
    X.400 address's "SMTP=" attribute name."""
    text = text.strip(".").lstrip("'`")
    if text[:5].lower() == "smtp=":  # X.400 (Exchange 5.5): "dda:SMTP=someone@example.org"
        text = text[5:]
    return text.lower()


def address_in(value: str) -> str:
    """The address in "rfc822; a@b", "<a@b>" or plain text, lower-cased."""
    m = ADDRESS.search(value.replace("rfc822;", " ").replace("RFC822;", " "))
    return found_address(m.group(0)) if m else ""


def walk(msg: email.message.Message) -> Parts:
    """Every part with its content type, walked once."""
    return [(part, part.get_content_type()) for part in msg.walk()]


def decoded(payload: bytes, charset: str | None) -> str:
    """The text of a part in its declared charset. A label Python does not know (real bounces
    carry names such as "ansi_x3.110-1983" or "unknown-8bit") is read as UTF-8 with bad bytes
    replaced: the words stay readable and the bounce is never lost to a LookupError."""
    try:
        return payload.decode(charset or "utf-8", errors="replace")
    except (LookupError, ValueError):  # ValueError: a label with a NUL in it
        return payload.decode("utf-8", errors="replace")


def body_text(msg: email.message.Message, walked: Parts) -> str:
    parts = []
    for part, ctype in walked:
        if ctype in ("text/plain", "text/html") and not part.is_multipart():
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                text = decoded(payload, part.get_content_charset())
                if ctype == "text/html":
                    text = _TAG.sub(" ", text)
                parts.append(text)
        if ctype in ("message/rfc822", "text/rfc822-headers"):
            break  # the returned original starts here
    if not parts and not msg.is_multipart():
        payload = msg.get_payload(decode=True)
        if isinstance(payload, bytes):
            parts.append(payload.decode("utf-8", errors="replace"))
    return "\n".join(parts)


def original_headers(walked: Parts) -> email.message.Message | None:
    for part, ctype in walked:
        if ctype == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], email.message.Message):
                first: email.message.Message = inner[0]
                return first
        if ctype == "text/rfc822-headers":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return message_from(payload)
    return None


def unescaped(value: str) -> str:
    """A field written in raw ISO-2022-JP (escape sequences, no RFC 2047 encoding), as Japanese
    MTAs (Lotus Domino, NTT, KDDI) write Diagnostic-Code, decoded; anything else unchanged."""
    if "\x1b$" not in value:
        return value
    try:
        return value.encode("ascii").decode("iso-2022-jp")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def without_returned_body(raw: bytes) -> bytes:
    """The message up to the end of the returned original's headers, when the original is its
    last part we read: its body (often the whole notice, attachments and all) says nothing about
    delivery, and parsing it was a large share of the time."""
    if b"message/rfc822" not in raw.lower():
        return raw
    part = _RFC822_PART.search(raw)
    if part is None:
        return raw
    own_headers_end = raw.find(b"\n\n", part.end())
    headers_end = raw.find(b"\n\n", own_headers_end + 2) if own_headers_end >= 0 else -1
    if headers_end < 0 or any(kind in raw[headers_end:].lower() for kind in _READ_AFTER):
        return raw
    return raw[: headers_end + 1]


def returned_at(body: str) -> re.Match[str] | None:
    """Where the returned copy of the original starts in a bounce's text, if it says. The
    pattern is tried only from the line of the first phrase it needs (each of its branches
    holds one and stays within a line)."""
    low = body.lower()
    if len(low) != len(body):  # a character whose lower case is longer: positions differ
        return RETURNED.search(body)
    first = min((at for cue in _RETURNED_CUES if (at := low.find(cue)) >= 0), default=-1)
    found = RETURNED.search(body, low.rfind("\n", 0, first) + 1) if first >= 0 else None
    return found or _header_block(body)


# The returned original's headers quoted with no line announcing them (Sendmail transcripts,
# home-grown notices): a run of header lines that holds a From: and a Date:, Subject: or
# Message-ID:. Indented summaries ("  To: ...", Exchange's "Your message") are not headers.
_HEADER_LINE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9-]{1,40}:[ \t]|[ \t]+\S)")
_BLOCK_START = re.compile(
    r"^(?:Return-Path|Received|From|Date|Message-I[Dd]|Subject|To|MIME-Version):[ \t]", re.M
)


def _header_block(body: str) -> re.Match[str] | None:
    resume = 0
    for start in _BLOCK_START.finditer(body):
        if start.start() < resume:
            continue  # inside a run already read: each line is read once
        names = set()
        at = start.start()
        while at < len(body) and at - start.start() < 20000:
            end = body.find("\n", at)
            line = body[at : end if end >= 0 else len(body)]
            if not _HEADER_LINE.match(line):
                break
            at += len(line) + 1
            if not line[:1].isspace():
                names.add(line.split(":", 1)[0].lower())
        if len(names) >= 3 and "from" in names and names & {"date", "subject", "message-id"}:
            return start
        resume = at
    return None


def senders_and_lists(msg: email.message.Message, original: email.message.Message | None) -> set[str]:
    """Addresses that can never be the bounced recipient: the bounce's own sender and where it
    was sent (our return path), the original's From/Sender/Reply-To/Return-Path (us), and any
    mailing list's addresses (List-Post, List-Owner, ...)."""
    out: set[str] = set()
    mine = _FirstHeaders(msg)
    # Not X-Original-To: DragonFly Mail Agent puts the failed recipient there.
    for head in ("from", "sender", "to", "return-path"):
        out.add(address_in(str(mine.get(head) or "")))
    for head in _LIST_HEADERS:
        out |= {address_in(a) for a in _ANGLED.findall(str(mine.get(head) or ""))}
    # A bounce sent to a list's return path ("news-bounces@", "news-admin@", "owner-news@", as
    # Mailman and Majordomo name it) is about a post to the list itself: "news@" is the list,
    # never the recipient, even where the notice names it ("not accepting mail from news@").
    m = _LIST_RETURN_PATH.match(address_in(str(mine.get("to") or "")))
    if m:
        out.add(f"{m['owner'] or m['list']}@{m['domain']}")
    if original is not None:
        theirs = _FirstHeaders(original)
        senders: set[str] = set()
        for head in ("from", "sender", "reply-to", "return-path"):
            value = str(theirs.get(head) or "")
            senders |= {address_in(a) for a in _ANGLED.findall(value)} | {address_in(value)}
        # A message its author sent to themselves (a test) bounced for its To: that address is
        # the recipient even though it is also the sender.
        out |= senders - {address_in(a) for a in str(theirs.get("to") or "").split(",")}
        for head in _LIST_HEADERS:
            out |= {address_in(a) for a in _ANGLED.findall(str(theirs.get(head) or ""))}
    return out - {""}


class _FirstHeaders:
    """Each header's first value by its lower-cased name (what ``msg.get`` gives), the names
    indexed in one pass instead of one pass over every header per name, and only the values
    asked for made into what ``msg.get`` returns."""

    def __init__(self, msg: email.message.Message) -> None:
        self._policy = msg.policy
        self._raw = {name.lower(): (name, value) for name, value in reversed(msg._headers)}  # type: ignore[attr-defined]

    def get(self, name: str) -> object:
        found = self._raw.get(name)
        return None if found is None else self._policy.header_fetch_parse(*found)
