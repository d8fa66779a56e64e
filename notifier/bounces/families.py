"""Bounce formats that carry their own verdict: mail systems whose reports say why in words,
codes or fields of their own, which settle the reason before the general vocabulary is asked.

Each family is recognised by its report's own headers or diagnostic lines (never by the words we
then read) and
read with the wording table its format publishes, as Sisimai's per-MTA modules carry them
(reference: bounces-and-tracking.md, "Parsers and taxonomies"; Sisimai lib/sisimai/lhost/
{domino,exchange2003,imailserver,mcafee,powermta,googlegroups,ezweb}.rb):

- IBM Domino ("DELIVERY FAILURE:" subject): "not listed in Domino Directory" is an unknown user
  whatever the SMTP command, "Cannot route mail to user" a filter.
- Microsoft Exchange 2003 / Internet Mail Service (an MSEXCH: line, X-MS-Embedded-Report, its X-Mailer or
  X-MimeOLE, a Received "with Internet Mail Service"): the eight-digit MSEXCH code names it
  (000C05A6 unknown recipient, 000C0595 ambiguous recipient, ...).
- Ipswitch IMail ("Undeliverable Mail", X-Mailer <SMTP32 v...>): the line that names the
  recipient begins with the reason ("Unknown user:", "User mailbox exceeds allowed size").
- McAfee Email Appliance (X-NAI-Header "Modified by McAfee"): "550 Unknown user ADDRESS",
  "User (ADDRESS) unknown.", "No such user".
- PowerMTA: the DSN's X-PowerMTA-BounceCategory field (bad-mailbox, quota-issues, ...).
- Google Groups (mailer-daemon@googlemail.com naming a @googlegroups.com failed recipient): the
  group refused the post; the four bullet points of its notice, in whatever language, say the
  group may not exist or may not take posts from us (rejected), else it is unclear (on hold).
- au EZweb / au.com: the line above the recipient says it ("The user(s) account is disabled."
  = suspended, "... temporarily over quota" = full); a ">>> RCPT" transcript line = unknown user.
"""

from __future__ import annotations

import dataclasses
import email.message
import re
from collections.abc import Callable

from notifier.bounces.reasons import is_hard
from notifier.bounces.report import BouncedRecipient

__all__ = ["FAMILIES", "family_of", "with_family_reasons"]

Reader = Callable[[email.message.Message, str, BouncedRecipient], "str | None"]


def _header(msg: email.message.Message, name: str) -> str:
    return " ".join(str(msg.get(name) or "").split())


def _lines_about(body: str, address: str) -> str:
    """The recipient's diagnostic lines: those that name it, and for reports that put the
    reason on the line after ("because:", an indented MSEXCH line) the next two lines."""
    lines = body.splitlines()
    out: list[str] = []
    for i, line in enumerate(lines):
        if address in line.lower():
            out.extend(lines[i : i + 3])
    return "\n".join(out)


# ---- IBM Domino -------------------------------------------------------------------------------
_DOMINO = (
    (
        "user_unknown",
        re.compile(
            r"not listed in (domino directory|public name & address book)"
            r"|domino ディレクトリには見つかりません",
            re.I,
        ),
    ),
    ("filtered", re.compile(r"cannot route mail to user", re.I)),
    ("system", re.compile(r"several matches found in domino directory", re.I)),
)


def _is_domino(msg: email.message.Message, body: str) -> bool:
    return _header(msg, "Subject").upper().startswith("DELIVERY FAILURE:")


def _domino(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    text = f"{r.diagnostic}\n{_lines_about(body, r.address)}"
    return next((reason for reason, rx in _DOMINO if rx.search(text)), None)


# ---- Microsoft Exchange 2003 -----------------------------------------------------------------
_MSEXCH_CODES = {
    "000C05A6": "user_unknown",  # Unknown Recipient
    "000C0595": "filtered",  # Ambiguous Recipient
    "000B099C": "on_hold",  # Host Unknown, Message exceeds size limit, ...
    "000B09AA": "on_hold",  # Unable to relay for, ...
    "000B09B6": "on_hold",  # Error messages by remote MTA
    "00010256": "system",  # Too many recipients
    "000D06B5": "system",  # No proxy for recipient
    "00120270": "network",  # Too Many Hops
    "00050311": "content_error",  # Conversion to Internet format failed
    "000502CC": "content_error",
    "000B0981": "security",  # 502 Server does not support AUTH
}
_MSEXCH = re.compile(r"MSEXCH:.*\(([0-9A-F]{8})\)")


def _is_exchange2003(msg: email.message.Message, body: str) -> bool:
    if msg.get("X-MS-Embedded-Report") is not None or _MSEXCH.search(body):
        # The MSEXCH diagnostic line is the format's own, whatever headers a relay left.
        return True
    mailer = _header(msg, "X-Mailer")
    if mailer.startswith(("Internet Mail Service (", "Microsoft Exchange Server Internet Mail Connector")):
        return True
    if _header(msg, "X-MimeOLE").startswith("Produced By Microsoft Exchange"):
        return True
    return any(
        " with Internet Mail Service (" in " ".join(str(v).split()) for v in msg.get_all("Received") or ()
    )


def _exchange2003(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    m = _MSEXCH.search(f"{r.diagnostic}\n{_lines_about(body, r.address)}")
    return _MSEXCH_CODES.get(m.group(1)) if m else None


# ---- Ipswitch IMail --------------------------------------------------------------------------
_IMAIL = (
    ("host_unknown", re.compile(r"unknown host", re.I)),
    ("user_unknown", re.compile(r"^\s*(unknown user|invalid final delivery userid)", re.I | re.M)),
    ("mailbox_full", re.compile(r"^\s*user mailbox exceeds allowed size", re.I | re.M)),
    ("virus_detected", re.compile(r"^\s*requested action not taken: virus detected", re.I | re.M)),
    ("expired", re.compile(r"^\s*delivery failed \d+ attempts", re.I | re.M)),
)


def _is_imail(msg: email.message.Message, body: str) -> bool:
    return bool(re.fullmatch(r"Undeliverable Mail\s*", _header(msg, "Subject"))) or _header(
        msg, "X-Mailer"
    ).startswith("<SMTP32 v")


def _imail(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    text = "\n".join(line for line in body.splitlines() if r.address in line.lower())
    return next((reason for reason, rx in _IMAIL if rx.search(text)), None)


# ---- McAfee Email Appliance ------------------------------------------------------------------
_MCAFEE_UNKNOWN = re.compile(
    r" user \(.+@.+\) unknown\. |550 unknown user [^ ]+@[^ ]+|550 <.+?@.+?>\.+ user not exist|no such user",
    re.I,
)


def _is_mcafee(msg: email.message.Message, body: str) -> bool:
    return _header(msg, "X-NAI-Header").startswith("Modified by McAfee ")


def _mcafee(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    text = f" {r.diagnostic} \n{_lines_about(body, r.address)}"
    return "user_unknown" if _MCAFEE_UNKNOWN.search(text) else None


# ---- PowerMTA ---------------------------------------------------------------------------------
_POWERMTA = {
    "bad-domain": "host_unknown",
    "bad-mailbox": "user_unknown",
    "inactive-mailbox": "suspended",
    "message-expired": "expired",
    "no-answer-from-host": "network",
    "policy-related": "policy",
    "quota-issues": "mailbox_full",
    "routing-errors": "system",
    "spam-related": "spam_detected",
}
_POWERMTA_FIELD = re.compile(r"^X-PowerMTA-BounceCategory:[ \t]*([a-z-]+)", re.I | re.M)


def _is_powermta(msg: email.message.Message, body: str) -> bool:
    return _header(msg, "Subject").startswith("Delivery report")


def _powermta(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    # The category sits in the recipient's field block, after its Final-Recipient line.
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        text = part.as_string()
        at = text.lower().find(r.address)
        if at < 0:
            continue
        block = text[at:].split("\n\n", 1)[0]
        m = _POWERMTA_FIELD.search(block)
        if m:
            return _POWERMTA.get(m.group(1).lower())
    return None


# ---- Google Groups ----------------------------------------------------------------------------
_BULLET = re.compile(r"^ ?\* ?", re.M)


def _is_google_groups(msg: email.message.Message, body: str) -> bool:
    return (
        _header(msg, "From").lower().endswith("<mailer-daemon@googlemail.com>")
        and _header(msg, "Subject").startswith("Delivery Status Notification")
        and "@googlegroups.com" in _header(msg, "X-Failed-Recipients").lower()
    )


def _google_groups(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    if not r.address.endswith("@googlegroups.com"):
        return None
    notice = body.split("----- Original message -----", 1)[0]
    return "rejected" if len(_BULLET.findall(notice)) == 4 else "on_hold"


# ---- au EZweb ---------------------------------------------------------------------------------
_EZWEB = (
    ("mailbox_full", re.compile(r"the user\(s\) account is temporarily over quota", re.I)),
    ("suspended", re.compile(r"the user\(s\) account is (disabled|temporarily limited)\.", re.I)),
    ("expired", re.compile(r"your message was not delivered within ", re.I)),
    ("on_hold", re.compile(r"each of the following recipients was rejected by a remote mail server", re.I)),
)
_EZWEB_RCPT = re.compile(r"^[ \t]+>>>[ \t]+RCPT", re.M)


def _is_ezweb(msg: email.message.Message, body: str) -> bool:
    sender = _header(msg, "From")
    received = [" ".join(str(v).split()) for v in msg.get_all("Received") or ()]
    signs = [
        "Postmaster@ezweb.ne.jp" in sender,
        "Postmaster@au.com" in sender,
        _header(msg, "Subject") == "Mail System Error - Returned Mail",
        any("ezweb.ne.jp (EZweb Mail) with" in v for v in received),
        any(".au.com (" in v for v in received),
        _header(msg, "Message-ID").endswith((".ezweb.ne.jp>", ".au.com>")),
    ]
    return sum(signs) >= 2


def _ezweb(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    if _header(msg, "X-SPASIGN") == "NG":
        return "filtered"  # au's own spam filter marks what it refused
    if _EZWEB_RCPT.search(body):
        return "user_unknown"
    return next((reason for reason, rx in _EZWEB if rx.search(body)), None)


FAMILIES: tuple[tuple[str, Callable[[email.message.Message, str], bool], Reader], ...] = (
    ("domino", _is_domino, _domino),
    ("exchange2003", _is_exchange2003, _exchange2003),
    ("imail", _is_imail, _imail),
    ("mcafee", _is_mcafee, _mcafee),
    ("powermta", _is_powermta, _powermta),
    ("googlegroups", _is_google_groups, _google_groups),
    ("ezweb", _is_ezweb, _ezweb),
)


def family_of(msg: email.message.Message, body: str) -> tuple[str, Reader] | None:
    """The family whose format ``msg`` (its notice text ``body``) is in, by its own headers or
    diagnostic lines, or None."""
    for name, test, reader in FAMILIES:
        if test(msg, body):
            return name, reader
    return None


def with_family_reasons(
    msg: email.message.Message, body: str, recipients: list[BouncedRecipient]
) -> list[BouncedRecipient]:
    """``recipients`` with the reason (and hard/soft) the report's own format gives, where it
    gives one; the others as they were."""
    family = family_of(msg, body)
    if family is None:
        return recipients
    reader = family[1]
    out = []
    for r in recipients:
        reason = reader(msg, body, r) if r.action in ("failed", "delayed") else None
        if reason is None or reason == r.reason or (reason == "on_hold" and r.reason not in ("other", "")):
            # "On hold" from a format says only that its words were unclear: a status code or
            # words the general reading placed still say more.
            out.append(r)
            continue
        klass = r.reply_code[:1] or r.status[:1] or "5"
        out.append(dataclasses.replace(r, reason=reason, hard=is_hard(reason, klass)))
    return out
