"""Read bounce and complaint mail: RFC 3464 delivery-status reports, RFC 5965 feedback
reports, RFC 3834 auto-replies, and the plain-text bounces many MTAs still send.

Pure: bytes in, a :class:`ParsedBounce` out; nothing here touches the ledger. Reasons use
the reply vocabulary of ``notifier.bounces.replies`` (and ``complaint``, ``vacation``).
"""

from __future__ import annotations

import dataclasses
import email
import email.message
import email.parser
import email.utils
import re
from dataclasses import dataclass, field
from email.header import decode_header, make_header

from notifier.bounces.phrases import PhraseBook
from notifier.bounces.reasons import command_in, is_hard, reason_for, status_in

__all__ = ["BouncedRecipient", "ParsedBounce", "parse_bounce"]

_ADDRESS = re.compile(
    r"(?:\"[^\"\r\n<>@]+\"|[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+)@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+"
)
_CODE = re.compile(r"(?<![\d.])([245]\d\d)(?![\d.])")
# RFC 3834 auto-replies and the subjects common clients give them (Outlook "Automatic reply:",
# "Auto:", Exchange OOF, Gmail/Zimbra vacation, German/French/Spanish/Italian/Dutch clients).
_AUTO_SUBJECT = re.compile(
    r"out of (the )?office|auto(matic)?[ -]?(reply|response|antwort)|vacation|abwesenheit|absence|"
    r"^auto:|r[ée]ponse automatique|respuesta autom[áa]tica|risposta automatica|automatisch antwoord|"
    r"automatische (antwort|rückmeldung)|away from (my|the) (desk|office)",
    re.I,
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|delivery (status|failure|has failed)|returned mail|failure notice|"
    r"mail delivery|could not be delivered|non.?delivery|delivery problem|rejected|"
    r"failed|failure|warning: could not send|warning: message .{0,60} delayed|delayed mail",
    re.I,
)
_NOT_RECIPIENTS = re.compile(
    r"^(mailer[-_]daemon|post_?master|root|noreply|no-reply|bounce[s]?|mail-daemon)@", re.I
)
# Lines that open the list of recipients that failed (Exchange 2003/2007, Sendmail, Exim,
# qmail, Lotus Domino, Apache James, Gmail): addresses before them are a summary of the
# original ("Your message To: ..."), not who bounced.
_RECIPIENT_LIST = re.compile(
    r"did not reach the following recipient|following recipient\(?s?\)? (could|cannot|can not) be|"
    r"following address(es|\(es\))? (failed|had permanent)|"
    r"wasn'?t able to deliver your message to the following|"
    r"delivery to the following recipients? (failed|has been delayed)|"
    r"could not be delivered to the following|"
    r"error for the following recipients?|^\s*failed recipient\(?s?\)?:",
    re.I | re.M,
)
_FOLDED = re.compile(r"!?\r?\n ")
_LIST_HEADERS = ("list-post", "list-owner", "list-help", "list-unsubscribe", "list-subscribe", "list-id")


@dataclass(frozen=True, slots=True)
class BouncedRecipient:
    address: str
    action: str  # failed | delayed | delivered | complaint | ...
    status: str  # enhanced status code, or ""
    reply_code: str
    diagnostic: str
    reason: str
    hard: bool


@dataclass
class ParsedBounce:
    kind: str  # bounce | delay | complaint | auto-reply | delivered | not-bounce
    recipients: list[BouncedRecipient] = field(default_factory=list)
    original_message_id: str = ""
    envelope_to: str = ""  # where the bounce was sent: our VERP address, if it carries one
    feedback_type: str = ""
    provider_id: str = ""  # the sending provider's message id (Amazon SES), when it says
    event_id: str = ""  # the notification's own id (SNS MessageId): redelivery detection
    at: float | None = None  # when it happened, as the report says (Date, SES timestamp)

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "original_message_id": self.original_message_id,
            "envelope_to": self.envelope_to,
            "feedback_type": self.feedback_type,
            "provider_id": self.provider_id,
            "at": self.at,
            "recipients": [dataclasses.asdict(r) for r in self.recipients],
        }


def _text(value: object) -> str:
    if value is None:
        return ""
    try:
        return str(make_header(decode_header(str(value))))
    except Exception:
        return str(value)


def _date(value: object) -> float | None:
    try:
        return email.utils.parsedate_to_datetime(str(value)).timestamp() if value else None
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _addr(value: str) -> str:
    """The address in "rfc822; a@b", "<a@b>" or plain text, lower-cased."""
    m = _ADDRESS.search(value.replace("rfc822;", " ").replace("RFC822;", " "))
    return m.group(0).strip(".").lower() if m else ""


_Parts = list[tuple[email.message.Message, str]]
_TAG = re.compile(r"<[^>]+>")
_ANGLED = re.compile(r"<([^>]+)>")
_BLANK_LINE = re.compile(r"\n\s*\n")
_FINAL_RECIPIENT = re.compile(r"^final-recipient:", re.I | re.M)


def _parts(msg: email.message.Message) -> _Parts:
    """Every part with its content type, walked once."""
    return [(part, part.get_content_type()) for part in msg.walk()]


def _body_text(msg: email.message.Message, walked: _Parts) -> str:
    parts = []
    for part, ctype in walked:
        if ctype in ("text/plain", "text/html") and not part.is_multipart():
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                text = payload.decode(part.get_content_charset() or "utf-8", errors="replace")
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


def _original_headers(walked: _Parts) -> email.message.Message | None:
    for part, ctype in walked:
        if ctype == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], email.message.Message):
                first: email.message.Message = inner[0]
                return first
        if ctype == "text/rfc822-headers":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return email.message_from_bytes(payload)
    return None


_VAGUE_REASONS = frozenset({"on_hold", "other", "system"})


def _classify(
    action: str, status: str, diagnostic: str, context: str = "", dtype: str = "smtp", near: str = ""
) -> tuple[str, bool, str]:
    """Reason, hard and reply code for one recipient. ``context`` is the text the bounce
    gives about the recipient, ``near`` a wider window: either often names the SMTP
    command that failed, which tells a filter's verdict (after DATA) from an unknown user."""
    code_m = _CODE.search(diagnostic)
    code = code_m.group(1) if code_m else ""
    text = diagnostic or context
    command = command_in(diagnostic) or command_in(context) or command_in(near)
    reason = reason_for(
        status=status, code=code, text=text, command=command, action=action, diagnostic_type=dtype
    )
    if reason == "delivered" and action != "delivered":
        reason = "on_hold"
    if reason in _VAGUE_REASONS and near and near != text:
        # The lines about this recipient say little: the prose around them may say more.
        wider = reason_for(
            status=status, code=code, text=near, command=command, action=action, diagnostic_type=dtype
        )
        if wider not in _VAGUE_REASONS and wider != "delivered":
            reason = wider
    klass = code[:1] or status[:1] or ("5" if action == "failed" else "4")
    hard = is_hard(reason, klass)
    return reason, hard, code


def _windows(text: str, address: str, width: int = 300) -> str:
    """Text within ``width`` characters of every mention of ``address``."""
    low, out, at = text.lower(), [], 0
    while (at := low.find(address, at)) >= 0:
        out.append(text[max(0, at - width) : at + len(address) + width])
        at += len(address)
    return "\n".join(out)


def _telling_line(text: str, address: str) -> str:
    """The first line that names ``address`` and says something more (a code, a reason)."""
    for line in text.splitlines():
        if address in line.lower():
            rest = line.lower().replace(address, "").strip(" \t<>:;,.()[]")
            if len(rest) > 8 and (
                _CODE.search(rest) or status_in(rest) or _SIGNS.says("diagnostic", rest.lower())
            ):
                return " ".join(line.split())
    return ""


def _around(text: str, address: str) -> str:
    """The lines of the human-readable part that talk about ``address``."""
    at = text.lower().find(address)
    if at < 0:
        return ""
    start = text.rfind("\n\n", 0, at)
    end = text.find("\n\n", at)
    return " ".join(text[start + 1 if start >= 0 else 0 : end if end >= 0 else None].split())[:800]


def _status_blocks(walked: _Parts, human: str) -> list[email.message.Message]:
    """The per-recipient field blocks of a delivery-status report; when the MIME structure
    is broken (a boundary that never comes), the same fields found in the plain text."""
    blocks: list[email.message.Message] = []
    for part, ctype in walked:
        if ctype == "message/delivery-status":
            payload = part.get_payload()
            if isinstance(payload, list):
                blocks += [b for b in payload if isinstance(b, email.message.Message)]
            else:
                blocks += [email.message_from_string(p) for p in _BLANK_LINE.split(str(payload))]
    if not blocks and "final-recipient:" in human.lower() and _FINAL_RECIPIENT.search(human):
        cut = _RETURNED.search(human)
        text = human[: cut.start()] if cut else human
        paragraphs = _BLANK_LINE.split(text)
        blocks = [email.message_from_string(p.strip()) for p in paragraphs if "final-recipient:" in p.lower()]
    return blocks


def _unescaped(value: str) -> str:
    """A field written in raw ISO-2022-JP (escape sequences, no RFC 2047 encoding), as Japanese
    MTAs (Lotus Domino, NTT, KDDI) write Diagnostic-Code, decoded; anything else unchanged."""
    if "\x1b$" not in value:
        return value
    try:
        return value.encode("ascii").decode("iso-2022-jp")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def _dsn(walked: _Parts, human: str) -> list[BouncedRecipient]:
    out: list[BouncedRecipient] = []
    for block in _status_blocks(walked, human):
        if not isinstance(block, email.message.Message):
            continue
        address = _addr(str(block.get("Final-Recipient") or block.get("Original-Recipient") or ""))
        if not address:
            continue
        action = str(block.get("Action") or "failed").strip().lower()
        status = status_in(str(block.get("Status") or ""))
        raw_diagnostic = " ".join(_unescaped(str(block.get("Diagnostic-Code") or "")).split())
        dtype, sep, rest = raw_diagnostic.partition(";")
        if sep and " " not in dtype.strip():
            dtype, diagnostic = dtype.strip().lower(), rest.strip()
        else:
            dtype, diagnostic = "smtp", raw_diagnostic
        context = _around(human, address)
        near = _windows(human, address)
        if not diagnostic:
            # The report gives no diagnostic: the line naming the address may (OpenSMTPD,
            # Sendmail), else the prose around it.
            context = _telling_line(human, address) or near
        reason, hard, code = _classify(action, status, diagnostic, context, dtype, near)
        out.append(BouncedRecipient(address, action, status, code, diagnostic, reason, hard))
    return out


_RETURNED = re.compile(
    r"^.{0,12}(-{2,}|={2,}|\*{2,}).{0,40}(original message|copy of the message|returned message|"
    r"below this line|message headers|original headers|unsent message|text of the message)"
    r"|^content-type: message/rfc822"
    r"|^(the )?original message (follows|headers|(was|is) (attached|included|enclosed))",
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
_HEADERS = email.parser.Parser()
_NOISE_LINE = re.compile(
    r"^\s*(message-id|received|from|return-path|reply-to|references|in-reply-to|"
    r"x-[a-z-]+|dkim-signature|arc-[a-z-]+|authentication-results)\s*:",
    re.I,
)
_ID_LOCAL = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-|^[0-9a-f.]{12,}$|^[0-9]{6,}\.|=|^ca[a-z0-9+_-]{30,}$", re.I
)
# Signs read in the text of a bounce, matched as phrase tables (one keyword pass, then only the
# patterns a keyword points at).
_SIGNS = PhraseBook(
    {
        # A warning that delivery is still being tried, and words that say it is not.
        "delay": (
            r"has not yet been delivered|will be retried|delivery attempts will continue|delayed \d+ hours|"
            r"warning: could not send|delivery status notification \(delay\)|still trying|delivery delayed",
        ),
        "permanent": (r"permanent (error|failure)|failed permanently|giving up|given up",),
        # Words of a diagnostic: a line with them is about a failed recipient.
        "diagnostic": (
            r"\b[245]\d\d\b|\b[245]\.\d+\.\d+\b|unknown|not exist|no such|invalid|"
            r"rejected|full|quota|disabled|failed|refused|denied|unavailable",
        ),
    }
)
# A line that starts with another address: the next recipient's paragraph (qmail, Exim).
_NEXT_RECIPIENT = re.compile(r"\n[ \t]*<?[A-Za-z0-9._%+'=-]+@[A-Za-z0-9.-]+>?:?(?=\s)")


def _plain(
    text: str, cut: re.Match[str] | None, exclude: set[str], original_to: set[str]
) -> list[BouncedRecipient]:
    """Plain-text bounces: addresses named in the notice part (not in the returned copy, which
    starts at ``cut``), with the text around them."""
    notice = text[: cut.start()] if cut else text
    low = notice.lower()
    marker = _RECIPIENT_LIST.search(notice) if "following" in low or "failed recipient" in low else None
    if marker and _ADDRESS.search(notice, marker.end()):
        notice = notice[marker.start() :]
    found: dict[str, str] = {}
    for m in _ADDRESS.finditer(notice):
        address = m.group(0).strip(".").lower()
        local = address.rpartition("@")[0]
        line_start = notice.rfind("\n", 0, m.start()) + 1
        line_end = notice.find("\n", m.end())
        line = notice[line_start : line_end if line_end >= 0 else len(notice)]
        if (
            address in exclude
            or _NOT_RECIPIENTS.match(address)
            or address in found
            or _ID_LOCAL.search(local)
            or _NOISE_LINE.match(line)
            or "mailfrom=" in line.lower()
        ):
            continue
        # The next recipient's line matters only within the 600 characters taken (the bound
        # leaves room for the longest address the pattern can match there).
        nxt = _NEXT_RECIPIENT.search(notice, m.end(), line_start + 3000)
        context = notice[line_start : min(line_start + 600, nxt.start() if nxt else len(notice))]
        found[address] = " ".join(context.split())
    if original_to and set(found) & original_to:
        found = {a: c for a, c in found.items() if a in original_to}
    elif len(found) > 1:
        flagged = {a: c for a, c in found.items() if _SIGNS.says("diagnostic", c[:200].lower())}
        found = flagged or found
    out = []
    for address, context in found.items():
        status = status_in(context)
        reason, hard, code = _classify(
            "failed",
            status,
            context,
            context,
            "smtp",
            notice[:3000] if len(found) == 1 else _windows(notice, address),
        )
        out.append(BouncedRecipient(address, "failed", status, code, context[:300], reason, hard))
    return out


_RFC822_PART = re.compile(rb"^content-type:[ \t]*message/rfc822", re.I | re.M)
_READ_AFTER = (b"message/delivery-status", b"message/feedback-report", b"text/rfc822-headers")


def _without_returned_body(raw: bytes) -> bytes:
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


def _returned_at(body: str) -> re.Match[str] | None:
    """Where the returned copy of the original starts in a bounce's text, if it says. The
    pattern is tried only from the line of the first phrase it needs (each of its branches
    holds one and stays within a line)."""
    low = body.lower()
    if len(low) != len(body):  # a character whose lower case is longer: positions differ
        return _RETURNED.search(body)
    first = min((at for cue in _RETURNED_CUES if (at := low.find(cue)) >= 0), default=-1)
    return _RETURNED.search(body, low.rfind("\n", 0, first) + 1) if first >= 0 else None


def _returned_copy(body: str, cut: re.Match[str] | None) -> email.message.Message | None:
    """The headers of the original when a plain-text bounce quotes them after a "copy of the
    message follows" line (Exim, qmail, Google Groups) instead of attaching them."""
    if not cut:
        return None
    newline = body.find("\n", cut.end())
    after = body[newline + 1 if newline >= 0 else len(body) :].lstrip("\n")
    copy = _HEADERS.parsestr(after, headersonly=True)
    return copy if copy.get("From") or copy.get("Message-ID") else None


def _senders_and_lists(msg: email.message.Message, original: email.message.Message | None) -> set[str]:
    """Addresses that can never be the bounced recipient: the bounce's own sender and where it
    was sent (our return path), the original's From/Sender/Reply-To/Return-Path (us), and any
    mailing list's addresses (List-Post, List-Owner, ...)."""
    out: set[str] = set()
    mine = _first_headers(msg)
    # Not X-Original-To: DragonFly Mail Agent puts the failed recipient there.
    for head in ("from", "sender", "to", "return-path"):
        out.add(_addr(str(mine.get(head) or "")))
    for head in _LIST_HEADERS:
        out |= {_addr(a) for a in _ANGLED.findall(str(mine.get(head) or ""))}
    if original is not None:
        theirs = _first_headers(original)
        for head in ("from", "sender", "reply-to", "return-path", *_LIST_HEADERS):
            value = str(theirs.get(head) or "")
            out |= {_addr(a) for a in _ANGLED.findall(value)} | {_addr(value)}
    return out - {""}


def _first_headers(msg: email.message.Message) -> dict[str, object]:
    """Each header's first value by its lower-cased name (what ``msg.get`` gives), read in one
    pass instead of one pass over every header per name."""
    return {name.lower(): value for name, value in reversed(msg.items())}


def parse_bounce(raw: bytes) -> ParsedBounce:
    """What a message says about delivery. Never raises for a malformed message."""
    if raw.lstrip()[:1] == b"{":
        from notifier.bounces.ses_events import parse_ses_json

        return parse_ses_json(raw) or ParsedBounce("not-bounce")
    # CRLF (as received), LF (as stored) and CR-only (old Mac tools, some archives) must read
    # alike: every pattern below works on "\n" lines.
    raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    msg = email.message_from_bytes(_without_returned_body(raw))
    ctype = msg.get_content_type()
    report_type = str(msg.get_param("report-type") or "").lower()
    subject = _text(msg.get("Subject"))
    walked = _parts(msg)
    original = _original_headers(walked)
    parsed = ParsedBounce("not-bounce")
    parsed.envelope_to = _addr(
        str(msg.get("X-Original-To") or msg.get("Delivered-To") or msg.get("To") or "")
    )
    if original is not None:
        parsed.original_message_id = str(original.get("Message-ID") or "").strip()
    parsed.at = _date(msg.get("Date"))
    body = _body_text(msg, walked)
    if not body.strip():  # MIME structure too broken to walk: read the raw text
        body = raw.split(b"\n\n", 1)[-1].decode("utf-8", errors="replace")
    # A quoted copy's headers only tell who must never be taken for the recipient (its To may
    # be a list or an alias, not who bounced).
    cut = _returned_at(body)
    quoted = _returned_copy(body, cut) if original is None else None
    if '"notificationType"' in body or '"eventType"' in body:
        # Amazon SES forwarding its own JSON notification by mail.
        from notifier.bounces.ses_events import parse_ses_json

        start = body.find("{")
        blob = body[start : body.rfind("}") + 1] if start >= 0 else ""
        # Long lines arrive folded ("!" + newline + space, or newline + space).
        for text in (blob, _FOLDED.sub("", blob)):
            ses = parse_ses_json(text.encode()) if text else None
            if ses is not None:
                return ses
    sender = _addr(str(msg.get("From") or ""))
    exclude = _senders_and_lists(msg, original or quoted)

    feedback = next((p for p, ctype in walked if ctype == "message/feedback-report"), None)
    if report_type == "feedback-report" or feedback is not None:
        parsed.kind = "complaint"
        fields: email.message.Message | None = None
        if feedback is not None:
            payload = feedback.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], email.message.Message):
                fields = payload[0]
        parsed.feedback_type = str(fields.get("Feedback-Type", "") if fields else "").strip().lower()
        rcpts = [_addr(str(v)) for v in (fields.get_all("Original-Rcpt-To") or [])] if fields else []
        if not rcpts and original is not None:
            rcpts = [_addr(str(original.get("To") or ""))]
        for address in dict.fromkeys(a for a in rcpts if a):
            parsed.recipients.append(
                BouncedRecipient(address, "complaint", "", "", parsed.feedback_type, "complaint", False)
            )
        return parsed

    dsn = _dsn(walked, body)
    # A report naming our own sender or a list address as "failed" is about the return path,
    # never a person to mark as bounced; keep it only when it names nobody else.
    dsn = [r for r in dsn if r.address not in exclude] or dsn
    if dsn:
        failed = [r for r in dsn if r.action not in ("delivered", "relayed", "expanded")]
        if not failed:
            parsed.kind = "delivered"
            parsed.recipients = dsn
            return parsed
        parsed.kind = "delay" if all(r.action == "delayed" for r in failed) else "bounce"
        parsed.recipients = failed
        return parsed

    auto = str(msg.get("Auto-Submitted") or "").lower()
    if (
        auto.startswith("auto-replied")
        or msg.get("X-Autoreply")
        or msg.get("X-Autorespond")
        or _AUTO_SUBJECT.search(subject)
    ) and not (
        _BOUNCE_SUBJECT.search(subject)
        or msg.get("X-Failed-Recipients")
        or (_NOT_RECIPIENTS.match(sender or "") and not _AUTO_SUBJECT.search(subject))
    ):
        parsed.kind = "auto-reply"
        # Who answered: the auto-reply's sender, reported as such (never as a bounce).
        if sender and not _NOT_RECIPIENTS.match(sender):
            parsed.recipients = [BouncedRecipient(sender, "auto-replied", "", "", "", "vacation", False)]
        return parsed

    looks_like_bounce = (
        ctype == "multipart/report" or _BOUNCE_SUBJECT.search(subject) or _NOT_RECIPIENTS.match(sender or "")
    )
    if not looks_like_bounce:
        return parsed
    original_to = set()
    if original is not None:
        original_to = {_addr(str(v)) for v in (original.get_all("To") or [])} - {""}
    failed_header = {_addr(v) for v in str(msg.get("X-Failed-Recipients") or "").split(",")} - {""}
    original_to -= exclude
    recipients = _plain(body, cut, exclude, failed_header or original_to)
    if failed_header:
        recipients = [r for r in recipients if r.address in failed_header] or [
            BouncedRecipient(a, "failed", "", "", "", *(_classify("failed", "", body)[:2]))
            for a in sorted(failed_header)
        ]
    if not recipients and original is not None:
        to = _addr(str(original.get("To") or ""))
        if to and to not in exclude:
            reason, hard, code = _classify("failed", "", body)
            recipients = [BouncedRecipient(to, "failed", "", code, "", reason, hard)]
    head = body[:3000].lower()
    if (
        recipients
        and _SIGNS.says("delay", f"{subject.lower()}\n{head}")
        and not _SIGNS.says("permanent", head)
    ):
        # A warning that delivery is still being tried: not a bounce, never hard.
        parsed.kind = "delay"
        parsed.recipients = [dataclasses.replace(r, action="delayed") for r in recipients]
    elif recipients:
        parsed.kind = "bounce"
        parsed.recipients = recipients
    return parsed
