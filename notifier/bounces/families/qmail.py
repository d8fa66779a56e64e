"""qmail and its clones (Subject "failure notice" / "Permanent Delivery Failure", a Received
"(qmail N invoked for bounce)"): the command is told by qmail-remote's own sentences ("Connected
to H but sender was rejected." = MAIL, "... does not like recipient." = RCPT, "... failed on DATA
command." = DATA), and qmail, qmail-local and the qmail-ldap patch name their reasons in words of
their own (Sisimai lib/sisimai/lhost/qmail.rb, x4.rb: ReSMTP, MessagesOf, FailOnLDAP)."""

from __future__ import annotations

import email.message
import re

from notifier.bounces.families.verdicts import Table, by_command, final, first_in, head, listed, reread
from notifier.bounces.report import BouncedRecipient

__all__ = ["detect", "read", "recipients"]

_SMTP = (
    # Bounded, and no leading ".+" under search: linear on a hostile line.
    ("CONN", re.compile(r"Connected to [^\n]{1,300}? but greeting failed\.")),
    ("EHLO", re.compile(r"Connected to [^\n]{1,300}? but my name was rejected\.")),
    ("MAIL", re.compile(r"Connected to [^\n]{1,300}? but sender was rejected\.")),
    ("RCPT", re.compile(r"(?<=.) does not like recipient\.")),
    ("DATA", re.compile(r"(?<=.) failed on DATA command\.|(?<=.) failed after I sent the message\.")),
)
_PROGRESS = re.compile(r"Sorry, no SMTP connection got far enough; most progress was ([A-Z]{4}) ")
_ON_HOLD = re.compile(
    r"does not like recipient\.\s.{0,3000}?this message has been in the queue too long\.", re.S
)
_QMAIL: Table = (
    # Sisimai also lists qmail-remote's "does not like recipient." here; that sentence names the
    # command (RCPT, above), and the reply after it says why.
    ("user_unknown", ("no mailbox here by that name",)),
    ("mailbox_full", ("disk quota exceeded",)),
    ("message_too_big", ("Message size exceeds fixed maximum message size:",)),
    ("host_unknown", ("Sorry, I couldn't find any host ",)),
    ("system_full", ("Requested action not taken: mailbox unavailable (not enough free space)",)),
    ("system", ("bad interpreter: No such file or directory", "system error", "Unable to")),
    (
        "network",
        (
            "Sorry, I wasn't able to establish an SMTP connection",
            "Sorry, I couldn't find a mail exchanger or IP address",
            "Sorry. Although I'm listed as a best-preference MX or A for that host",
        ),
    ),
)
_LDAP: Table = (  # qmail-ldap-1.03-20040101.patch
    ("suspended", ("Mailaddress is administrativley disabled", "Mailaddress is administrativly disabled")),
    ("user_unknown", ("Sorry, no mailbox here by that name",)),
    ("exceed_limit", ("The message exeeded the maximum size the user accepts",)),
    (
        "system",
        (
            "Automatic homedir creator crashed",
            "Illegal value in LDAP attribute",
            "LDAP attribute is not given but mandatory",
            "Timeout while performing search on LDAP server",
            "Too many results returned but needs to be unique",
            "Permanent error while executing qmail-forward",
            "Temporary error in automatic homedir creation",
            "Temporary error while executing qmail-forward",
            "Temporary failure in LDAP lookup",
            "Unable to contact LDAP server",
            "Unable to login into LDAP server, bad credentials",
        ),
    ),
)
# qmail-remote.c names the host: "Giving up on H.", "Connected to H but ...", "remote host H said:".
_HOST = re.compile(
    r"Giving up on ([0-9A-Za-z.-]+[0-9A-Za-z])\.?"
    r"|Connected to ([-0-9A-Za-z.]+[0-9A-Za-z]) "
    r"|remote host ([-0-9A-Za-z.]+[0-9A-Za-z]) said:"
)
_VAGUE = frozenset({"", "other", "on_hold", "system"})
# How qmail-send and its clones open the notice (qmail.rb StartingOf, x4.rb MarkingsOf).
_OPENINGS = (
    "Hi. This is the qmail",
    "unable to deliver your message to the following addresses",
    "Su mensaje no pudo ser entregado",
    "This is the machine generated message from mail service",
    "This is the mail delivery agent at",
    "Unable to deliver message to the following address",
    "Unfortunately, your mail was not delivered to the following address:",
    "Your mail message to the following address",
    "Your message to the following addresses",
    "We're sorry.",
)
_INVOKED = re.compile(r"^\(qmail\s+\d+\s+invoked\s+(for\s+bounce|from\s+network)\)")
_RECIPIENT_LINE = re.compile(r"^(?:To\s*:)?<([^<>@\s]+@[^<>\s]+)>:\s*$")


def detect(msg: email.message.Message, body: str) -> bool:
    # Mail that merely passed through a qmail carries its Received line too: the notice must
    # also open as qmail-send's (or a clone's) does, as Sisimai reads no recipient otherwise.
    subject = head(msg, "Subject")
    if not (subject == "failure notice" or subject.startswith("Permanent Delivery Failure")) and not any(
        _INVOKED.match(" ".join(str(v).split())) for v in msg.get_all("Received") or () if "qmail" in str(v)
    ):
        return False
    return any(marker in body for marker in _OPENINGS)


def recipients(msg: email.message.Message, body: str) -> list[BouncedRecipient]:
    """Each "<a>:" line after the opening, up to the returned copy (qmail-send's own layout)."""
    start = next((at for at in (body.find(m) for m in _OPENINGS) if at >= 0), -1)
    if start < 0:
        return []
    end = body.find("\n--- ", start)
    found = [
        m.group(1)
        for line in body[start : end if end >= 0 else len(body)].splitlines()
        if (m := _RECIPIENT_LINE.match(line.strip()))
    ]
    return listed(body, found)


def _block(body: str, address: str) -> str:
    """The lines under the recipient's "<a>:" line, up to the next recipient or the copy."""
    out: list[str] | None = None
    for line in body.splitlines():
        m = _RECIPIENT_LINE.match(line.strip())
        if m:
            if out is not None:
                break
            if m.group(1).lower() == address:
                out = []
            continue
        if out is not None:
            if line.startswith("--- "):
                break
            if line.strip():
                out.append(line.strip())
    return " ".join(out or ())


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    text = _block(body, r.address)
    if not text:
        return None
    command = next((c for c, rx in _SMTP if rx.search(text)), "")
    if not command:
        m = _PROGRESS.search(text)
        command = m.group(1) if m else ""
    verdict = by_command(command)
    if verdict is not None:
        return verdict
    if _ON_HOLD.search(text):
        return "on_hold"
    host = _HOST.search(text)
    rhost = next((h for h in host.groups() if h), "") if host else ""
    said = text.partition("Remote host said:")[2]
    verdict = (said and first_in(_QMAIL, said)) or first_in(_QMAIL, text) or first_in(_LDAP, text)
    if verdict is None and "this message has been in the queue too long." in text:
        verdict = "expired"
    if verdict is None and command:
        # "does not like recipient." names RCPT; the reply's words then say why, and say
        # nothing more than that the address was refused only when they place nothing.
        reading = reread(r, command, text)
        verdict = "user_unknown" if command == "RCPT" and reading in _VAGUE else reading
    return final(verdict, r, text, command=command, rhost=rhost)
