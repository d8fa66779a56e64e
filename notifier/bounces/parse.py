"""Read bounce and complaint mail: RFC 3464 delivery-status reports, RFC 5965 feedback
reports, RFC 3834 auto-replies, and the plain-text bounces many MTAs still send.

Pure: bytes in, a :class:`ParsedBounce` out; nothing here touches the ledger. Reasons use
the reply vocabulary of ``notifier.bounces.replies`` (and ``complaint``, ``vacation``). The
reports' field blocks are read in ``dsn``, plain-text notices in ``plaintext``, the MIME
structure in ``mime``.
"""

from __future__ import annotations

import dataclasses
import email
import email.message
import re

from notifier.bounces.dsn import SIGNS, classify, dsn_recipients
from notifier.bounces.families import (
    family_of,
    own_names_over_fields,
    own_recipients,
    reads_as_plain,
    with_family_reasons,
)
from notifier.bounces.mime import (
    address_in,
    body_text,
    date_of,
    header_text,
    original_headers,
    returned_at,
    senders_and_lists,
    walk,
    without_returned_body,
)
from notifier.bounces.mimesplit import message_from
from notifier.bounces.plaintext import NOT_RECIPIENTS, plain_recipients, received_for, returned_copy
from notifier.bounces.report import BouncedRecipient, ParsedBounce

__all__ = ["BouncedRecipient", "ParsedBounce", "parse_bounce"]

# RFC 3834 auto-replies and the subjects common clients give them (Outlook "Automatic reply:",
# "Auto:", Exchange OOF, Gmail/Zimbra vacation, German/French/Spanish/Italian/Dutch clients).
_AUTO_SUBJECT = re.compile(
    r"out of (the )?office|auto(matic)?[ -]?(reply|response|antwort)|vacation|abwesenheit|absence|"
    r"^auto:|r[ée]ponse automatique|respuesta autom[áa]tica|risposta automatica|automatisch antwoord|"
    r"automatische (antwort|rückmeldung)|away from (my|the) (desk|office)|"
    # Latvian, Polish, Czech, Slovak, Hungarian, Finnish, Scandinavian, Portuguese, Romanian,
    # Turkish, Russian, Greek, Japanese, Chinese and Korean clients' auto-reply subjects.
    r"autom[aā]tisk[aā] atbilde|automatyczna odpowied|automatick[áa] odpov|automatikus v[áa]lasz|"
    r"automaattinen vastaus|autosvar|automatisk svar|resposta autom[áa]tica|r[ăa]spuns automat|"
    r"otomatik (yan[ıi]t|cevap)|автоответ|автоматический ответ|αυτόματη απάντηση|"
    r"自動応答|自動返信|自动回复|自動回覆|자동 ?응답",
    re.I,
)
_OOF = re.compile(r"oof|autoreply", re.I)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|delivery (status|failure|has failed)|returned mail|failure notice|"
    r"mail delivery|could not be delivered|non.?delivery|delivery problem|rejected|"
    r"failed|failure|warning: could not send|warning: message .{0,60} delayed|delayed mail|"
    # MDaemon: "Warning: someone@example.org - User unknown!"
    r"user unknown|unknown (user|recipient)|no such (user|recipient|mailbox)|"
    # Non-delivery subjects in the languages Exchange, Notes and Japanese/Chinese/Korean MTAs use.
    r"unzustellbar|nicht zustellbar|non remis|non distribu|no se (puede|pudo) entregar|"
    r"no entregado|impossibile recapitare|non recapitat|onbestelbaar|niet bezorgd|"
    r"n[ãa]o (foi poss[íi]vel )?entreg|不能|未送達|エラー|返送|退信|退回|无法投递|반송|전달 실패",
    re.I,
)
_ARF_TYPE = re.compile(r"report-type\s*=\s*\"?feedback-report", re.I)
_ARF_FIELD = re.compile(r"^Feedback-Type:[ \t]*[A-Za-z-]+[ \t]*$", re.M | re.I)
_ARF_OTHER = re.compile(
    r"^(User-Agent|Version|Original-Rcpt-To|Original-Mail-From|Arrival-Date|Source-IP):", re.M | re.I
)
_ARF_LINE = re.compile(
    r"^(?:Feedback-Type|User-Agent|Version|Original-Rcpt-To|Original-Mail-From|Arrival-Date|"
    r"Source-IP|Reported-Domain|Redacted-Address):[^\n]*$",
    re.M | re.I,
)
_COMPLAINT_SENDERS = frozenset({"staff@hotmail.com", "complaints@email-abuse.amazonses.com"})
_FOLDED = re.compile(r"!?\r?\n ")


def _is_microsoft_complaint(sender: str, subject: str) -> bool:
    """Microsoft's Junk Mail Reporting Program (and Amazon SES forwarding complaints the same
    way) sends complaints without an RFC 5965 report: "complaint about message from IP" from
    staff@hotmail.com (Sisimai lib/sisimai/arf.rb is_arf)."""
    return sender in _COMPLAINT_SENDERS and "complaint about message from " in subject.lower()


def _auto_reply(parsed: ParsedBounce, sender: str) -> ParsedBounce:
    """An RFC 3834 auto-reply: who answered is its sender, reported as such, never as a bounce."""
    parsed.kind = "auto-reply"
    if sender and not NOT_RECIPIENTS.match(sender):
        parsed.recipients = [BouncedRecipient(sender, "auto-replied", "", "", "", "vacation", False)]
    return parsed


def parse_bounce(raw: bytes) -> ParsedBounce:
    """What a message says about delivery. Never raises for a malformed message."""
    if raw.lstrip()[:1] == b"{":
        from notifier.bounces.ses_events import parse_ses_json

        return parse_ses_json(raw) or ParsedBounce("not-bounce")
    # CRLF (as received), LF (as stored) and CR-only (old Mac tools, some archives) must read
    # alike: every pattern below works on "\n" lines.
    raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    msg = message_from(without_returned_body(raw))  # what email.message_from_bytes gives, faster
    ctype = msg.get_content_type()
    report_type = str(msg.get_param("report-type") or "").lower()
    subject = header_text(msg.get("Subject"))
    walked = walk(msg)
    original = original_headers(walked)
    parsed = ParsedBounce("not-bounce")
    parsed.envelope_to = address_in(
        str(msg.get("X-Original-To") or msg.get("Delivered-To") or msg.get("To") or "")
    )
    if original is not None:
        parsed.original_message_id = str(original.get("Message-ID") or "").strip()
    parsed.at = date_of(msg.get("Date"))
    body = body_text(msg, walked)
    if not body.strip():  # MIME structure too broken to walk: read the raw text
        body = raw.split(b"\n\n", 1)[-1].decode("utf-8", errors="replace")
    # A quoted copy's headers only tell who must never be taken for the recipient (its To may
    # be a list or an alias, not who bounced).
    cut = returned_at(body)
    quoted = returned_copy(body, cut) if original is None else None
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
    sender = address_in(str(msg.get("From") or ""))
    exclude = senders_and_lists(msg, original or quoted)

    feedback = next((p for p, ctype in walked if ctype == "message/feedback-report"), None)
    arf_text = None
    # A report whose MIME is too broken to find its feedback part (or whose Content-Type names
    # it in a way the parser misses, as Sisimai's arf.rb matches it on the raw header): its
    # RFC 5965 fields are still lines of the text.
    if feedback is None and (
        _ARF_TYPE.search(str(msg.get("Content-Type") or ""))
        or (_ARF_FIELD.search(body) and _ARF_OTHER.search(body))
    ):
        arf_text = email.message_from_string("\n".join(_ARF_LINE.findall(body)))
    if (
        report_type == "feedback-report"
        or feedback is not None
        or arf_text is not None
        or _is_microsoft_complaint(sender, subject)
    ):
        parsed.kind = "complaint"
        fields: email.message.Message | None = arf_text
        if feedback is not None:
            payload = feedback.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], email.message.Message):
                fields = payload[0]
        parsed.feedback_type = str(fields.get("Feedback-Type", "") if fields else "").strip().lower()
        rcpts = [address_in(str(v)) for v in (fields.get_all("Original-Rcpt-To") or [])] if fields else []
        if not rcpts and original is not None and original.get("X-HmXmrOriginalRecipient"):
            # Microsoft's Junk Mail Reporting Program names who complained in the returned copy.
            rcpts = [address_in(str(original.get("X-HmXmrOriginalRecipient")))]
            parsed.feedback_type = parsed.feedback_type or "abuse"
        if not rcpts and original is not None:
            rcpts = [address_in(str(original.get("To") or ""))]
        for address in dict.fromkeys(a for a in rcpts if a):
            parsed.recipients.append(
                BouncedRecipient(address, "complaint", "", "", parsed.feedback_type, "complaint", False)
            )
        return parsed

    dsn = dsn_recipients(walked, body)
    # A report naming our own sender or a list address as "failed" is about the return path,
    # never a person to mark as bounced; keep it only when it names nobody else.
    dsn = [r for r in dsn if r.address not in exclude] or dsn
    dsn = own_names_over_fields(msg, body, dsn)
    if dsn:
        failed = [r for r in dsn if r.action not in ("delivered", "relayed", "expanded")]
        if not failed:
            parsed.kind = "delivered"
            parsed.recipients = dsn
            return parsed
        parsed.kind = "delay" if all(r.action == "delayed" for r in failed) else "bounce"
        parsed.recipients = with_family_reasons(msg, body, failed)
        return parsed

    auto = str(msg.get("Auto-Submitted") or "").lower()
    null_from = str(msg.get("From") or "").strip() == "<>"
    answered = (
        # RFC 3834 section 5 and the headers Sisimai's rfc3834.rb also reads: "Precedence:
        # auto_reply" (older responders) and Apple's "X-Apple-Action: vacation". Not
        # "auto-generated": system notices and some bounces carry it too.
        auto.startswith(("auto-replied", "auto-notified"))
        or msg.get("X-Autoreply")
        or msg.get("X-Autorespond")
        or "auto_reply" in str(msg.get("Precedence") or "").lower()
        or "vacation" in str(msg.get("X-Apple-Action") or "").lower()
        # Exchange marks its out-of-office replies so that nothing answers them in turn.
        or _OOF.search(str(msg.get("X-Auto-Response-Suppress") or ""))
        or _AUTO_SUBJECT.search(subject)
    ) and not (
        # "From: <>" is a mail system's notice ("You sent mail to a@example.org. That's not a
        # valid user here."), not a person's auto-reply: there is nobody to report as replying.
        null_from
        or _BOUNCE_SUBJECT.search(subject)
        or msg.get("X-Failed-Recipients")
        or (NOT_RECIPIENTS.match(sender or "") and not _AUTO_SUBJECT.search(subject))
    )
    if answered and family_of(msg, body) is None:
        return _auto_reply(parsed, sender)
    # A mail system's own bounce format is read as a bounce whatever auto-reply headers it also
    # carries, and as the auto-reply it says it is only when it names no failed recipient:
    # Sisimai reads RFC 3834 replies after every MTA module declined (lib/sisimai/message.rb).

    looks_like_bounce = (
        answered
        or null_from
        or ctype == "multipart/report"
        or _BOUNCE_SUBJECT.search(subject)
        or NOT_RECIPIENTS.match(sender or "")
    )
    # A format whose family lists its recipients itself (see ``families.own_recipients``).
    own = own_recipients(msg, body)
    if not looks_like_bounce and not own:
        return parsed
    original_to = set()
    if original is not None:
        original_to = {address_in(str(v)) for v in (original.get_all("To") or [])} - {""}
    failed_header = {address_in(v) for v in str(msg.get("X-Failed-Recipients") or "").split(",")} - {""}
    original_to -= exclude
    recipients = [r for r in own if r.address not in exclude] or own
    if recipients and reads_as_plain(msg, body):
        # The format says who but not why in a layout of its own: each is read as the plain
        # text around it reads, where that finds the same people.
        named = {r.address for r in recipients}
        plain = plain_recipients(body, cut, exclude, named)
        if {r.address for r in plain} == named:
            recipients = plain
    recipients = recipients or plain_recipients(
        body, cut, exclude, failed_header or original_to or received_for(body, cut)
    )
    if failed_header:
        recipients = [r for r in recipients if r.address in failed_header] or [
            BouncedRecipient(a, "failed", "", "", "", *(classify("failed", "", body)[:2]))
            for a in sorted(failed_header)
        ]
    if not recipients and original is not None:
        to = address_in(str(original.get("To") or ""))
        if to and to not in exclude:
            reason, hard, code = classify("failed", "", body)
            recipients = [BouncedRecipient(to, "failed", "", code, "", reason, hard)]
    if answered and not (own or failed_header or any(r.status or r.reply_code for r in recipients)):
        # Addresses in an auto-reply's words ("please write to my colleague at ...") are nobody
        # who bounced: only a format's own recipient lines or an SMTP reply make it a bounce.
        return _auto_reply(parsed, sender)
    recipients = with_family_reasons(msg, body, recipients)
    head = body[:3000].lower()
    delayed = bool(recipients) and all(r.action == "delayed" for r in recipients)  # a format's own list
    if delayed or (
        recipients and SIGNS.says("delay", f"{subject.lower()}\n{head}") and not SIGNS.says("permanent", head)
    ):
        # A warning that delivery is still being tried: not a bounce, never hard.
        parsed.kind = "delay"
        parsed.recipients = [dataclasses.replace(r, action="delayed") for r in recipients]
    elif recipients:
        parsed.kind = "bounce"
        parsed.recipients = recipients
    return parsed
