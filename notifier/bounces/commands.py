"""Which SMTP command a failure answered, when the bounce says: the same words mean different
things after RCPT (the address) and after DATA (a filter's verdict on the content)."""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["command_in", "command_named"]

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


# The commands themselves, upper-case as MTAs write them in a transcript or a reply ("refused to
# accept your message (DATA)", "STEP: RCPT TO", ">>> MAIL FROM:<...>"), never inside an address,
# a domain, a longer word or a field ("HELO=[host]" in Exim-style logs quoted by IMail)
# (Sisimai lib/sisimai/smtp/command.rb ``find``: Detectable).
_NAMED = re.compile(
    r"(?<![\w@.<:=/-])(HELO|EHLO|STARTTLS|AUTH (?:PLAIN|LOGIN|CRAM-|DIGEST-)|MAIL FROM|RCPT(?: TO)?|DATA)"
    r"(?![\w@>/=-])"
)
# The stage of the conversation each names; the latest mentioned wins, as ``find`` keeps the last.
_STAGE = {"HELO": 0, "EHLO": 0, "STARTTLS": 1, "AUTH": 2, "MAIL": 3, "RCPT": 4, "DATA": 5}


@lru_cache(maxsize=1024)
def command_named(text: str) -> str:
    """The latest SMTP command ``text`` names in upper case (``RCPT``, ``DATA``, ...), or "":
    the last resort when no phrase says which command a failure answered (``command_in``)."""
    found = {m.group(1).split(" ", 1)[0] for m in _NAMED.finditer(text)}
    if not found:
        return ""
    latest = max(found, key=_STAGE.__getitem__)
    return "HELO" if latest == "EHLO" else latest
