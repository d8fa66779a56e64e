"""fml, the mailing-list manager (an X-MLServer header, a "-admin@" sender, a "<NNN.FML...@" Message-ID):
it refuses a post in words of its own and names the list that refused it on a line ending in
"<LIST@DOMAIN>." (Sisimai lib/sisimai/lhost/fml.rb ErrorTable, then ErrorTitle on the subject).

The list address is the address our notice went to, so it is the bounced recipient here; the reason
is about us ("NOT MEMBER article from": our sender may not post, rejected), or fml's own trouble
(a duplicated Message-ID or a mail loop: system; a security alert: security)."""

from __future__ import annotations

import email.message
import re

from notifier.bounces.dsn import classify
from notifier.bounces.families.common import header
from notifier.bounces.families.verdicts import final
from notifier.bounces.report import BouncedRecipient

__all__ = ["detect", "read", "recipients"]

_MESSAGE_ID = re.compile(r"^<\d+\.FML.+@.+>$")
_LIST_LINE = re.compile(r"<([^ <>]+?@[^ <>]+?)>\.\s*$", re.M)
_IN_TEXT = (
    (
        "rejected",
        re.compile(
            r"(Ignored )*NOT MEMBER article from |reject (mail from .+@.+|since .+ header may cause mail loop"
            r"|spammers:)|You are not a member of this mailing list"
        ),
    ),
    (
        "system",
        re.compile(r"Duplicated Message-ID|fml .+ has detected a loop condition so that|Loop Back Warning:"),
    ),
    ("security", re.compile(r"Security alert:")),
)
_IN_SUBJECT = (
    (
        "rejected",
        re.compile(
            r"(Ignored )*NOT MEMBER article from |reject mail (.+:|from) ,"
            r"|Spam mail from a spammer is rejected|You .+ are not member"
        ),
    ),
    (
        "system",
        re.compile(r"fml system error message|Loop Alert: |Loop Back Warning: |WARNING: UNIX FROM Loop"),
    ),
    ("security", re.compile(r"Security Alert")),
)


def detect(msg: email.message.Message, body: str) -> bool:
    return (
        msg.get("X-MLServer") is not None
        and "-admin@" in header(msg, "From")
        and bool(_MESSAGE_ID.match(header(msg, "Message-ID")))
    )


def _notice(body: str) -> str:
    return body.split("Original mail as follows:", 1)[0]


def recipients(msg: email.message.Message, body: str) -> list[BouncedRecipient]:
    """The list named on a line ending in "<LIST@DOMAIN>.", with the words from there on."""
    notice = _notice(body)
    found = list(_LIST_LINE.finditer(notice))
    out: list[BouncedRecipient] = []
    for i, m in enumerate(found):
        start = notice.rfind("\n", 0, m.start()) + 1
        end = found[i + 1].start() if i + 1 < len(found) else len(notice)
        words = " ".join(notice[start:end].split())
        address = m.group(1).lower()
        if any(r.address == address for r in out):
            continue
        reason, hard, code = classify("failed", "", words, words, "smtp", domain=address.rpartition("@")[2])
        out.append(BouncedRecipient(address, "failed", "", code, words[:300], reason, hard))
    return out


def read(msg: email.message.Message, body: str, r: BouncedRecipient) -> str | None:
    text = " ".join(_notice(body).split())
    verdict = next((reason for reason, rx in _IN_TEXT if rx.search(text)), None)
    if verdict is None:
        subject = header(msg, "Subject")
        verdict = next((reason for reason, rx in _IN_SUBJECT if rx.search(subject)), None)
    return final(verdict, r, text)
