"""RFC 3464 delivery-status reports: one recipient per field block (also when the MIME structure
is broken and the fields sit in the text), and the reason, hard/soft and reply code for each from
the diagnostic, the text about the recipient and the SMTP command it names."""

from __future__ import annotations

import email
import email.message
import re

from notifier.bounces.commands import command_named
from notifier.bounces.mime import RETURNED, Parts, address_in, unescaped
from notifier.bounces.phrases import PhraseBook
from notifier.bounces.reasons import command_in, is_hard, reason_for, status_in
from notifier.bounces.remote_hosts import host_in
from notifier.bounces.report import BouncedRecipient

__all__ = ["SIGNS", "classify", "dsn_recipients", "windows"]

_CODE = re.compile(r"(?<![\d.])([245]\d\d)(?![\d.])")
_BLANK_LINE = re.compile(r"\n\s*\n")
_FINAL_RECIPIENT = re.compile(r"^final-recipient:", re.I | re.M)
_VAGUE_REASONS = frozenset({"on_hold", "other", "system"})
# Signs read in the text of a bounce, matched as phrase tables (one keyword pass, then only the
# patterns a keyword points at).
SIGNS = PhraseBook(
    {
        # A warning that delivery is still being tried, and words that say it is not.
        "delay": (
            r"has not yet been delivered|will be retried|delivery attempts will continue|delayed \d+ hours|"
            r"warning: could not send|delivery status notification \(delay\)|still trying|delivery delayed|"
            r"will continue to (try|attempt)|has been postponed|mail delivery warning|advisory.only",
        ),
        "permanent": (r"permanent (error|failure)|failed permanently|giving up|given up",),
        # Words of a diagnostic: a line with them is about a failed recipient.
        "diagnostic": (
            r"\b[245]\d\d\b|\b[245]\.\d+\.\d+\b|unknown|not exist|no such|invalid|"
            r"rejected|full|quota|exceed|disabled|failed|refused|denied|unavailable|"
            r"does(n'?t| not) have|not found|no mailbox|no longer|inactive|suspended|blocked|"
            r"expired|unrout(e)?able|undeliverable|(can ?not|could not|couldn'?t) be delivered",
        ),
    }
)


def classify(
    action: str,
    status: str,
    diagnostic: str,
    context: str = "",
    dtype: str = "smtp",
    near: str = "",
    *,
    rhost: str = "",
    domain: str = "",
    lhost: str = "",
) -> tuple[str, bool, str]:
    """Reason, hard and reply code for one recipient. ``context`` is the text the bounce
    gives about the recipient, ``near`` a wider window: either often names the SMTP
    command that failed, which tells a filter's verdict (after DATA) from an unknown user.
    ``rhost`` is the host that answered (else the one the text names), ``domain`` the
    recipient's, ``lhost`` the reporting host: a remote provider's own wordings apply to them."""
    code_m = _CODE.search(diagnostic)
    code = code_m.group(1) if code_m else ""
    text = diagnostic or context
    command = command_in(diagnostic) or command_in(context) or command_in(near)
    # No phrase says: the command the diagnostic names in upper case (Sisimai rfc3464.rb falls
    # back to Sisimai::SMTP::Command.find on the diagnosis).
    command = command or command_named(diagnostic)
    rhost = rhost or host_in(diagnostic) or host_in(context) or host_in(near)
    said = {"status": status, "code": code, "command": command, "action": action, "diagnostic_type": dtype}
    where = {"rhost": rhost, "domain": domain, "lhost": lhost}
    reason = reason_for(text=text, **said, **where)
    if reason == "delivered" and action != "delivered":
        reason = "on_hold"
    if reason in _VAGUE_REASONS and near and near != text:
        # The lines about this recipient say little: the prose around them may say more.
        wider = reason_for(text=near, **said, **where)
        # (Not "mailer_error": that comes of the report's type, not of anything the prose says.)
        if wider not in _VAGUE_REASONS and wider not in ("delivered", "mailer_error"):
            reason = wider
    klass = code[:1] or status[:1] or ("5" if action == "failed" else "4")
    hard = is_hard(reason, klass)
    return reason, hard, code


def windows(text: str, address: str, width: int = 300) -> str:
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
                _CODE.search(rest) or status_in(rest) or SIGNS.says("diagnostic", rest.lower())
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


def _status_blocks(walked: Parts, human: str) -> list[email.message.Message]:
    """The per-recipient field blocks of a delivery-status report; when the MIME structure
    is broken (a boundary that never comes), the same fields found in the plain text."""
    blocks: list[email.message.Message] = []
    for part, ctype in walked:
        if ctype == "message/rfc822" and blocks:
            # The returned original after the report: when it is itself a bounce (a double
            # bounce), its report is about its own recipient, never ours.
            break
        if ctype == "message/delivery-status":
            payload = part.get_payload()
            if isinstance(payload, list):
                blocks += [b for b in payload if isinstance(b, email.message.Message)]
            else:
                blocks += [email.message_from_string(p) for p in _BLANK_LINE.split(str(payload))]
    if not blocks and "final-recipient:" in human.lower() and _FINAL_RECIPIENT.search(human):
        cut = RETURNED.search(human)
        text = human[: cut.start()] if cut else human
        paragraphs = _BLANK_LINE.split(text)
        blocks = [email.message_from_string(p.strip()) for p in paragraphs if "final-recipient:" in p.lower()]
    return blocks


def _mta(block: email.message.Message, field: str) -> str:
    """The host name of a Remote-MTA / Reporting-MTA field ("dns; mx.example.org"), or ""."""
    words = str(block.get(field) or "").partition(";")[2].split()
    return words[0].strip("[]").rstrip(".").lower() if words else ""


def _as_written(named: str) -> str:
    """The address in a recipient field as written ("rfc822; someone@#example.net"), if it has
    a local part and a domain and nothing that could end a header or hide in a log line."""
    value = named.partition(";")[2].strip() if ";" in named else named.strip()
    value = value.strip("<>").lower()
    local, at, domain = value.rpartition("@")
    if not (at and local and domain) or any(
        c.isspace() or c in '<>,;"' or not c.isprintable() for c in value
    ):
        return ""
    return value


def dsn_recipients(walked: Parts, human: str) -> list[BouncedRecipient]:
    out: list[BouncedRecipient] = []
    blocks = _status_blocks(walked, human)
    # The per-message block names the host that wrote the report (RFC 3464 section 2.2.2).
    reporting = (_mta(b, "Reporting-MTA") for b in blocks if isinstance(b, email.message.Message))
    lhost = next((h for h in reporting if h), "")
    for block in blocks:
        if not isinstance(block, email.message.Message):
            continue
        final = str(block.get("Final-Recipient") or "")
        original = str(block.get("Original-Recipient") or "")
        # An address no mail system would accept ("someone@#example.net") is still who the
        # report is about: taken as written when the address pattern finds none in either field.
        # A final address at a bare host name ("someone@sims-ms-daemon", Messaging Server's
        # local delivery agent) says less than the original address it came from.
        address = address_in(final)
        if not address:
            address = _as_written(final)
            if "." not in address.rpartition("@")[2]:
                address = address_in(original) or address or _as_written(original)
        if not address:
            continue
        # "relayed (to non-DSN-aware mailer)": the action is its first word (RFC 3464 2.3.3).
        action = (str(block.get("Action") or "failed").strip().lower().split() or ["failed"])[0]
        status = status_in(str(block.get("Status") or ""))
        if status.startswith("2.") and action not in ("relayed", "expanded"):
            # A success status under "deliverable" (Postfix's address verification), under no
            # action word, or under a wrong one.
            action = "delivered"
        raw_diagnostic = " ".join(unescaped(str(block.get("Diagnostic-Code") or "")).split())
        dtype, sep, rest = raw_diagnostic.partition(";")
        if sep and " " not in dtype.strip():
            dtype, diagnostic = dtype.strip().lower(), rest.strip()
        else:
            dtype, diagnostic = "smtp", raw_diagnostic
        context = _around(human, address)
        near = windows(human, address)
        if not diagnostic:
            # The report gives no diagnostic: the line naming the address may (OpenSMTPD,
            # Sendmail), else the prose around it.
            context = _telling_line(human, address) or near
        reason, hard, code = classify(
            action,
            status,
            diagnostic,
            context,
            dtype,
            near,
            rhost=_mta(block, "Remote-MTA"),
            domain=address.rpartition("@")[2],
            lhost=lhost,
        )
        out.append(BouncedRecipient(address, action, status, code, diagnostic, reason, hard))
    return out
