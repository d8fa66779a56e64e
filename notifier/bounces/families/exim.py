"""Exim ("Mail Delivery System" sender, its "E1P1YNN-0003AD-Ga" Message-ID, its subjects): the
command its "SMTP error from remote mail server after ..." line names (HELO/EHLO: our host was
refused), and the messages Exim itself writes (deliver.c, route.c, transports/*.c), which say why
without any SMTP reply: "user not found" an unknown user, "Unrouteable address" no such domain,
"retry timeout exceeded" expired, ... (Sisimai lib/sisimai/lhost/exim.rb: ReCommands,
MessagesOf, DelayedFor)."""

from __future__ import annotations

import email.message
import re

from notifier.bounces.families.common import header
from notifier.bounces.families.verdicts import Table, final
from notifier.bounces.report import BouncedRecipient

__all__ = ["DELAYED", "MESSAGES", "detect", "read"]

_MAIL_RU = re.compile(r"@.+\.mail\.ru>?")
_MESSAGE_ID = re.compile(r"^<\w{7}-\w{6}-\w{2}@")
_SUBJECT = re.compile(
    r"Mail delivery failed(: returning message to sender)?|Warning: message .+ delayed +"
    r"|Delivery Status Notification|Mail failure|Message frozen|error\(s\) in forwarding or filtering"
)
# transports/smtp.c: "SMTP error from remote mail server after %s%s: " (and LMTP's).
_COMMAND = re.compile(
    r"(?:SMTP error from remote (?:mail server|mailer)|LMTP error) after (?:end of )?([A-Za-z]{4})"
)
# Exim's own messages, in Sisimai's order (exim.rb MessagesOf, with the source lines it cites).
MESSAGES: Table = (
    ("user_unknown", ("user not found",)),  # route.c: getpwnam() found no such local user
    (
        "host_unknown",
        (
            "all host address lookups failed permanently",  # transports/smtp.c
            "all relevant MX records point to non-existent hosts",  # routers/dnslookup.c
            "Unrouteable address",  # route.c
        ),
    ),
    ("mailbox_full", ("mailbox is full", "error: quota exceed")),  # transports/appendfile.c
    (
        "not_accept",
        (
            "an MX or SRV record indicated no SMTP service",  # routers/dnslookup.c
            "no host found for existing SMTP connection",  # transports/smtp.c
        ),
    ),
    (
        "syntax_error",
        (
            "angle-brackets nested too deep",  # parser.c
            'expected word or "<"',
            "domain missing in source-routed address",
            "malformed address:",
        ),
    ),
    (
        "system",
        (
            "delivery to file forbidden",  # deliver.c
            "delivery to pipe forbidden",
            "local delivery failed",  # transports/pipe.c
            "LMTP error after ",
        ),
    ),
    ("content_error", ('Too many "Received" headers',)),  # deliver.c: suspected mail loop
)
# retry.c, deliver.c, smtp.c: Exim gave up retrying, or froze the message.
DELAYED = (
    "retry timeout exceeded",
    "No action is required on your part",
    "retry time not reached for any host after a long failure period",
    "all hosts have been failing for a long time and were last tried",
    "Delay reason: ",
    "has been frozen",
    "was frozen on arrival by ",
)


def detect(msg: email.message.Message, body: str) -> bool:
    sender = str(msg.get("From") or "")
    if ".mail.ru" in sender and _MAIL_RU.search(sender):
        return False  # Mail.ru runs Exim with messages of its own
    # Two of its three signs (the subject, the dearest to test, only when it decides).
    signs = int(sender.lstrip().startswith("Mail Delivery System"))
    signs += int(bool(_MESSAGE_ID.match(str(msg.get("Message-ID") or "").strip())))
    return signs == 2 or (signs == 1 and bool(_SUBJECT.search(header(msg, "Subject"))))


def _paragraph(body: str, address: str) -> str:
    """The recipient's paragraph: its line ("  ADDRESS" or "  ADDRESS: ...") and the indented
    lines under it, up to the next blank line."""
    lines = body.splitlines()
    for i, line in enumerate(lines):
        if line.strip().lower().lstrip("<").startswith(address):
            out = [line]
            for more in lines[i + 1 : i + 12]:
                if not more.strip():
                    break
                out.append(more)
            return " ".join(" ".join(out).split())
    return ""


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    text = f"{r.diagnostic} {_paragraph(body, r.address)}"
    m = _COMMAND.search(text)
    command = m.group(1).upper() if m else ""
    if command in ("HELO", "EHLO"):
        return "blocked"  # "Connected to ... but my name was rejected"
    if command == "MAIL":
        return None  # Sisimai leaves it open ("onhold"): the general reading decides
    verdict = next((reason for reason, said in MESSAGES if any(s in text for s in said)), None)
    if verdict is None and any(s in text for s in DELAYED):
        verdict = "expired"
    return final(verdict, r, text, command=command)
