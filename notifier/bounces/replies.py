"""What an SMTP (or SES) reply means for the recipient, in the vocabulary of
``notifier.bounces.reasons``.

``blocked``, ``authentication``, ``rate_limited`` and the other reasons in ``OUR_PROBLEM``
are about our reputation or set-up (SPF/DKIM/DMARC), not the recipient's address: they never
suppress it. Hard is only what says the address cannot work, and only in answer to RCPT: after
DATA the server has accepted the recipient, so "user unknown" there is a filter's verdict on the
content (``filtered``). A 421 is the server closing the channel: always temporary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from notifier.bounces.reasons import HARD_REASONS, OUR_PROBLEM, REASONS, is_hard, reason_for, status_in

__all__ = ["Classification", "OUR_PROBLEM", "advice", "classify_reply", "quote_reply"]


@dataclass(frozen=True, slots=True)
class Classification:
    reason: str
    hard: bool
    status: str  # the enhanced status code found, or ""

    @property
    def suppresses(self) -> bool:
        """Whether this says something about the address (never for our own problems)."""
        return self.hard

    @property
    def ours(self) -> bool:
        """Whether the refusal is about us (reputation, set-up, our message), not the address."""
        return self.reason in OUR_PROBLEM


def classify_reply(code: int | None, text: str, command: str = "RCPT") -> Classification:
    """Classify one reply to ``command``. ``code`` None means no reply at all (connection trouble)."""
    if code is not None and 200 <= code < 300:
        return Classification("delivered", False, "")
    status = status_in(text)
    if code is None:
        reason = reason_for(status=status, text=text or "", command=command) if status else "network"
        return Classification(reason if reason not in ("on_hold", "other") else "network", False, status)
    reason = reason_for(status=status, code=str(code), text=f"{code} {text or ''}", command=command)
    if reason in ("on_hold", "other") and code == 554:
        reason = "policy"
    if command == "DATA" and reason == "user_unknown":
        # We saw the server accept this recipient at RCPT; refusing the message after DATA, even
        # with 5.1.1, is a verdict on the content: never a reason to suppress the address. (A
        # bounce report cannot show that acceptance, and its X.1.1 after DATA is read as an
        # unknown mailbox, as Sisimai reads it.)
        reason = "filtered"
    if code == 421 and reason in HARD_REASONS:
        # "421 4.3.2 shutting down": the server closes the channel; nothing about the address.
        reason = "system"
    permanent = code >= 500
    return Classification(reason, permanent and is_hard(reason, str(code)), status)


# What to do when a relay refuses everyone for one of our own problems (shown when a run stops).
_ADVICE: dict[str, str] = {
    "blocked": "our sending IP or host name is refused: look it up on the blocklists the reply names "
    "(e.g. Spamhaus), ask the relay's or receiver's postmaster to delist it, or send through another "
    "relay (an ESP)",
    "bad_reputation": "our sending IP's reputation is too low: warm it up, send through an ESP, and check "
    "the receiver's postmaster tools",
    "require_ptr": "our sending IP has no valid reverse DNS: set a PTR record that matches the HELO name",
    "authentication": "SPF, DKIM or DMARC failed: run `notify check` and fix every FAIL it reports",
    "rejected": "our envelope sender (bounce address) is refused: check [sender] bounce_domain, its MX "
    "and SPF",
    "no_relaying": "the relay does not relay for us: check the transport URL, the relay's login "
    "(NOTIFY_SMTP_PASSWORD) and its list of allowed senders",
    "starttls": "TLS could not be agreed: check the relay's TLS set-up and the ?tls= option",
    "spam_detected": "the message itself is judged spam: check it with `notify check` and `notify preview`, "
    "and send a test to a seed mailbox",
    "virus_detected": "a virus scanner refused the message: check its links and attachments",
    "message_too_big": "the message is larger than the relay allows: shrink the template",
    "content_error": "the message's format is refused: run `notify check`",
    "not_compliant": "the message's headers are refused: run `notify check`",
    "rate_limited": "we send too fast for the relay: lower [throttle] rate and connections",
    "too_many_connections": "too many connections at once: lower [throttle] connections",
}


def advice(reason: str) -> str:
    """What to fix when every recipient is refused with ``reason`` (one of ``OUR_PROBLEM``)."""
    return _ADVICE.get(
        reason,
        f"{REASONS.get(reason, 'the relay refuses our mail')}: ask the relay's administrator what the "
        "reply means for our account or IP",
    )


_ADDRESS = re.compile(r"<?[^\s<>@]+@[^\s<>]+>?")


def quote_reply(code: int | None, text: str, *, limit: int = 200) -> str:
    """A remote reply fit to print: one line, no address in it (reply texts often quote the
    recipient, and messages must not carry anyone's address), at most ``limit`` characters."""
    line = " ".join(_ADDRESS.sub("<address>", text or "").split())
    if len(line) > limit:
        line = line[: limit - 1] + "…"
    return f"{code} {line}" if code is not None else line
