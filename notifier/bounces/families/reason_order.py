"""How a format's own verdict meets the general reading, as Sisimai settles it (lib/sisimai/reason.rb
``get``): a verdict Sisimai treats as tentative (``retry``: user unknown, host unknown, expired,
system, security, network, suspended, on hold) is checked again by the reasons of ``ClassOrder[0]``
in their order, each of which also accepts the verdict as its own; any other verdict stands.

So a format's "user not found" does not overrule a full mailbox the general reading found (MailboxFull
comes first), but it does overrule the general reading's ``filtered`` (UserUnknown comes first)."""

from __future__ import annotations

from notifier.bounces.report import BouncedRecipient

__all__ = ["settled"]

# Sisimai Reason.retry, in our names ("undefined" is our "other").
_TENTATIVE = frozenset(
    {
        "other",
        "on_hold",
        "system",
        "security",
        "expired",
        "suspended",
        "network",
        "host_unknown",
        "user_unknown",
    }
)
# Sisimai Reason ClassOrder[0], in our names (speeding = rate_limited).
_CLASS_ORDER = (
    "mailbox_full",
    "message_too_big",
    "exceed_limit",
    "suspended",
    "has_moved",
    "no_relaying",
    "authentication",
    "user_unknown",
    "filtered",
    "rejected",
    "host_unknown",
    "spam_detected",
    "rate_limited",
    "too_many_connections",
    "blocked",
)
_RANK = {reason: i for i, reason in enumerate(_CLASS_ORDER)}


def settled(verdict: str | None, r: BouncedRecipient) -> str | None:
    """``verdict`` (from a format's own table, or None) as it stands against ``r.reason``, the
    general reading of the same recipient."""
    if verdict is None or verdict not in _TENTATIVE:
        return verdict
    general = _RANK.get(r.reason)
    if general is None:
        return verdict
    return verdict if _RANK.get(verdict, len(_RANK)) < general else r.reason
