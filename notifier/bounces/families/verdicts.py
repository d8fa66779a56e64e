"""What the formats' own readers share: a table of words looked up in order, the general reading
redone with the SMTP command a format names on a line of its own, and how a format's verdict
meets the general one (Sisimai lib/sisimai/reason.rb, ``retry`` and ``ClassOrder``)."""

from __future__ import annotations

from notifier.bounces.dsn import classify
from notifier.bounces.families.common import has_header, header_names
from notifier.bounces.families.common import header as head
from notifier.bounces.families.reason_order import settled
from notifier.bounces.reasons import reason_for, status_in
from notifier.bounces.remote_hosts import host_in, remote_reason
from notifier.bounces.report import BouncedRecipient

__all__ = [
    "Table",
    "by_command",
    "final",
    "first_in",
    "has_header",
    "head",
    "header_names",
    "listed",
    "reread",
]

Table = tuple[tuple[str, tuple[str, ...]], ...]


def first_in(table: Table, text: str) -> str | None:
    """The first reason of ``table`` one of whose phrases ``text`` holds (case-insensitive)."""
    low = text.lower()
    for reason, phrases in table:
        if any(p.lower() in low for p in phrases):
            return reason
    return None


# Sisimai Reason.retry in our names: a format's verdict of these is asked again (Sisimai::Fact
# tries the local delivery agent's and the remote provider's tables first, then the reasons).
_TENTATIVE = frozenset(
    {"user_unknown", "host_unknown", "expired", "suspended", "system", "security", "network", "on_hold"}
)


# Tentative verdicts no reason of Sisimai's ClassOrder[0] takes as its own, and what the general
# reading says when its words placed nothing.
_ASKED_AGAIN = frozenset({"expired", "system", "security", "network", "on_hold"})
_PLACED_NOTHING = frozenset({"", "other", "on_hold", "system"})


def final(
    verdict: str | None, r: BouncedRecipient, text: str, *, command: str = "", rhost: str = ""
) -> str | None:
    """``verdict`` from a format's table as it stands: a tentative one yields to the table of
    the provider that answered or hosts the recipient (``remote_hosts``), then to the general
    reading: to any reason its words placed where the verdict is one Sisimai asks again by the
    words alone, else as ``reason_order.settled`` ranks them."""
    if verdict in _TENTATIVE:
        remote = remote_reason(
            text.lower(),
            rhost=rhost or host_in(text),
            domain=r.address.rpartition("@")[2],
            status=r.status,
            code=r.reply_code,
            command=command,
        )
        if remote is not None:
            return remote
        if verdict in _ASKED_AGAIN and r.reason not in _PLACED_NOTHING:
            # Sisimai asks these again by the words alone (Reason.find, ClassOrder[1]): words
            # the general reading placed say more ("No MX found" is a domain without mail).
            return r.reason
    return settled(verdict, r)


def by_command(command: str) -> str | None:
    """Exim's and qmail's rule: a refusal of MAIL FROM is our sender refused, of HELO/EHLO our
    host blocked, whatever the reply's words (Sisimai lhost/qmail.rb, mxlogic.rb, mailru.rb)."""
    if command == "MAIL":
        return "rejected"
    if command in ("HELO", "EHLO", "CONN"):
        return "blocked"
    return None


def reread(r: BouncedRecipient, command: str, text: str = "") -> str:
    """The general reading of ``r`` had the report named ``command`` where the reader could not
    see it (a line of its own, a bracket, a field)."""
    return reason_for(
        status=r.status,
        code=r.reply_code,
        text=text or r.diagnostic,
        command=command,
        domain=r.address.rpartition("@")[2],
    )


def listed(body: str, addresses: list[str], said: str = "") -> list[BouncedRecipient]:
    """The recipients a format names on lines of its own, each read from its own lines: from
    the line naming it up to the line naming the next one (at most 600 characters), or from
    ``said`` where the format gives one reply for them all."""
    low = body.lower()
    starts = []
    for address in dict.fromkeys(a.lower() for a in addresses if "@" in a):
        at = low.find(address)
        starts.append((low.rfind("\n", 0, at) + 1 if at >= 0 else -1, address))
    starts.sort()
    out = []
    for i, (start, address) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(body)
        context = " ".join((said or (body[start : min(end, start + 600)] if start >= 0 else "")).split())
        status = status_in(context)
        reason, hard, code = classify(
            "failed", status, context, context, "smtp", context, domain=address.rpartition("@")[2]
        )
        out.append(BouncedRecipient(address, "failed", status, code, context[:300], reason, hard))
    return out
