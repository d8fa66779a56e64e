"""RFC 3463 enhanced status codes (IANA "SMTP Enhanced Status Codes" registry, and the
provider-specific details Gmail and Outlook document) and the reason each says on its own."""

from __future__ import annotations

import re

__all__ = ["STATUS", "status_in"]

# RFC 3463 / IANA enhanced status codes -> reason. Codes absent here say too little on their own.
STATUS: dict[str, str] = {
    "2.1.5": "delivered",
    "4.1.6": "has_moved",
    "4.1.7": "rejected",
    "4.1.8": "rejected",
    "4.1.9": "system",
    "4.2.1": "suspended",  # mailbox disabled, not accepting messages
    "4.2.2": "mailbox_full",
    "4.2.3": "exceed_limit",
    "4.2.4": "filtered",
    "4.3.1": "system_full",
    "4.3.2": "not_accept",
    "4.3.3": "system",
    "4.3.5": "system",
    "4.4.1": "expired",
    "4.4.2": "network",
    "4.4.3": "system",
    "4.4.4": "network",
    "4.4.5": "too_many_connections",  # mail system congestion
    "4.4.6": "network",
    "4.4.7": "expired",
    "4.4.8": "network",
    "4.5.3": "system",
    "4.5.5": "system",
    "4.6.0": "content_error",
    "4.6.2": "content_error",
    "4.6.5": "content_error",
    "4.7.1": "blocked",
    "4.7.2": "blocked",
    "4.7.5": "security",
    "4.7.6": "security",
    "4.7.7": "security",
    "4.7.12": "security",
    "4.7.15": "security",
    "4.7.16": "message_too_big",
    "4.7.23": "authentication",  # Gmail: SPF
    "4.7.24": "authentication",
    "4.7.25": "require_ptr",  # reverse DNS validation failed
    "4.7.26": "authentication",
    "4.7.27": "authentication",  # Gmail: SPF
    "4.7.28": "rate_limited",  # Gmail: unusual rate of unsolicited mail
    "4.7.29": "starttls",  # Gmail: TLS required
    "4.7.30": "authentication",  # Gmail: DKIM
    "4.7.31": "authentication",  # Gmail: DMARC policy
    "4.7.32": "authentication",  # Gmail: alignment
    "5.1.0": "user_unknown",
    "5.1.1": "user_unknown",
    "5.1.2": "host_unknown",
    "5.1.3": "user_unknown",
    "5.1.4": "filtered",
    "5.1.6": "has_moved",
    "5.1.7": "rejected",
    "5.1.8": "rejected",
    "5.1.9": "system",
    "5.1.10": "not_accept",  # RFC 7505 null MX
    "5.2.0": "filtered",
    "5.2.1": "filtered",
    "5.2.2": "mailbox_full",
    "5.2.3": "exceed_limit",
    "5.2.4": "filtered",
    "5.3.0": "system",
    "5.3.1": "system_full",
    "5.3.2": "not_accept",
    "5.3.3": "system",
    "5.3.4": "message_too_big",
    "5.3.5": "system",
    "5.4.0": "network",
    "5.4.3": "system",
    "5.4.4": "host_unknown",
    "5.5.2": "syntax_error",
    "5.5.3": "too_many_connections",
    "5.5.4": "system",
    "5.5.5": "system",
    "5.5.6": "security",  # RFC 4954: authentication exchange line too long
    "5.7.0": "security",
    "5.7.1": "blocked",  # delivery not authorized, message refused
    "5.7.2": "blocked",
    "5.7.3": "security",
    "5.7.4": "security",
    "5.7.5": "security",
    "5.7.6": "security",
    "5.7.7": "security",
    "5.7.8": "security",
    "5.7.9": "security",
    "5.7.10": "security",
    "5.7.11": "security",
    "5.7.13": "suspended",  # user account disabled
    "5.7.14": "security",
    "5.7.15": "security",
    "5.7.16": "message_too_big",
    "5.7.17": "has_moved",  # mailbox owner has changed
    "5.7.18": "has_moved",
    "5.7.19": "security",
    "5.7.20": "authentication",
    "5.7.21": "authentication",
    "5.7.22": "authentication",
    "5.7.23": "authentication",
    "5.7.24": "authentication",
    "5.7.25": "require_ptr",
    "5.7.26": "authentication",
    "5.7.27": "rejected",  # RFC 7505: the *sender* address has a null MX
    "5.7.28": "spam_detected",
    "5.7.29": "authentication",
    "5.7.30": "starttls",
    "5.7.509": "authentication",  # Outlook: DMARC
    "5.7.515": "authentication",  # Outlook: required authentication level
    "5.7.606": "blocked",  # Outlook: banned sending IP
    "5.7.511": "blocked",
}

# Where a status code is written, most telling first, as Sisimai's SMTP::Status.find asks
# (lib/sisimai/smtp/status.rb ``find``): qmail's "(#5.1.1)", then one that follows a reply code
# ("550 5.1.1", "550-5.1.1"), then one standing alone. Never a part of a longer dotted number: the
# IP address of the host that answered ("[5.1.1.10]") or a version is no status.
_NOT_IN_NUMBER = r"(?<![\d.])([245]\.\d{1,3}\.\d{1,3})(?!\d|\.\d)"
_FOUND = (
    re.compile(r"\(#" + _NOT_IN_NUMBER),
    re.compile(r"\b\d{3}[- ]#?" + _NOT_IN_NUMBER),
    re.compile(_NOT_IN_NUMBER),
)


def status_in(text: str) -> str:
    """The RFC 3463 enhanced status code ``text`` gives ("5.1.1"), or ""."""
    if not text:
        return ""
    for pattern in _FOUND:
        m = pattern.search(text)
        if m is not None:
            return m.group(1)
    return ""
