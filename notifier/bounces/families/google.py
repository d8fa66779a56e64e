"""Gmail and Google Workspace (G Suite) as the sending side (mailer-daemon@googlemail.com,
"Delivery Status Notification" subject; Google Groups' reports are ``googlegroups``'s).

Older Gmail notices end the remote reply with "(state N)": the state says which SMTP command was
answered and what Gmail made of it (14: RCPT, an unknown user; 17 and 18: DATA, a filter's verdict;
13: EHLO, our host blocked, ...), and a specific status in the reply (5.2.2, ...) refines it. Their
"DNS Error: ..." lines say why nothing was sent. Newer notices ("** Address not found **") say in
words "because the address couldn't be found" (an unknown user), "Null MX" (takes no mail), "had no
relevant answers" / "responded with code NXDOMAIN" (network). Sisimai lib/sisimai/lhost/gmail.rb and
google.rb (StateTable, MessagesOf), gsuite.rb and googleworkspace.rb (MessagesOf)."""

from __future__ import annotations

import email.message
import re

from notifier.bounces.families.common import header, lines_about
from notifier.bounces.families.verdicts import final, listed
from notifier.bounces.reasons import reason_for
from notifier.bounces.report import BouncedRecipient
from notifier.bounces.statuses import STATUS, status_in

__all__ = ["detect", "read", "recipients"]

# state -> (command, reason); Sisimai's "relayingdenied" is its old name for norelaying.
_STATES = {
    "6": ("MAIL", "system"),  # 500 Remote server does not support TLS
    "8": ("AUTH", "system"),  # 535 SMTP AUTH failed with the remote server
    "9": ("AUTH", "system"),  # 454 TLS missing certificate
    "12": ("AUTH", "no_relaying"),  # 500 Remote server does not support SMTP Authenticated Relay
    "13": ("EHLO", "blocked"),  # 550 5.7.1 ... Access denied
    "14": ("RCPT", "user_unknown"),  # 550 5.1.1 ... User Unknown; 550 5.2.2 ... Mailbox Full
    "15": ("DATA", "filtered"),  # 554 Error: no valid recipients
    "17": ("DATA", "filtered"),  # 550 <...> No such user here
    "18": ("DATA", "filtered"),  # 550 Unknown user ...
}
_STATE = re.compile(r"\(state (\d+)\)\.")
_MESSAGES = (
    (
        "expired",
        (
            "DNS Error: Could not contact DNS servers",
            "Delivery to the following recipient has been delayed",
            "The recipient server did not accept our requests to connect",
        ),
    ),
    (
        "host_unknown",
        ("DNS Error: Domain name not found", "DNS Error: DNS server returned answer with no data"),
    ),
    (
        "user_unknown",
        ("because the address couldn't be found. Check for typos or unnecessary spaces and try again.",),
    ),
    ("not_accept", ("Null MX",)),
    ("network", (" had no relevant answers.", " responded with code NXDOMAIN")),
)
_SPECIFIC_STATUS = re.compile(r"^[45]\.[1-7]\.[1-9]$")


# Older notices: "Delivery to the following recipient failed permanently:" then each recipient
# alone on an indented line, up to the returned copy (gmail.rb StartingOf, ReBackbone). The
# address a remote reply names ("send an e-mail message ... to dz@example.lv") is nobody.
_LIST_OPENS = "Delivery to the following recipient"
_LISTED = re.compile(r"^[ \t]+([^\s@]+@[^\s@]+)[ \t]*$", re.M)
_COPY = re.compile(r"^[ ]*----- ?(Original message|Message header follows) ?-----", re.M)


def recipients(msg: email.message.Message, body: str) -> list[BouncedRecipient]:
    start = body.find(_LIST_OPENS)
    if start < 0:
        return []
    end = _COPY.search(body, start)
    found = _LISTED.findall(body, start, end.start() if end else len(body))
    return listed(body, found)


def detect(msg: email.message.Message, body: str) -> bool:
    return header(msg, "From").lower().endswith("<mailer-daemon@googlemail.com>") and header(
        msg, "Subject"
    ).startswith("Delivery Status Notification")


def _notice(body: str) -> str:
    """The notice above the returned copy, on one line (Gmail folds its sentences)."""
    for end in ("----- Original message -----", "----- Message header follows -----"):
        body = body.split(end, 1)[0]
    return " ".join(body.split())


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    notice = _notice(body)
    text = f"{r.diagnostic} {' '.join(lines_about(body, r.address).split())} {notice}"
    m = _STATE.search(text)
    state = _STATES.get(m.group(1)) if m else None
    if state is not None and m is not None:
        command, verdict = state
        reply = text[max(0, m.start() - 300) : m.start()]
        status = status_in(reply)
        if _SPECIFIC_STATUS.match(status) and STATUS.get(status):
            # "550 5.2.2 ... Mailbox Full (state 14)": a specific status says more than the
            # state; Sisimai reads it as its status's reason, checked again against the words.
            verdict = reason_for(status=status, text=reply, command=command)
        return final(verdict, r, text, command=command)
    said = next((reason for reason, said in _MESSAGES if any(s in notice for s in said)), None)
    return final(said, r, notice)
