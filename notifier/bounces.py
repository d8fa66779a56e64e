"""Read bounce and complaint mail: RFC 3464 delivery-status reports, RFC 5965 feedback
reports, RFC 3834 auto-replies, and the plain-text bounces many MTAs still send.

Pure: bytes in, a :class:`ParsedBounce` out; nothing here touches the ledger. Reasons use
the reply vocabulary of ``notifier.replies`` (and ``complaint``, ``vacation``).
"""

from __future__ import annotations

import dataclasses
import email
import email.message
import re
from dataclasses import dataclass, field
from email.header import decode_header, make_header

from .replies import classify_reply

__all__ = ["BouncedRecipient", "ParsedBounce", "parse_bounce"]

_ADDRESS = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+"
)
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_CODE = re.compile(r"(?<![\d.])([245]\d\d)(?![\d.])")
_AUTO_SUBJECT = re.compile(
    r"out of (the )?office|auto(matic)?[ -]?(reply|response)|vacation|abwesenheit|absence", re.I
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|delivery (status|failure|has failed)|returned mail|failure notice|"
    r"mail delivery|could not be delivered|non.?delivery|delivery problem|rejected|"
    r"failed|warning: could not send",
    re.I,
)
_NOT_RECIPIENTS = re.compile(
    r"^(mailer-daemon|postmaster|root|noreply|no-reply|bounce[s]?|mail-daemon)@", re.I
)


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

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "original_message_id": self.original_message_id,
            "envelope_to": self.envelope_to,
            "feedback_type": self.feedback_type,
            "recipients": [dataclasses.asdict(r) for r in self.recipients],
        }


def _text(value: object) -> str:
    if value is None:
        return ""
    try:
        return str(make_header(decode_header(str(value))))
    except Exception:
        return str(value)


def _addr(value: str) -> str:
    """The address in "rfc822; a@b", "<a@b>" or plain text, lower-cased."""
    m = _ADDRESS.search(value.replace("rfc822;", " ").replace("RFC822;", " "))
    return m.group(0).strip(".").lower() if m else ""


def _body_text(msg: email.message.Message) -> str:
    parts = []
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype in ("text/plain", "text/html") and not part.is_multipart():
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                text = payload.decode(part.get_content_charset() or "utf-8", errors="replace")
                if ctype == "text/html":
                    text = re.sub(r"<[^>]+>", " ", text)
                parts.append(text)
        if ctype in ("message/rfc822", "text/rfc822-headers"):
            break  # the returned original starts here
    if not parts and not msg.is_multipart():
        payload = msg.get_payload(decode=True)
        if isinstance(payload, bytes):
            parts.append(payload.decode("utf-8", errors="replace"))
    return "\n".join(parts)


def _original_headers(msg: email.message.Message) -> email.message.Message | None:
    for part in msg.walk():
        ctype = part.get_content_type()
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


_EXPIRED = re.compile(
    r"giving up|all hosts have been failing|for the last \d+ seconds|retry time(out)? (not "
    r"reached|exceeded)|could not be delivered (within|for)|delivery time expired|message expired|"
    r"too long in (the )?queue|time limit",
    re.I,
)


def _classify(action: str, status: str, diagnostic: str) -> tuple[str, bool, str]:
    text = f"{status} {diagnostic}"
    if _EXPIRED.search(text) or status.endswith(".4.7"):
        return "expired", False, ""
    if status.endswith(".7.13"):  # account disabled or suspended
        return "mailbox_disabled", False, status[0] + "50"
    code_m = _CODE.search(diagnostic)
    code = int(code_m.group(1)) if code_m else None
    text = f"{status} {diagnostic}".strip()
    if code is None and status:
        code = {"5": 550, "4": 450, "2": 250}[status[0]]
    if action == "delayed":
        code = code if code and code < 500 else 450
    c = classify_reply(code, text)
    reason = c.reason if c.reason != "delivered" or action == "delivered" else "other"
    hard = c.hard or (reason in ("user_unknown", "host_unknown", "has_moved") and (code or 0) >= 500)
    return reason, hard and action != "delayed", str(code or "")


def _dsn(msg: email.message.Message) -> list[BouncedRecipient]:
    out: list[BouncedRecipient] = []
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        if not isinstance(blocks, list):
            blocks = [email.message_from_string(str(blocks))]
        for block in blocks:
            if not isinstance(block, email.message.Message):
                continue
            address = _addr(str(block.get("Final-Recipient") or block.get("Original-Recipient") or ""))
            if not address:
                continue
            action = str(block.get("Action") or "failed").strip().lower()
            status_m = _STATUS.search(str(block.get("Status") or ""))
            status = status_m.group(0) if status_m else ""
            diagnostic = " ".join(str(block.get("Diagnostic-Code") or "").replace("smtp;", " ").split())
            reason, hard, code = _classify(action, status, diagnostic)
            out.append(BouncedRecipient(address, action, status, code, diagnostic, reason, hard))
    return out


_RETURNED = re.compile(
    r"^.{0,12}(-{2,}|={2,}|\*{2,}).{0,40}(original message|copy of the message|returned message|"
    r"below this line|message headers|original headers|unsent message|text of the message)"
    r"|^content-type: message/rfc822|^(original message|the original message) (was|follows|headers)",
    re.I | re.M,
)
_NOISE_LINE = re.compile(
    r"^\s*(message-id|received|from|return-path|reply-to|references|in-reply-to|"
    r"x-[a-z-]+|dkim-signature|arc-[a-z-]+|authentication-results)\s*:",
    re.I,
)
_ID_LOCAL = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-|^[0-9a-f.]{12,}$|^[0-9]{6,}\.|=|^ca[a-z0-9+_-]{30,}$", re.I
)
_DIAGNOSTIC_WORDS = re.compile(
    r"\b[245]\d\d\b|\b[245]\.\d+\.\d+\b|unknown|not exist|no such|invalid|"
    r"rejected|full|quota|disabled|failed|refused|denied|unavailable",
    re.I,
)


def _plain(
    msg: email.message.Message, text: str, exclude: set[str], original_to: set[str]
) -> list[BouncedRecipient]:
    """Plain-text bounces: addresses named in the notice part (not in the returned copy),
    with the text around them."""
    cut = _RETURNED.search(text)
    notice = text[: cut.start()] if cut else text
    found: dict[str, str] = {}
    for m in _ADDRESS.finditer(notice):
        address = m.group(0).strip(".").lower()
        local = address.rpartition("@")[0]
        line_start = notice.rfind("\n", 0, m.start()) + 1
        line = notice[line_start : notice.find("\n", m.end()) if "\n" in notice[m.end() :] else len(notice)]
        if (
            address in exclude
            or _NOT_RECIPIENTS.match(address)
            or address in found
            or _ID_LOCAL.search(local)
            or _NOISE_LINE.match(line)
            or "mailfrom=" in line.lower()
        ):
            continue
        context = notice[line_start : line_start + 600]
        found[address] = " ".join(context.split())
    if original_to and set(found) & original_to:
        found = {a: c for a, c in found.items() if a in original_to}
    elif len(found) > 1:
        flagged = {a: c for a, c in found.items() if _DIAGNOSTIC_WORDS.search(c[:200])}
        found = flagged or found
    out = []
    for address, context in found.items():
        status_m = _STATUS.search(context)
        status = status_m.group(0) if status_m else ""
        reason, hard, code = _classify("failed", status, context)
        out.append(BouncedRecipient(address, "failed", status, code, context[:300], reason, hard))
    return out


def parse_bounce(raw: bytes) -> ParsedBounce:
    """What a message says about delivery. Never raises for a malformed message."""
    msg = email.message_from_bytes(raw)
    ctype = msg.get_content_type()
    report_type = str(msg.get_param("report-type") or "").lower()
    subject = _text(msg.get("Subject"))
    original = _original_headers(msg)
    parsed = ParsedBounce("not-bounce")
    parsed.envelope_to = _addr(
        str(msg.get("X-Original-To") or msg.get("Delivered-To") or msg.get("To") or "")
    )
    if original is not None:
        parsed.original_message_id = str(original.get("Message-ID") or "").strip()
    sender = _addr(str(msg.get("From") or ""))
    # The bounce goes back to the original sender: neither it nor the reporting system bounced.
    exclude = {sender, _addr(str(msg.get("To") or ""))} - {""}
    if original is not None:
        exclude |= {_addr(str(original.get("From") or "")), _addr(str(original.get("Return-Path") or ""))} - {
            ""
        }

    feedback = next((p for p in msg.walk() if p.get_content_type() == "message/feedback-report"), None)
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

    dsn = _dsn(msg)
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
    ) and not _BOUNCE_SUBJECT.search(subject):
        parsed.kind = "auto-reply"
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
    recipients = _plain(msg, _body_text(msg), exclude, failed_header or original_to)
    if failed_header:
        recipients = [r for r in recipients if r.address in failed_header] or [
            BouncedRecipient(a, "failed", "", "", "", *(_classify("failed", "", _body_text(msg))[:2]))
            for a in sorted(failed_header)
        ]
    if not recipients and original is not None:
        to = _addr(str(original.get("To") or ""))
        if to:
            reason, hard, code = _classify("failed", "", _body_text(msg))
            recipients = [BouncedRecipient(to, "failed", "", code, "", reason, hard)]
    if recipients:
        parsed.kind = "bounce"
        parsed.recipients = recipients
    return parsed
