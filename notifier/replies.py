"""What an SMTP (or SES) reply means for the recipient, in one vocabulary.

Reasons: ``user_unknown``, ``host_unknown``, ``mailbox_full``, ``mailbox_disabled``,
``has_moved``, ``blocked``, ``spam_detected``, ``policy``, ``authentication``,
``rate_limited``, ``message_too_big``, ``expired``, ``system``, ``network``,
``delivered``, ``other``.

Order of evidence (reference: bounces-and-tracking.md, "SMTP reply classification"):
the RFC 3463 enhanced status code first (class.subject.detail), then the basic reply
code, then words in the text. ``blocked``, ``policy`` and ``authentication`` are our
problem (reputation, SPF/DKIM/DMARC), not the recipient's: they must never suppress an
address. Hard is only what says the address cannot work: user unknown, host unknown,
has moved, and a 5xx refusal of the mailbox itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Classification", "OUR_PROBLEM", "classify_reply"]

_ENHANCED = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")

# (class, subject, detail) -> reason; detail None means any detail of that subject.
_BY_STATUS: dict[tuple[str, str, str | None], str] = {
    ("5", "1", "1"): "user_unknown",  # bad destination mailbox address
    ("5", "1", "0"): "user_unknown",
    ("5", "1", "2"): "host_unknown",  # bad destination system address
    ("5", "1", "3"): "user_unknown",  # bad destination mailbox address syntax
    ("5", "1", "6"): "has_moved",  # destination mailbox has moved
    ("4", "1", "6"): "has_moved",
    ("5", "1", "10"): "user_unknown",  # null MX (RFC 7505)
    ("4", "2", "2"): "mailbox_full",
    ("5", "2", "2"): "mailbox_full",
    ("5", "2", "1"): "mailbox_disabled",
    ("4", "2", "1"): "mailbox_disabled",
    ("5", "2", "3"): "message_too_big",
    ("5", "3", "4"): "message_too_big",
    ("4", "4", "7"): "expired",
    ("5", "4", "7"): "expired",
    ("4", "4", None): "network",
    ("5", "4", "4"): "host_unknown",  # unable to route
    ("5", "4", None): "network",
    ("4", "7", "0"): "rate_limited",
    ("4", "7", "28"): "rate_limited",  # Gmail: unusual rate of unsolicited mail
    ("5", "7", "1"): "blocked",
    ("5", "7", "26"): "authentication",  # Gmail: unauthenticated
    ("5", "7", "27"): "authentication",
    ("4", "7", "27"): "authentication",
    ("5", "7", "30"): "authentication",
    ("4", "7", "30"): "authentication",
    ("4", "7", "31"): "authentication",
    ("4", "7", "32"): "authentication",
    ("5", "7", "25"): "authentication",  # PTR
    ("4", "7", "23"): "authentication",
    ("5", "7", "515"): "authentication",  # Outlook: required authentication level
    ("5", "7", "509"): "authentication",
    ("5", "7", "23"): "authentication",  # SPF
    ("4", "7", "29"): "policy",  # TLS required
    ("5", "7", "29"): "policy",
    ("5", "7", None): "policy",
    ("4", "7", None): "policy",
    ("5", "6", None): "policy",  # content rejected
    ("4", "3", None): "system",
    ("5", "3", None): "system",
    ("5", "5", None): "system",
    ("4", "5", None): "system",
}

_WORDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.I), r)
    for p, r in (
        (
            r"user (is )?unknown|no such (user|mailbox|recipient)|unknown (user|recipient|mailbox)|"
            r"does not exist|mailbox unavailable|recipient (address )?rejected|invalid recipient|"
            r"address rejected|not a valid mailbox|account (has been )?(disabled|deactivated)|no mailbox",
            "user_unknown",
        ),
        (r"mailbox (is )?full|over (the )?quota|quota exceeded|insufficient (storage|space)", "mailbox_full"),
        (
            r"host (not found|unknown)|domain (not found|does not exist)|no (mx|mail exchanger)|"
            r"nxdomain|unrouteable",
            "host_unknown",
        ),
        # Blocklists before spam words: "blocked using Spamhaus" is about our IP, not content.
        (
            r"blacklist|blocklist|block(ed)? list|listed (at|in|on)|\brbl\b|dnsbl|spamhaus|spamcop|barracuda",
            "blocked",
        ),
        (r"spam|junk|unsolicited|bulk mail|content (rejected|filter)", "spam_detected"),
        (
            r"spf|dkim|dmarc|unauthenticated|authentication (failed|required)|reverse dns|ptr record",
            "authentication",
        ),
        (r"reputation|blocked|denied|refused", "blocked"),
        (r"rate limit|too many|throttl|try again later|slow down|temporarily deferred", "rate_limited"),
        (r"too (big|large)|size limit|message size", "message_too_big"),
        (r"expired|timed? out|too long in the queue", "expired"),
    )
)

OUR_PROBLEM = frozenset({"blocked", "policy", "authentication", "rate_limited", "system", "network"})
_HARD = frozenset({"user_unknown", "host_unknown", "has_moved"})


@dataclass(frozen=True, slots=True)
class Classification:
    reason: str
    hard: bool
    status: str  # the enhanced status code found, or ""

    @property
    def suppresses(self) -> bool:
        """Whether this says something about the address (never for our own problems)."""
        return self.hard


def classify_reply(code: int | None, text: str) -> Classification:
    """Classify one reply. ``code`` None means no reply at all (connection trouble)."""
    if code is not None and 200 <= code < 300:
        return Classification("delivered", False, "")
    m = _ENHANCED.search(text or "")
    status = m.group(0) if m else ""
    reason = ""
    if m:
        klass, subject, detail = m.groups()
        reason = _BY_STATUS.get((klass, subject, detail)) or _BY_STATUS.get((klass, subject, None), "")
    if not reason or reason in ("policy", "blocked"):
        # Words refine a generic policy code (5.7.1 covers spam, blocklists and more).
        for pattern, words_reason in _WORDS:
            if pattern.search(text or ""):
                if not reason or words_reason in (
                    "spam_detected",
                    "authentication",
                    "blocked",
                    "user_unknown",
                ):
                    reason = words_reason
                break
    if not reason:
        if code is None:
            reason = "network"
        elif code == 421:
            reason = "system"
        elif code in (450, 451, 452):
            reason = "mailbox_full" if code == 452 else "system"
        elif code == 552:
            reason = "mailbox_full"
        elif code == 554:
            reason = "policy"
        else:
            reason = "other"
    permanent = code is not None and code >= 500
    hard = reason in _HARD and (permanent or reason == "has_moved") and reason not in OUR_PROBLEM
    return Classification(reason, hard, status)
