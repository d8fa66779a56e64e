"""Which SMTP command a failure answered, when the bounce says: the same words mean different
things after RCPT (the address) and after DATA (a filter's verdict on the content)."""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["command_in"]

# The ways MTAs name the command (Postfix "in reply to RCPT TO command", Sendmail ">>> DATA",
# Exim "after RCPT TO", qmail "does not like recipient", Exchange "after end of data", ...).
_COMMANDS: tuple[tuple[str, str], ...] = (
    (r"(in reply to|after|>>>|(?<![a-z])our|response to|sending) (end of )?(data|message body)\b", "DATA"),
    (
        r"(in reply to|after|>>>|(?<![a-z])our|response to) rcpt( to)?\b|does not like recipient"
        r"|rcpt to: ?<?[^\s@]+@"
        # Postfix's smtpd answers its recipient restrictions so, and only at RCPT.
        r"|recipient address rejected",
        "RCPT",
    ),
    (r"(in reply to|after|>>>|(?<![a-z])our|response to) mail( from)?\b|mail from:<[^>]*>\s*size=", "MAIL"),
    (
        r"(in reply to|after|>>>|(?<![a-z])our) (ehlo|helo)\b|while connect|initial connection|greeting",
        "HELO",
    ),
    (r"(in reply to|after|>>>) starttls", "STARTTLS"),
    # Local delivery agents look the mailbox up themselves: like an answer to RCPT.
    (r"\bmail\.local\b|local delivery|\bvdeliver|\bmaildrop\b|\bdovecot-lda\b", "RCPT"),
)
# The leftmost mention wins, and at one position the command listed first (what searching for
# each in turn and taking the earliest gave).
_ANY = re.compile("|".join(f"(?P<c{i}>{pattern})" for i, (pattern, _) in enumerate(_COMMANDS)))
# Every mention above starts with one of these: the pattern is tried only where one is found
# (a C substring search), never at every position of the text.
_CUES = (
    "in reply to",
    "after",
    ">>>",
    "our",
    "response to",
    "does not like recipient",
    "rcpt to:",
    "recipient address rejected",
    "mail from:",
    "while connect",
    "initial connection",
    "greeting",
    "mail.local",
    "local delivery",
    "vdeliver",
    "maildrop",
    "dovecot-lda",
)

# With PIPELINING, Sendmail sends every RCPT and the DATA in one batch; its transcript then shows
# ">>> DATA" above the RCPT refusals and a "503 need RCPT" / "554 no valid recipients" as the
# answer to DATA itself. The refusals quoted there answered RCPT, not DATA.
_PIPELINED = re.compile(
    r">>> data\b.{0,600}?(need rcpt|no valid recipients|all rcpt commands were rejected)", re.S
)


@lru_cache(maxsize=1024)
def command_in(text: str) -> str:
    """The SMTP command a failure answered, when the text says (``DATA``, ``RCPT``, ...)."""
    low = text.lower()
    for at in sorted(_starts(low)):
        m = _ANY.match(low, at)
        if m is not None and m.lastgroup is not None:
            command = _COMMANDS[int(m.lastgroup[1:])][1]
            if command == "DATA" and _PIPELINED.search(low):
                return "RCPT"
            return command
    return ""


def _starts(low: str) -> set[int]:
    """Every position in ``low`` where a cue begins."""
    out: set[int] = set()
    for cue in _CUES:
        at = low.find(cue)
        while at >= 0:
            out.add(at)
            at = low.find(cue, at + 1)
    return out
