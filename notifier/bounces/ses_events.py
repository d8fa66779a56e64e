"""Amazon SES delivery events: Bounce, Complaint, Delivery, DeliveryDelay, Reject (and Send),
in both the SES notification format (``notificationType``) and the event-publishing format
(``eventType``), bare or inside an SNS envelope.

Pure: JSON in, :class:`~notifier.bounces.parse.ParsedBounce` out. SES bounceType Permanent is hard,
Transient soft, Undetermined unknown (soft), except that a refusal that is our own problem
(reputation, authentication, content) never counts as hard (reference:
bounces-and-tracking.md, "Amazon SES").
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from notifier.bounces.parse import BouncedRecipient, ParsedBounce
from notifier.bounces.reasons import OUR_PROBLEM, reason_for

__all__ = ["parse_ses_event", "parse_ses_json", "ses_timestamp"]

_SUBTYPE_REASON = {
    "noemail": "user_unknown",
    "suppressed": "suppressed",
    "onaccountsuppressionlist": "suppressed",
    "mailboxfull": "mailbox_full",
    "messagetoolarge": "message_too_big",
    "contentrejected": "content_error",
    "attachmentrejected": "policy",
}


def ses_timestamp(value: object) -> float | None:
    """Seconds since the epoch from SES's ISO 8601 timestamps ("2016-01-27T14:59:38.237Z")."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _diagnostic(recipient: dict[str, Any]) -> tuple[str, str]:
    """(the reply text without its "smtp;" type, its three-digit code or "")."""
    raw = str(recipient.get("diagnosticCode") or "")
    kind, sep, rest = raw.partition(";")
    text = rest.strip() if sep and kind.strip().lower() == "smtp" else raw
    return text, text[:3] if text[:3].isdigit() else ""


def _bounced(info: dict[str, Any]) -> list[BouncedRecipient]:
    kind = str(info.get("bounceType") or "Undetermined")
    subtype = str(info.get("bounceSubType") or "").lower()
    out = []
    for r in info.get("bouncedRecipients") or []:
        if not isinstance(r, dict) or not r.get("emailAddress"):
            continue
        status = str(r.get("status") or "")
        diagnostic, code = _diagnostic(r)
        reason = _SUBTYPE_REASON.get(subtype, "")
        if not reason and (diagnostic or status):
            reason = reason_for(status=status, code=code, text=diagnostic)
        if not reason or reason in ("on_hold", "other"):
            reason = "user_unknown" if kind == "Permanent" and subtype == "general" else "on_hold"
        hard = kind == "Permanent" and reason not in OUR_PROBLEM
        out.append(
            BouncedRecipient(
                str(r["emailAddress"]).lower(),
                str(r.get("action") or "failed"),
                status,
                code,
                diagnostic,
                reason,
                hard,
            )
        )
    return out


def parse_ses_event(event: dict[str, Any]) -> ParsedBounce | None:
    """One SES event; None when the object is not one."""
    kind = str(event.get("notificationType") or event.get("eventType") or "")
    mail = event.get("mail")
    if not kind or not isinstance(mail, dict):
        return None
    parsed = ParsedBounce("not-bounce")
    parsed.provider_id = str(mail.get("messageId") or "")
    headers = mail.get("commonHeaders") or {}
    if isinstance(headers, dict):
        parsed.original_message_id = str(headers.get("messageId") or "")
    source = str(mail.get("source") or "")
    parsed.envelope_to = source.lower()  # the Return-Path SES used: our VERP address, if any
    at: object = mail.get("timestamp")
    if kind == "Bounce":
        info = event.get("bounce") or {}
        parsed.kind = "bounce"
        parsed.recipients = _bounced(info)
        at = info.get("timestamp") or at
    elif kind == "DeliveryDelay":
        info = event.get("deliveryDelay") or {}
        parsed.kind = "delay"
        at = info.get("timestamp") or at
        for r in info.get("delayedRecipients") or []:
            if isinstance(r, dict) and r.get("emailAddress"):
                diagnostic, code = _diagnostic(r)
                status = str(r.get("status") or "")
                reason = reason_for(status=status, code=code, text=diagnostic, action="delayed")
                parsed.recipients.append(
                    BouncedRecipient(
                        str(r["emailAddress"]).lower(), "delayed", status, code, diagnostic, reason, False
                    )
                )
    elif kind == "Complaint":
        info = event.get("complaint") or {}
        parsed.kind = "complaint"
        parsed.feedback_type = str(info.get("complaintFeedbackType") or "abuse")
        at = info.get("timestamp") or at
        for r in info.get("complainedRecipients") or []:
            if isinstance(r, dict) and r.get("emailAddress"):
                parsed.recipients.append(
                    BouncedRecipient(
                        str(r["emailAddress"]).lower(),
                        "complaint",
                        "",
                        "",
                        parsed.feedback_type,
                        "complaint",
                        False,
                    )
                )
    elif kind == "Delivery":
        info = event.get("delivery") or {}
        parsed.kind = "delivered"
        at = info.get("timestamp") or at
        reply = str(info.get("smtpResponse") or "")
        for address in info.get("recipients") or []:
            parsed.recipients.append(
                BouncedRecipient(
                    str(address).lower(), "delivered", "2.0.0", reply[:3], reply, "delivered", False
                )
            )
    elif kind == "Reject":
        # SES refused to send at all (a virus in the message): our problem, for every recipient.
        parsed.kind = "bounce"
        why = str((event.get("reject") or {}).get("reason") or "rejected by SES")
        for address in mail.get("destination") or []:
            parsed.recipients.append(
                BouncedRecipient(str(address).lower(), "failed", "", "", why, "content_error", False)
            )
    else:
        parsed.kind = "not-bounce"  # Send, Open, Click, Rendering Failure, Subscription: not delivery news
    parsed.at = ses_timestamp(at)
    return parsed


def parse_ses_json(raw: bytes) -> ParsedBounce | None:
    """A saved SES event or SNS notification (JSON); None when it is neither."""
    try:
        obj = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(obj, dict):
        return None
    if obj.get("Type") == "Notification" and isinstance(obj.get("Message"), str):
        try:
            inner = json.loads(obj["Message"])
        except ValueError:
            return None
        parsed = parse_ses_event(inner) if isinstance(inner, dict) else None
        if parsed is not None:
            parsed.event_id = str(obj.get("MessageId") or "")
        return parsed
    return parse_ses_event(obj)
