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
   user unknown *at RCPT*, a user unknown *after DATA* = the recipient's filter, a PTR problem,
   a blocklisted IP, ...), taking the SMTP command into account;
2. the enhanced status code alone (class.subject.detail, IANA registry);
3. words that only a vaguer status leaves room for (system, network, policy, expired, ...);
4. the status subject (x.6 content, x.7 security), a delayed action (expired), else ``on_hold``
   when there is a diagnostic we cannot place, ``other`` when there is none.

Hard is only user_unknown, host_unknown, has_moved, and not_accept with a 5xx reply.
"""

from __future__ import annotations

import re
from collections.abc import Callable

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

# RFC 3463 / IANA enhanced status codes -> reason. Codes absent here say too little on their own.
_STATUS: dict[str, str] = {
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


def _words(*phrases: str) -> re.Pattern[str]:
    return re.compile("|".join(phrases), re.I)


# The words mail systems use, per reason (lower-cased diagnostic text is matched).
_WORDS: dict[str, re.Pattern[str]] = {
    "mailbox_full": _words(
        r"mailbox (is |size |would )?(full|exceed|over)",
        r"(mailbox|maildir|disk|account is|user has exceeded|over( the)?) .{0,30}quota",
        r"quota (exceeded|violation)|exceeded storage|insufficient (disk |storage )?space",
        r"(not )?(sufficient|enough) .{0,12}space|no space left|full mailbox|mail ?folder is full",
        r"too many messages on the server|space has been used up|too much mail data",
        r"boite du destinataire pleine|exceeding receiving limits",
    ),
    "message_too_big": _words(
        r"message (size|length) exceeds|message too (big|large)|size limit|too large for",
        r"exceeds? (the )?(maximum|fixed) (message )?size|message is too big",
    ),
    "exceed_limit": _words(r"message (length )?exceeds (administrative|the allowed) limit"),
    "suspended": _words(
        r"(is |been |currently |temporarily |user )suspended|mailbox (is )?(disabled|frozen|inactive)",
        r"account (is |has been )?(disabled|deactivated|locked|inactive|discontinued)",
        r"inactive (account|user)|deactivated mailbox|temporar(il)?y (locked|inactive)",
        r"user is terminated|archived recipient|boite du destinataire archivee|account (is )?blocked",
        r"compte du destinataire est bloque|no longer accepts mail|recipient suspend",
        r"tried to reach is (disabled|inactive)",
    ),
    "has_moved": _words(r"address .{0,20}has moved|mailbox has moved|no forwarding address"),
    "no_relaying": _words(
        r"relay(ing)? (access )?(denied|not permitted|not allowed|prohibited)|not permitted to relay",
        r"unable to relay|we do not relay|relay not (allowed|permitted)|not a gateway",
        r"no relaying allowed|relaying mail to .{0,40} is not allowed",
    ),
    "authentication": _words(
        r"\bspf\b.{0,20}(fail|violation|settings)|bad spf records|sender policy framework",
        r"dmarc( policy|.{0,20}fail)|dkim.{0,20}(fail|invalid|required)|per it'?s spf record",
        r"required authentication level|authentication requirements|unauthenticated (mail|email)",
        r"is not allowed to send (mail )?from <",
    ),
    "user_unknown": _words(
        r"(user|recipient|mailbox|address|account|addressee|destinataire|utilisateur)\b.{0,12}"
        r"(unknown|not (found|known|exist|valid|active|present)|does(n'?t| not) exist|inconnu)",
        r"(unknown|invalid|bad|no such|non-?existent|nonexistent) .{0,10}"
        r"(user|recipient|mailbox|address|account|person|local ?part|e-?mail address)",
        r"no (such|mailbox|account) (here|by that name|found)|mailbox (unavailable|invalid|not present)",
        r"not a (valid|known|local) (user|mailbox|recipient|address)|is not a known user",
        r"does not exist[. ]|there is no one at this address|no longer (valid|available)",
        r"destination address(es)? (was|were) unknown|badrcptto|validrcptto|in my badrecipientto",
        r"address (does not exist|unknown|invalid|not present in directory)|recipient not ok",
        r"requested action not taken: mailbox unavailable|recipient (is )?not (local|accepted)",
        r"recipient address rejected: (unknown|invalid|user)|resolver\.adr\.recipient ?notfound",
        r"user missing home directory|not email addresses|isn'?t in my list of allowed rcpthosts",
        r"can'?t accept user|envelope recipient (has been denied|is in my)|invalid virtual user",
        r"recipient address rejected: access denied|#5\.1\.1 bad address|550 address invalid",
        # Sisimai's userunknown table (Exchange, qmail, vpopmail, IMail, Domino, Italian, Spanish, ...)
        r"destination server rejected recipients|email address could not be found",
        r"is not an active address at this host|mailbox (does not exist|not found|is inactive|unavaiable)",
        r"nessun utente simile|no existe (dicha persona|ese usuario)|no mail ?box available for this user",
        r"no mailbox (by that name is currently available|found|here by that name)",
        r"no such (address|person|recipient|user|mailbox)|no thank you rejected: account unavailable",
        r"no valid recipients, bye|not a valid (recipient|user here)|not a local address",
        r"recipient refuses to accept your mail|the following recipients was undeliverable",
        r"the user'?s email name is not found|this address no longer accepts mail",
        r"this email address is wrong or no longer valid|this spectator does not exist",
        r"user not (active|exist|found|known)|does not exist at the organization",
        r"not found in .{0,30}directory",
        r"recipient .{0,60} was not found in|user .{0,60} (was not found|does not exist)",
        r"mailbox .{0,60} (unavailable or access denied|does not exist)|user \(.{0,60}\) unknown",
        r"said: 550[- ]5\.1\.1 .{0,80}user unknown|this user doesn'?t have a .{0,30} account",
    ),
    "filtered": _words(
        r"message filtered|user (reject|refuses)|refuse(s|d)? to receive|rejected due to user rules",
        r"recipient (preferences|is only accepting)|blocked by the recipient|not accepting any mail",
        r"account is protected by|has restricted sms|bounced address|not found recipient account",
    ),
    "require_ptr": _words(
        r"\bptr\b.{0,30}(record|resource|lookup|missing)|reverse (dns|lookup)",
        r"ip name lookup failed|cannot (find|resolve) your (hostname|host name|address)",
        r"mismatches client ip|unresolvable relay host|rdns|generic dns",
        r"forward dns entry does not point to the sending ip|unverif[iy]able sending ip",
    ),
    "not_compliant": _words(
        r"not (rfc|rfc ?5322|rfc ?2822)[- ]?compliant|rfc ?(5322|2822|822) (violation|compliance)",
        r"(multiple|more than one) .{0,20}(addresses in from|from: header)|duplicate header",
        r"header (is|are) not (valid|accepted)|malformed header|non-compliant",
    ),
    "bad_reputation": _words(
        r"(low|poor|bad) (ip )?reputation|reputation (is|of)|sender score|score is too low",
        r"temporarily rate limited due to ip reputation",
    ),
    "content_error": _words(r"content (error|rejected: format)|header (syntax|format) error|mime error"),
    "rejected": _words(
        r"sender (address )?(rejected|was rejected|verify failed|is spammer|not pre-approved|domain)",
        r"(invalid|bogus|unroutable|blacklisted|blocked|empty|null) (envelope )?(sender|mail from)",
        r"domain of sender address|mail from not owned|envelope sender|sender address has been",
        r"you are sending to/from an address that has been blacklisted|your email address has been",
        r"address rejected.{0,40}mail from|batv|returned mail not accepted|no third-party dsns",
        r"not allowed to post to this (mailing )?list|email address is not verified",
        r"emetteur invalide|fully qualified email address required|administrative prohibition",
        r"access denied \(in reply to mail from|provide a valid from|from: domain is invalid",
        r"recipient addresses rejected : access denied|access denied \(sender blacklisted\)",
        # Sisimai's rejected table: the envelope sender refused (MDaemon, McAfee, SonicWall, ...)
        r"backscatter protection|sender isn'?t on the recipient'?s list of senders",
        r"can'?t determine purported responsible address|without a valid sender domain",
        r"denied \[bouncedeny\]|valid-address-filter|delivery not authorized, message refused",
        r"senderfilterconfig list|empty envelope senders not allowed|envelope blocked",
        r"invalid domain, see <url:|is not a registered gateway user|null sender is not allowed",
        r"recursive cname records|rule imposed mailbox access|sender is in my black list",
        r"spam reporting address|syntax error: empty email address|this server does not accept mail from",
        r"unsigned dsn for|your access to submit messages to this e-mail system has been rejected",
        r"sending this from a different address or alias",
        # Google Groups, Mailman: the list refuses a poster who is not a member
        r"you do not have permission to post|only members can post|not a member of (this|the) (group|list)",
        r"post(ing)? (to|in) this group .{0,40}(not allowed|restricted)|doesn'?t have permission to post",
        r"may not have permission to post|投稿する権限",  # Google Groups (English, Japanese)
    ),
    "host_unknown": _words(
        r"host (unknown|not found|unreachable|or domain name not found)|unknown host",
        r"domain (does not exist|is not reachable|must exist|name not found|not found)",
        r"no such domain|unrout(e)?able address|name or service not known",
        r"mail domain .{0,30} is unknown|recipient address rejected: unknown domain",
        r"^553 .{0,60}does not exist",
    ),
    "spam_detected": _words(
        r"\bspam\b|unsolicited|bulk (e-?mail|mail|advertising)|junk mail|spamassassin",
        r"blacklisted url|uribl|content filter|message content rejected|unacceptable content",
        r"message rejected for policy reasons|looks like spam|greylisted.{0,20}please try again in",
        r"our system has detected that this message is|recurrent pattern detection",
        r"banned content|mail content denied|rejecting mail content",
    ),
    "rate_limited": _words(
        # Not "try again later": every temporary reply says it, whatever the cause (issue 14).
        r"rate (limit|exceeded)|sending rate|too fast|slow down|throttl|please try again slower",
        r"too many (messages|emails|mails|unwanted)|exceeded .{0,20}rate",
        r"received too many messages|messages per (hour|minute|second|day)|unusual rate",
        r"receiving mail at a rate that prevents",
    ),
    "too_many_connections": _words(
        r"too many (connections|concurrent|simultaneous|sessions|smtp sessions|errors from your ip)",
        r"connection (limit|frequency)|maximum number of connections|connection rate limit exceeded",
        r"at maximum connection limit|per-domain connection limit|max emails per hour",
        r"daily message quota exceeded|too many recipients|trop de connexions",
        r"we have already made numerous attempts to deliver this message",
    ),
    "blocked": _words(
        r"black ?list(ed)?|block ?list|\brbl\b|dnsbl|spamhaus|spamcop|barracuda|sorbs|abuseat",
        r"blocked using|\b(ip|client host|sending host|your host) .{0,40}(blocked|banned|refused)",
        r"\b(ip|client host|sending host|your host) .{0,40}not allowed",
        r"banned sending ip|bad sender ip|dynamic ip|zombie|open proxy|go away",
        r"not (currently )?accepting (mail|connections) from your ip|your ip .{0,30}listed",
        r"client host rejected|helo command rejected|connection (refused|reset|dropped)",
        r"service not available, closing transmission channel|after initial connection",
        r"confirm this mail server|requires confirmation|use the smtp server of your isp",
        r"you are not allowed to connect|access (from|denied for) ip|listed as abusive",
        r"not allowed to send mail from|was blocked by|\(bl\)|said: 550 blocked",
        r"please try later.{0,12}(103|510)",
        # Sisimai's blocked table (Yahoo, iCloud, free.fr, SFR, junkemailfilter, ...)
        r"esmtp not accepting connections|extreme bad ip profile|host network not allowed",
        r"invalid ip for sending mail|no access from mail server|part of their network is on our",
        r"refused - see http|blocked - see http|currently sending spam see|you are sending spam",
        r"temporarily deferred due to (unexpected volume or )?user complaints|too many spams from your ip",
        r"has not passed validation|server access forbidden by your ip|connection was dropped by remote host",
        r"ip address .{0,40}(has been rejected|is blocked)|mail server at .{0,60} is blocked",
        r"rejected based on blacklist|is in an? .{0,20}rbl|your access ip .{0,40}has been rejected",
        r"suspiciously like spammer|no matches to nameserver query|ip name lookup failed",
    ),
    "virus_detected": _words(r"virus|malware|infected|malicious (content|attachment)"),
    "policy": _words(
        r"policy (violation|reasons)|denied by policy|local policy|organi[sz]ational (settings|policy)",
        r"illegal attachment|members-only list|closed mailing list|not subscribed to this group",
        r"protocol violation|header error|mass mailer|message given low priority",
        r"email rejected due to security policies|greylist",
    ),
    "system": _words(
        r"system (config(uration)? )?error|configuration error|local error in processing",
        r"(mail|forwarding) loop|loops back to myself|queue file write error|internal (server )?error",
        r"service (currently )?unavailable|temporary local problem|interrupted system call",
        r"timeout waiting for input|transaction failed|unable to connect .{0,20}daemon|misconfigured",
        r"encountered an error while being processed|could not load drd|ldap server|directory server",
    ),
    "network": _words(
        r"no route to host|host (is )?unreachable|host name lookup failure|host not found, try again",
        r"(malformed|unexpected) (or unexpected )?name server reply|dns query failed",
        r"mail forwarding loop|too many hops|hop count exceeded|routing loop|message looping",
        r"unrouteable mail domain|unable to resolve route|could not connect and send",
        r"dns records for the destination|dns error|had no relevant answers",
    ),
    "system_full": _words(r"(mail )?system (is )?full|disk (is )?full|out of (disk )?space"),
    "not_accept": _words(
        r"does not accept mail|null ?mx|mail receiving disabled|no mx record found for domain=",
        r"doesn'?t receive email|no route for current request|smtp protocol returned a permanent error",
        r"name server: \.: host not found",
    ),
    "expired": _words(
        r"connection timed out|timed? ?out|could not find a gateway|delivery attempts will continue",
        r"delivery (time )?expired|message expired|giving up on|failing for a long time",
        r"has been delayed|not been collected|in (the )?queue too long|retry time not reached",
        r"did not respond|after multiple retries|not reachable within|could not be delivered for",
        r"could not deliver for the last|giving up\b",
        r"did not accept our requests to connect|will be retried for|too long in (the )?queue",
    ),
    "starttls": _words(r"starttls|tls (is )?required|must issue a starttls|encryption required"),
    "security": _words(
        r"security (policy|violation|reasons)|authentication (required|failed|failure)",
        # Sisimai's securityerror table (SES, Postfix, qmail, French ISPs)
        r"authentication credentials invalid|authentication turned on in your email client",
        r"executable files are not allowed|insecure mail relay|unauthenticated senders not allowed",
        r"verification failure|you are not authorized to send mail|you don'?t authenticate",
        r"account not subscribed to ses|not authorized to perform ses:|is a dead domain",
        r"authentification (requise|invalide)",
    ),
    "mailer_error": _words(
        r"mailer error|exit status|command (died|failed)|procmail|x-unix|pipe to \||no such file or directory"
    ),
    "syntax_error": _words(r"syntax error|improper sequence|bad sequence of commands|command unrecognized"),
    "vacation": _words(r"out of (the )?office|vacation|auto(matic)?[ -]?reply"),
}


def _probe(reason: str) -> Callable[[str, str, str, str], bool]:
    def probe(text: str, status_name: str, command: str, code: str) -> bool:
        return status_name == reason or bool(_WORDS[reason].search(text))

    return probe


def _user_unknown(text: str, status_name: str, command: str, code: str) -> bool:
    if command == "MAIL":
        return False  # refused before any recipient was named
    if command == "DATA":
        # The server took the recipient at RCPT and refused only once it saw the message: a
        # filter's verdict on the content, whatever status it quotes (``filtered``, soft).
        return False
    if status_name == "user_unknown":
        # 5.1.1 with words that say the refusal was about us, the mailbox or our sender.
        return not any(
            _WORDS[r].search(text)
            for r in ("blocked", "mailbox_full", "has_moved", "rejected", "not_accept", "authentication")
        )
    if status_name not in ("", "other", "on_hold"):
        # The status says something else (5.2.1 disabled, 5.2.2 full, ...): the words alone
        # overrule it only in answer to RCPT, where nothing but the address was judged.
        return command == "RCPT" and bool(_WORDS["user_unknown"].search(text))
    # Words alone: in answer to RCPT, or where the bounce names no command at all, which is how
    # most MTAs report an unknown mailbox (qmail, IMail, Exchange, Domino, Exim). Only an
    # explicit DATA (handled above) makes the same words a filter's verdict.
    return command in ("", "RCPT") and bool(_WORDS["user_unknown"].search(text))


def _filtered(text: str, status_name: str, command: str, code: str) -> bool:
    words = bool(_WORDS["filtered"].search(text) or _WORDS["user_unknown"].search(text))
    if status_name == "filtered":
        return words
    # Before DATA no filter has seen the message: "user unknown" then is about the address.
    return command not in _BEFORE_DATA and words


def _rejected(text: str, status_name: str, command: str, code: str) -> bool:
    if status_name == "rejected":
        return True
    if re.search(r"recipient address rejected|sender ip address rejected", text, re.I):
        return False
    words = bool(_WORDS["rejected"].search(text))
    if command == "MAIL":
        # Refused before any recipient was named: our envelope sender, unless the words
        # say it was our IP or authentication (later reasons).
        return words or status_name in ("user_unknown", "host_unknown", "filtered")
    if command == "DATA":
        return status_name != "user_unknown" and words
    return status_name in _TENTATIVE and words


def _host_unknown(text: str, status_name: str, command: str, code: str) -> bool:
    # A DNS answer that failed to arrive (timeout, SERVFAIL, malformed reply) is network trouble
    # on the way, not a domain that does not exist.
    if _WORDS["network"].search(text):
        return False
    return status_name == "host_unknown" or bool(_WORDS["host_unknown"].search(text))


def _spam(text: str, status_name: str, command: str, code: str) -> bool:
    if status_name == "spam_detected":
        return True
    if command in _BEFORE_DATA and command:
        return False
    if status_name in ("rate_limited", "authentication", "require_ptr", "bad_reputation"):
        # A status that names the cause (Gmail 4.7.28 "unusual rate of unsolicited mail") leads.
        return False
    return bool(_WORDS["spam_detected"].search(text))


def _suspended(text: str, status_name: str, command: str, code: str) -> bool:
    return status_name == "suspended" or code == "525" or bool(_WORDS["suspended"].search(text))


def _policy_first(text: str, status_name: str, command: str, code: str) -> bool:
    return bool(re.search(r"greylist", text, re.I)) and not _WORDS["spam_detected"].search(text)


_SPECIFIC: tuple[tuple[str, Callable[[str, str, str, str], bool]], ...] = (
    ("policy", _policy_first),
    ("mailbox_full", _probe("mailbox_full")),
    ("exceed_limit", _probe("exceed_limit")),
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
    ("rejected", _rejected),
    ("not_accept", _probe("not_accept")),
    ("host_unknown", _host_unknown),
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

_ENHANCED = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")


def status_in(text: str) -> str:
    """The first RFC 3463 enhanced status code in ``text`` ("5.1.1"), or ""."""
    m = _ENHANCED.search(text or "")
    return m.group(0) if m else ""


_COMMANDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.I), c)
    for p, c in (
        (r"(in reply to|after|>>>|our|response to|sending) (end of )?(data|message body)\b", "DATA"),
        (
            r"(in reply to|after|>>>|our|response to) rcpt( to)?\b|does not like recipient"
            r"|rcpt to: ?<?[^\s@]+@",
            "RCPT",
        ),
        (r"(in reply to|after|>>>|our|response to) mail( from)?\b|mail from:<[^>]*>\s*size=", "MAIL"),
        (r"(in reply to|after|>>>|our) (ehlo|helo)\b|while connect|initial connection|greeting", "HELO"),
        (r"(in reply to|after|>>>) starttls", "STARTTLS"),
        # Local delivery agents look the mailbox up themselves: like an answer to RCPT.
        (r"\bmail\.local\b|local delivery|\bvdeliver|\bmaildrop\b|\bdovecot-lda\b", "RCPT"),
    )
)


# With PIPELINING, Sendmail sends every RCPT and the DATA in one batch; its transcript then shows
# ">>> DATA" above the RCPT refusals and a "503 need RCPT" / "554 no valid recipients" as the
# answer to DATA itself. The refusals quoted there answered RCPT, not DATA.
_PIPELINED = re.compile(
    r">>> data\b.{0,600}?(need rcpt|no valid recipients|all rcpt commands were rejected)", re.I | re.S
)


def command_in(text: str) -> str:
    """The SMTP command a failure answered, when the text says (``DATA``, ``RCPT``, ...)."""
    best: tuple[int, str] | None = None
    for pattern, command in _COMMANDS:
        m = pattern.search(text)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), command)
    if best and best[1] == "DATA" and _PIPELINED.search(text):
        return "RCPT"
    return best[1] if best else ""


def reason_for(
    *,
    status: str = "",
    code: str = "",
    text: str = "",
    command: str = "",
    action: str = "failed",
    diagnostic_type: str = "smtp",
) -> str:
    """The reason for one failed (or delayed) recipient, from everything a bounce tells."""
    if status.startswith("2."):
        return "delivered"
    if not status or status.endswith(".0.0"):
        # A generic report status: the reply quoted in the text is usually more precise.
        quoted = status_in(text)
        if quoted and not quoted.endswith(".0.0"):
            status = quoted
    status_name = _STATUS.get(status, "")
    if not status_name and status.startswith("5.1.") and status not in ("5.1.0",):
        status_name = "user_unknown"  # a provider's own addressing detail (Outlook 5.1.351)
    if status_name == "delivered":
        return "delivered"
    command = command or command_in(text)
    settled = status_name
    if status in _REFINABLE:
        # "Delivery not authorized" says only that we were refused: the words say why (spam,
        # a PTR, an unknown user after DATA); "blocked" stands when they do not.
        status_name = "security"
    if command == "DATA" and status_name == "user_unknown":
        status_name = "filtered"  # see _user_unknown: after DATA it is the content's verdict
    if diagnostic_type in ("", "smtp"):
        for reason, probe in _SPECIFIC:
            if probe(text, status_name, command, code):
                return reason
    if status_name and status_name not in _TENTATIVE and diagnostic_type in ("", "smtp"):
        return status_name
    for reason in _VAGUE:
        if _WORDS[reason].search(text):
            return reason
    if settled:
        return settled
    if status[1:4] in (".6.",):
        return "content_error"
    if status[1:4] == ".7.":
        return "security"
    if diagnostic_type.startswith("x-unix"):
        return "mailer_error"
    if _WORDS["syntax_error"].search(text):
        return "syntax_error"
    if action in ("delayed", "expired"):
        return "expired"
    if command == "HELO":
        return "blocked"
    if code == "421":
        return "system"
    if code in ("452", "552") and not status:
        return "mailbox_full"
    return "on_hold" if text.strip() else "other"


def is_hard(reason: str, code: str) -> bool:
    """Whether the address itself cannot work (and should be suppressed). ``code`` is the reply
    code or status class: a 4xx / 4.x.x answer is transient by definition (RFC 5321 §4.2.1,
    RFC 3463 §3.1), so it never makes an address hard, whatever its words."""
    if code.startswith("4"):
        return False
    if reason == "not_accept":
        return code.startswith("5")
    return reason in HARD_REASONS
