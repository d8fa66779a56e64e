"""Why a message was not delivered: one reason vocabulary for SMTP replies, DSNs, plain-text
bounces and Amazon SES events.

The vocabulary follows the taxonomy mailbox-provider tooling has settled on (Sisimai's reason
names; ``SISIMAI`` maps ours onto them so figures can be compared): what a bounce says about
the *address* (``user_unknown``, ``host_unknown``, ``has_moved``, ``not_accept``: hard, the
address cannot work), about the *mailbox* (``mailbox_full``, ``suspended``, ``filtered``: soft,
the person exists), and about *us* (``blocked``, ``rejected``, ``authentication``,
``require_ptr``, ``bad_reputation``, ``spam_detected``, ``rate_limited``, ...: our reputation or
set-up, never the recipient's fault, never a reason to suppress them).

Evidence, in order (reference: bounces-and-tracking.md, "SMTP reply classification"):
1. reasons whose words or RFC 3463 status are specific (a full mailbox, a suspended account, a
   user unknown at RCPT or with an X.1.1 status, user-unknown *words* after DATA = the
   recipient's filter, a PTR problem, a blocklisted IP, ...), taking the SMTP command into
   account;
2. the enhanced status code alone (class.subject.detail, IANA registry);
3. words that only a vaguer status leaves room for (system, network, policy, expired, ...);
4. the status subject (x.6 content, x.7 security), a delayed action (expired), else ``on_hold``
   when there is a diagnostic we cannot place, ``other`` when there is none.

Hard is only user_unknown, host_unknown, has_moved, and not_accept unless it came as a 4xx reply.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from notifier.bounces.commands import command_in, command_named
from notifier.bounces.local_agents import agent_reason
from notifier.bounces.providers import provider_reason
from notifier.bounces.remote_hosts import remote_reason
from notifier.bounces.statuses import STATUS, status_in
from notifier.bounces.vocabulary import WORDS

__all__ = [
    "HARD_REASONS",
    "OUR_PROBLEM",
    "REASONS",
    "SISIMAI",
    "command_in",
    "is_hard",
    "reason_for",
    "status_in",
]

# name -> what it means, for `notify report` and the README.
REASONS: dict[str, str] = {
    "user_unknown": "the mailbox does not exist",
    "host_unknown": "the recipient's domain does not exist or has no mail server",
    "has_moved": "the mailbox has moved and mail is not forwarded",
    "not_accept": "the recipient's domain accepts no mail (null MX)",
    "mailbox_full": "the mailbox is full",
    "suspended": "the account is disabled or suspended",
    "filtered": "refused by the recipient's own filters after the message was sent",
    "exceed_limit": "larger than the recipient's mailbox allows",
    "message_too_big": "larger than the receiving system allows",
    "rejected": "our sender address was refused",
    "blocked": "our sending IP or host name is refused (blocklist, reputation)",
    "bad_reputation": "refused for our IP's reputation",
    "require_ptr": "our sending IP has no valid reverse DNS",
    "authentication": "SPF, DKIM or DMARC failed",
    "spam_detected": "refused as spam",
    "virus_detected": "refused by a virus scanner",
    "content_error": "refused for the message's format or headers",
    "not_compliant": "refused as not compliant with the RFCs",
    "policy": "refused by the receiving system's policy",
    "security": "refused for a security reason the reply does not say",
    "no_relaying": "the receiving system does not relay for us",
    "starttls": "TLS could not be negotiated",
    "rate_limited": "we sent too fast",
    "too_many_connections": "too many connections at once",
    "expired": "gave up after retrying for too long",
    "network": "network or DNS trouble on the way",
    "system": "the receiving system had an error",
    "system_full": "the receiving system is out of space",
    "mailer_error": "the receiving system's delivery program failed",
    "syntax_error": "the SMTP conversation went wrong",
    "suppressed": "not sent: the provider's suppression list",
    "on_hold": "refused for a reason the reply does not make clear",
    "other": "no reason given",
    "delivered": "delivered",
    "complaint": "the recipient reported the message as spam",
    "vacation": "an automatic reply, not a bounce",
}

SISIMAI: dict[str, str] = {
    "user_unknown": "userunknown",
    "host_unknown": "hostunknown",
    "has_moved": "hasmoved",
    "not_accept": "notaccept",
    "mailbox_full": "mailboxfull",
    "suspended": "suspend",
    "filtered": "filtered",
    "exceed_limit": "exceedlimit",
    "message_too_big": "mesgtoobig",
    "rejected": "rejected",
    "blocked": "blocked",
    "bad_reputation": "badreputation",
    "require_ptr": "requireptr",
    "authentication": "authfailure",
    "spam_detected": "spamdetected",
    "virus_detected": "virusdetected",
    "content_error": "contenterror",
    "not_compliant": "notcompliantrfc",
    "policy": "policyviolation",
    "security": "securityerror",
    "no_relaying": "norelaying",
    "starttls": "failedstarttls",
    "rate_limited": "speeding",
    "too_many_connections": "toomanyconn",
    "expired": "expired",
    "network": "networkerror",
    "system": "systemerror",
    "system_full": "systemfull",
    "mailer_error": "mailererror",
    "syntax_error": "syntaxerror",
    "suppressed": "suppressed",
    "on_hold": "onhold",
    "other": "undefined",
    "delivered": "delivered",
    "complaint": "feedback",
    "vacation": "vacation",
}

HARD_REASONS = frozenset({"user_unknown", "host_unknown", "has_moved", "not_accept"})
OUR_PROBLEM = frozenset(
    {
        "rejected",
        "blocked",
        "bad_reputation",
        "require_ptr",
        "authentication",
        "spam_detected",
        "virus_detected",
        "content_error",
        "not_compliant",
        "policy",
        "security",
        "no_relaying",
        "starttls",
        "rate_limited",
        "too_many_connections",
        "message_too_big",
        "network",
        "system",
        "system_full",
        "mailer_error",
        "syntax_error",
    }
)
# Reasons a status code gives that words may still overrule.
_TENTATIVE = frozenset({"", "other", "on_hold", "system", "security", "expired", "network"})
# Statuses whose meaning is generic enough that the words refine them (RFC 3463 X.7.1/X.7.2).
_REFINABLE = frozenset({"4.7.1", "5.7.1", "4.7.2", "5.7.2"})
_BEFORE_DATA = frozenset({"CONN", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT"})
# Reasons Sisimai's second reading (lib/sisimai/reason.rb ClassOrder[1]) never gives by words.
_NOT_RETRIED = frozenset({"blocked", "rejected", "too_many_connections"})


@lru_cache(maxsize=8192)
def _said(reason: str, low: str) -> bool:
    """Whether lower-cased ``low`` holds one of ``reason``'s phrases (asked often for one text)."""
    return WORDS.says(reason, low)


def _probe(reason: str) -> Callable[[str, str, str, str], bool]:
    def probe(low: str, status_name: str, command: str, code: str) -> bool:
        return status_name == reason or _said(reason, low)

    return probe


def _user_unknown(low: str, status_name: str, command: str, code: str) -> bool:
    if command == "MAIL":
        return False  # refused before any recipient was named
    if command == "DATA" and status_name != "user_unknown":
        # The server took the recipient at RCPT and refused only once it saw the message: words
        # alone are then a filter's verdict on the content (``filtered``, below). An explicit
        # X.1.1 still says the mailbox does not exist: servers that look recipients up late
        # (Exchange's RESOLVER.ADR.RecipNotFound, content filters in front of the mailbox
        # store) answer that at the end of DATA; Sisimai reads it as userunknown too.
        return False
    if status_name != "user_unknown" and _said("host_unknown", low):
        # "Mail domain mentioned in email address is unknown", "unknown domain name": the words
        # name the domain, not the mailbox (host_unknown, below).
        return False
    if status_name == "user_unknown":
        # 5.1.1 with words that say the refusal was about us, the mailbox or our sender.
        return not any(
            _said(r, low)
            for r in ("blocked", "mailbox_full", "has_moved", "rejected", "not_accept", "authentication")
        )
    if status_name not in ("", "other", "on_hold"):
        # The status says something else (5.2.1 disabled, 5.2.2 full, ...): the words alone
        # overrule it only in answer to RCPT, where nothing but the address was judged.
        return command == "RCPT" and _said("user_unknown", low)
    # Words alone say the mailbox does not exist only in answer to RCPT, where nothing but the
    # address was judged. Without a command or a status they may be a filter's verdict at any
    # stage (``filtered``, below; Sisimai's Reason::Filtered reads them so). The formats that
    # say "unknown user" without a command and mean it (Domino, Exchange 2003, IMail, McAfee,
    # PowerMTA's category) are read by their own tables first (``families``).
    return command == "RCPT" and _said("user_unknown", low)


def _filtered(low: str, status_name: str, command: str, code: str) -> bool:
    if status_name != "filtered" and _said("host_unknown", low):
        return False  # the words name the domain (host_unknown, below)
    words = _said("filtered", low) or _said("user_unknown", low)
    if status_name == "filtered":
        return words
    # Before DATA no filter has seen the message: "user unknown" then is about the address.
    return command not in _BEFORE_DATA and words


def _rejected(low: str, status_name: str, command: str, code: str) -> bool:
    if status_name == "rejected":
        return True
    if "recipient address rejected" in low or "sender ip address rejected" in low:
        return False
    words = _said("rejected", low)
    if command == "MAIL":
        # Refused before any recipient was named: our envelope sender, unless the words
        # say it was our IP or authentication (later reasons).
        return words or status_name in ("user_unknown", "host_unknown", "filtered")
    if command == "DATA":
        return status_name != "user_unknown" and words
    return status_name in _TENTATIVE and words


def _host_unknown(low: str, status_name: str, command: str, code: str) -> bool:
    # A DNS answer that failed to arrive (timeout, SERVFAIL, malformed reply) is network trouble
    # on the way, not a domain that does not exist.
    if _said("network", low):
        return False
    return status_name == "host_unknown" or _said("host_unknown", low)


def _spam(low: str, status_name: str, command: str, code: str) -> bool:
    if status_name == "spam_detected":
        return True
    if command in _BEFORE_DATA and command:
        return False
    if status_name in ("rate_limited", "authentication", "require_ptr", "bad_reputation"):
        # A status that names the cause (Gmail 4.7.28 "unusual rate of unsolicited mail") leads.
        return False
    return _said("spam_detected", low)


def _ip_sends_spam(low: str, status_name: str, command: str, code: str) -> bool:
    # "You are sending spam", "currently sending spam": about our IP, not this message.
    if _CONTENT_OR_IP in low and not (command in _BEFORE_DATA and command):
        # Sisimai 5.x has "message was rejected for possible spam/virus content" both in
        # blocked.rb Regex and in spamdetected.rb Index; lib/sisimai/reason.rb ClassOrder[0] asks
        # SpamDetected.true before Blocked.true, and SpamDetected.true declines only before DATA
        # (CONN/EHLO/HELO/MAIL/RCPT). Once the message was seen, it is a verdict on its content.
        return False
    return status_name in _TENTATIVE and _said("ip_sends_spam", low)


_CONTENT_OR_IP = "rejected for possible spam/virus content"
_SPAM_LISTED_DOMAIN = "sender domain listed at "


def _sender_domain_listed(low: str, status_name: str, command: str, code: str) -> bool:
    # "Sender domain listed at dbl.spamhaus.org": a domain blocklist's spam verdict (Sisimai 5.x
    # spamdetected.rb Regex "sender domain listed at [^ ]+"), not our envelope sender refused:
    # rejected.rb's Index has no such words, so Rejected.true declines. Before DATA, SpamDetected.true
    # declines too, and a 5.7.1 then stays blocked by its status (blocked.rb true); without a
    # status that names a reason, reason.rb ``anotherone`` reads the words in ClassOrder[1],
    # where SpamDetected.match answers.
    if _SPAM_LISTED_DOMAIN not in low:
        return False
    if command in _BEFORE_DATA and command:
        return status_name in ("", "other", "on_hold", "system", "network", "expired")
    return status_name in _TENTATIVE


def _suspended(low: str, status_name: str, command: str, code: str) -> bool:
    return status_name == "suspended" or code == "525" or _said("suspended", low)


def _policy_first(low: str, status_name: str, command: str, code: str) -> bool:
    return "greylist" in low and not _said("spam_detected", low)


def _throttled(low: str, status_name: str, command: str, code: str) -> bool:
    # Amazon SES "Throttling failure: Daily message quota exceeded" / "Maximum sending rate
    # exceeded" is our own sending allowance, not a full mailbox: we sent too much, too fast
    # (Sisimai files the quota under toomanyconn; ours says what to lower: [throttle] rate).
    return "throttling failure" in low


def _exceed_limit(low: str, status_name: str, command: str, code: str) -> bool:
    # The status leads: X.3.4 "message too big for system" stays the system's limit whatever the
    # words ("552 5.3.4 Message too large"), as Sisimai's MesgTooBig.true asks the status before
    # ExceedLimit reads "message too large" (lib/sisimai/reason/mesgtoobig.rb, exceedlimit.rb).
    if status_name == "message_too_big":
        return False
    return status_name == "exceed_limit" or _said("exceed_limit", low)


def _not_accept(low: str, status_name: str, command: str, code: str) -> bool:
    # Words refine a vague status only: "550 5.1.2 Host unknown (Name server: .: host not
    # found)" stays host_unknown, whatever Sendmail's words resemble. An X.3.2 status alone is
    # read after every specific wording (NotAccept is not in Sisimai's ClassOrder[0]): "452
    # 4.3.2 Connection rate limit exceeded" is too many connections (reason.rb, toomanyconn.rb).
    return (status_name in _TENTATIVE or status_name == "on_hold") and _said("not_accept", low)


_SPECIFIC: tuple[tuple[str, Callable[[str, str, str, str], bool]], ...] = (
    ("policy", _policy_first),
    ("rate_limited", _throttled),
    ("mailbox_full", _probe("mailbox_full")),
    ("exceed_limit", _exceed_limit),
    ("message_too_big", _probe("message_too_big")),
    ("suspended", _suspended),
    ("has_moved", _probe("has_moved")),
    ("no_relaying", _probe("no_relaying")),
    ("authentication", _probe("authentication")),
    ("user_unknown", _user_unknown),
    ("filtered", _filtered),
    ("require_ptr", _probe("require_ptr")),
    ("not_compliant", _probe("not_compliant")),
    ("bad_reputation", _probe("bad_reputation")),
    ("content_error", _probe("content_error")),
    ("spam_detected", _sender_domain_listed),
    ("rejected", _rejected),
    ("not_accept", _not_accept),
    ("host_unknown", _host_unknown),
    ("blocked", _ip_sends_spam),
    ("spam_detected", _spam),
    ("too_many_connections", _probe("too_many_connections")),
    ("rate_limited", _probe("rate_limited")),
    ("blocked", _probe("blocked")),
)
_VAGUE = (
    "mailbox_full",
    "authentication",
    "bad_reputation",
    "rate_limited",
    "spam_detected",
    "virus_detected",
    "policy",
    "no_relaying",
    "security",
    "system",
    "network",
    "suspended",
    "content_error",
    "system_full",
    "not_accept",
    "expired",
    "starttls",
    "mailer_error",
    # Words that say more than "on hold" even where the report's type is not SMTP.
    "too_many_connections",
    "blocked",
    "rejected",
)


def reason_for(
    *,
    status: str = "",
    code: str = "",
    text: str = "",
    command: str = "",
    action: str = "failed",
    diagnostic_type: str = "smtp",
    rhost: str = "",
    domain: str = "",
    lhost: str = "",
) -> str:
    """The reason for one failed (or delayed) recipient, from everything a bounce tells.
    ``rhost`` (the host that answered), ``domain`` (the recipient's) and ``lhost`` (the host
    that reported) let a remote provider's own wordings settle it (``remote_hosts``)."""
    if status.startswith("2."):
        return "delivered"
    if not status or status.endswith(".0.0"):
        # A generic report status: the reply quoted in the text is usually more precise.
        quoted = status_in(text)
        if quoted and not quoted.endswith(".0.0"):
            status = quoted
    status_name = STATUS.get(status, "")
    if not status_name and status.startswith("5.1.") and status not in ("5.1.0",):
        status_name = "user_unknown"  # a provider's own addressing detail (Outlook 5.1.351)
    if status_name == "delivered":
        return "delivered"
    command = command or command_in(text) or command_named(text)
    settled = status_name
    if status in _REFINABLE:
        # "Delivery not authorized" says only that we were refused: the words say why (spam,
        # a PTR, an unknown user after DATA); "blocked" stands when they do not.
        status_name = "security"
    low = text.lower()
    local = agent_reason(low)
    if local is not None:
        return local  # the program that writes into the mailbox said why (``local_agents``)
    coded = provider_reason(low)
    if coded is not None:
        return coded  # a provider's own error code (Orange/La Poste, GoDaddy, Cox) says it all
    if rhost or domain or lhost:
        # The provider that answered (or hosts the recipient) reads its own wordings first.
        remote = remote_reason(
            low, rhost=rhost, domain=domain, lhost=lhost, status=status, code=code, command=command
        )
        if remote is not None:
            return remote
    # The words of a local program's output (x-unix) are the program's, not a mail system's.
    if not diagnostic_type.startswith("x-unix"):
        for reason, probe in _SPECIFIC:
            if probe(low, status_name, command, code):
                return reason
    if status_name == "user_unknown" and not diagnostic_type.startswith("x-unix"):
        # X.1.1 whose words also name another reason (``_user_unknown`` declined): Sisimai asks
        # the words again, in its second order, and keeps userunknown only when none answers
        # (lib/sisimai/reason/userunknown.rb ``true``: PreMatches; lib/sisimai/reason.rb
        # ``anotherone``: userunknown is in ``retry``, ClassOrder[1] has no Blocked, Rejected
        # or TooManyConn). "550 5.1.1 SMTP protocol returned a permanent error" is notaccept.
        for reason in _VAGUE:
            if reason not in _NOT_RETRIED and _said(reason, low):
                return reason
    if status_name and status_name not in _TENTATIVE and diagnostic_type in ("", "smtp"):
        return status_name
    for reason in _VAGUE:
        if _said(reason, low):
            return reason
    if settled:
        return settled
    if status[1:4] in (".6.",):
        return "content_error"
    if status[1:4] == ".7.":
        return "security"
    if diagnostic_type.startswith(("x-unix", "x-postfix")):
        # Postfix's own verdict ("X-Postfix; mail transport unavailable") that no status places
        # (Sisimai lib/sisimai/reason.rb anotherone: X-UNIX and X-POSTFIX are mailererror).
        return "mailer_error"
    if _said("syntax_error", low):
        return "syntax_error"
    if action in ("delayed", "expired"):
        return "expired"
    if command == "HELO":
        return "blocked"
    if code == "421":
        return "system"
    if code in ("452", "552") and not status:
        return "mailbox_full"
    if _said("vacation", low):
        # An auto-reply's words quoted as the diagnostic ("I am away on vacation"): nothing above
        # placed them and the report is no delay (Sisimai lib/sisimai/reason.rb Reason.get asks
        # Vacation.match just before falling back to onhold). Soft, and not a bounce to act on.
        return "vacation"
    return "on_hold" if text.strip() else "other"


def is_hard(reason: str, code: str) -> bool:
    """Whether what a bounce says puts the fault in the address itself: the mailbox or the
    domain does not exist, the mailbox has moved, or the domain accepts no mail (unless that
    came as a 4xx reply). This is about the address, not about acting on it: a live 4xx reply
    is retried (``classify_reply`` is hard only for 5xx), and a delay warning suppresses nobody
    (``ingest`` acts on final failures only). Sisimai's rule, which the scores follow."""
    if reason == "not_accept":
        return not code.startswith("4")
    return reason in HARD_REASONS


def said_cache_clear() -> None:
    """Forget the phrase answers memoised so far (benchmarks start each run afresh)."""
    _said.cache_clear()
    WORDS.forget()
