"""Sendmail version 5 (Subject "Returned mail: <Reason>", a capital after the colon, where V8
writes "see transcript for details"; the original after "----- Unsent message follows -----"):
its transcript pairs, recipient by recipient, the command sent (">>> RCPT To:<a>"), the reply
("<<< 550 ...") and its own verdict line ("550 <a>... User unknown"). Each recipient is read
from its own three lines; a "NNN host (smtp)... Deferred: ..." line without a recipient speaks
for all of them, and with no recipient line at all the original's To: is the one that failed
(savemail.c; Sisimai lib/sisimai/lhost/v5sendmail.rb)."""

from __future__ import annotations

import email.message
import re

from notifier.bounces.dsn import classify
from notifier.bounces.families.common import header
from notifier.bounces.mime import address_in
from notifier.bounces.report import BouncedRecipient
from notifier.bounces.statuses import status_in

__all__ = ["detect", "read", "recipients"]

_SUBJECT = re.compile(r"Returned mail: [A-Z]")
_TRANSCRIPT = "----- Transcript of session follows -----"
_COPY = re.compile(r"^[ ]+----- (?:Unsent message follows|No message was collected) -----", re.M)
# One "@" in the address: a line of many never sends the pattern back over each one.
_VERDICT = re.compile(r"^\d{3}[ \t]+<([^ @<>]+@[^ @<>]+)>\.{3}[ \t]*(.+)$")
_SENT = re.compile(r"^>>>[ \t]*([A-Z]{4})")
_REPLY = re.compile(r"^<<<[ ]+(.+)$")
_SESSION = re.compile(r"^\.+ while talking to .+:$")
_OTHER = re.compile(r"^\d{3}[ \t]+.+\.{3}[ \t]*(.+)$")
_TO = re.compile(r"^To:[ ]*(.+)$", re.M)


def detect(msg: email.message.Message, body: str) -> bool:
    return bool(_SUBJECT.match(header(msg, "Subject"))) and _TRANSCRIPT in body and bool(_COPY.search(body))


def _records(body: str) -> list[tuple[str, str, str]]:
    """(address, command, what was said) per recipient, in the transcript's order."""
    start = body.find(_TRANSCRIPT)
    copy = _COPY.search(body, start)
    if start < 0 or copy is None:
        return []
    found: list[tuple[str, str]] = []  # (address, verdict line's words)
    sent: dict[int, str] = {}
    replies: dict[int, str] = {}
    other = ""
    in_session = False
    for raw in body[start + len(_TRANSCRIPT) : copy.start()].splitlines():
        line = raw.strip()
        if not line:
            continue
        if m := _VERDICT.match(line):
            at = len(found)
            said = m.group(2).strip()
            if at in replies:
                said = f"{said}: {replies[at]}"
            found.append((m.group(1).lower(), said))
        elif m := _SENT.match(line):
            sent[len(found)] = m.group(1)
        elif m := _REPLY.match(line):
            replies[len(found)] = m.group(1).strip()
        elif not in_session:
            if _SESSION.match(line):
                in_session = True
            elif m := _OTHER.match(line):
                other = m.group(1).strip()
    if not found:
        to = _TO.search(body, copy.end())
        address = address_in(to.group(1)) if to else ""
        return [(address, sent.get(0, ""), other or replies.get(0, ""))] if address else []
    return [(a, sent.get(i, ""), said) for i, (a, said) in enumerate(found)]


def recipients(msg: email.message.Message, body: str) -> list[BouncedRecipient]:
    out: list[BouncedRecipient] = []
    for address, command, said in _records(body):
        if any(r.address == address for r in out):
            continue
        said = " ".join(said.split())
        context = f">>> {command} {said}" if command else said
        status = status_in(said)
        domain = address.rpartition("@")[2]
        reason, hard, code = classify("failed", status, said, context, "smtp", domain=domain)
        out.append(BouncedRecipient(address, "failed", status, code, said[:300], reason, hard))
    return out


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    return None  # no table of its own: each recipient's lines are read the general way
