"""Remote providers' own wordings, applied only to what that provider said.

A provider's table settles the reason when the bounce came from one of its hosts (the Remote-MTA
field, "host mx.zoho.com[192.0.2.1] said:", "... while talking to mfsmax.docomo.ne.jp.:", the
reporting MTA) or was for one of its domains (the recipient's). The same words from anyone else
keep their general reading: "550 : User unknown" is au's reception filter, not a missing mailbox,
only when au said it.

Which provider: host names and domains are looked up suffix by suffix in two dicts (the most
specific suffix first), so no provider's table is read unless the host or domain is its own.
Order: the remote host first (it wrote the words), then the recipient's domain, then the
reporting host; Sisimai asks the domain first, but a domain says less about who answered than the
host that did. The tables are in ``remote_wordings``; Sisimai's rhost modules (lib/sisimai/rhost.rb
and rhost/*.rb, go-sisimai rhost/lib.go) give the hosts and wordings, ``providers.OURS`` our names.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from notifier.bounces import remote_wordings as w
from notifier.bounces.providers import OURS

__all__ = ["PROVIDERS", "Provider", "Said", "host_in", "provider_for", "providers_for", "remote_reason"]


@dataclass(frozen=True)
class Said:
    """What one reply said: its lower-cased text, enhanced status, reply code and SMTP command."""

    low: str
    status: str = ""
    code: str = ""
    command: str = ""


Reader = Callable[[Said], str]


@dataclass(frozen=True)
class Provider:
    name: str
    module: str  # the Sisimai module the table comes from
    hosts: tuple[str, ...]  # host name suffixes: the host itself or any host under it
    domains: tuple[str, ...]  # recipient domains the provider hosts
    read: Reader  # a Sisimai reason name, or "" when the table does not place the words


def _words(table: w.Words) -> Reader:
    def read(said: Said) -> str:
        return next((reason for reason, phrases in table if any(p in said.low for p in phrases)), "")

    return read


@lru_cache(maxsize=256)
def _google_rows(detail: str) -> tuple[tuple[str, str, str], ...]:
    """Google's rows (reply digits, words, reason) for one status subject.detail ("7.26"), or all
    of them for "", in table order: reading all ~150 phrases over a long text costs ~100 us."""
    return tuple(
        (code[1:], words, reason)
        for reason, rows in w.GOOGLE
        for code, status, words in rows
        if not detail or status[2:] == detail
    )


def _google(said: Said) -> str:
    # Sisimai compares the reply's last two digits and the status's subject.detail; a part the
    # bounce does not give is not held against the row.
    reply = said.code[1:]
    for code, words, reason in _google_rows(said.status[2:]):
        if (not reply or code == reply) and words in said.low:
            return reason
    return ""


@lru_cache(maxsize=256)
def _microsoft_rows(status: str) -> tuple[tuple[str, str], ...]:
    """Microsoft's rows (words, reason) that apply to ``status``, in table order."""
    detail = status.rpartition(".")[2]
    out = []
    for reason, rows in w.MICROSOFT:
        for first, low, high, words in rows:
            if low == high:
                if status != first:
                    continue
            elif not (status.startswith(first) and detail.isdigit() and int(low) <= int(detail) <= int(high)):
                continue
            out.append((words, reason))
    return tuple(out)


def _microsoft(said: Said) -> str:
    if said.status:
        found = next((reason for words, reason in _microsoft_rows(said.status) if words in said.low), "")
        if found:
            return found
    for label, (reply, reason) in w.MICROSOFT_CODES.items():
        if label in said.low and said.code == reply:
            return reason
    return ""


def _mimecast(said: Said) -> str:
    if not said.code:
        return ""  # every row names its reply code
    for reason, rows in w.MIMECAST:
        if any(code == said.code and words in said.low for code, words in rows):
            return reason
    return ""


_FACEBOOK_CODE = re.compile(r"\b([a-z]{3}-[pt][0-9])\b")


def _facebook(said: Said) -> str:
    if "-" not in said.low:
        return ""
    return next((w.FACEBOOK[m] for m in _FACEBOOK_CODE.findall(said.low) if m in w.FACEBOOK), "")


_IUA_CODE = re.compile(r"\.i\.ua/err/([0-9]+)/")


def _iua(said: Said) -> str:
    m = _IUA_CODE.search(said.low)
    return w.IUA.get(m.group(1), "") if m else ""


_SPECTRUM_CODE = re.compile(r"[0-9]{4}")


def _spectrum(said: Said) -> str:
    at = said.low.find("aup#")
    m = _SPECTRUM_CODE.search(said.low, at) if at >= 0 else None
    if m is None:
        return ""
    number = int(m.group(0))
    return next((reason for first, last, reason in w.SPECTRUM if first <= number <= last), "")


_DOCOMO_WORDS = _words(w.NTTDOCOMO)


def _nttdocomo(said: Said) -> str:
    # The status leads: 5.1.1 (or DOCOMO's 5.0.911) is the mailbox, 5.2.0 the reception filter.
    if said.status in ("5.1.1", "5.0.911"):
        return "userunknown"
    if said.status == "5.2.0":
        return "filtered"
    if said.command == "DATA" and said.status in ("5.0.0", "") and "550 unknown user" in said.low:
        # After DATA the address was already accepted: that "Unknown user" is DOCOMO's reception
        # filter refusing the sender (rb-sisimai: rejected). go-sisimai reads every "550 Unknown
        # user" as the mailbox since DOCOMO stopped filtering by SMTP (March 2025); a late
        # refusal is then no dead address either, and taking it for one would suppress a person.
        return "rejected"
    found = _DOCOMO_WORDS(said)
    if found or said.status != "5.0.0":
        return found
    return {"RCPT": "userunknown", "DATA": "rejected"}.get(said.command, "")


def _gsuite(said: Said) -> str:
    # A DNS answer is a missing domain only in a permanent failure, network trouble otherwise.
    status_class, reply_class = said.status[:1], said.code[:1]
    for reason, phrases in w.GSUITE:
        if not any(p in said.low for p in phrases):
            continue
        if reason == "networkerror" and "5" in (status_class, reply_class):
            continue
        if reason == "hostunknown" and (status_class in ("4", "") or reply_class in ("4", "")):
            continue
        return reason
    return ""


PROVIDERS: tuple[Provider, ...] = (
    # Aol's MX is Yahoo's; its own name under yahoodns.net is more specific than Yahoo's suffix.
    Provider(
        "aol",
        "rhost/aol",
        ("mail.aol.com", "mx.aol.com", "mx-aol.mail.gm0.yahoodns.net"),
        ("aol.com",),
        _words(w.AOL),
    ),
    Provider(
        "apple",
        "rhost/apple",
        ("mail.icloud.com", "apple.com", "me.com"),
        ("icloud.com", "me.com", "mac.com", "apple.com"),
        _words(w.APPLE),
    ),
    Provider("cloudflare", "rhost/cloudflare", ("mx.cloudflare.net",), (), _words(w.CLOUDFLARE)),
    Provider("cox", "rhost/cox", ("cox.net",), ("cox.net",), _words(w.COX)),
    Provider("facebook", "rhost/facebook", ("facebook.com",), ("facebook.com",), _facebook),
    Provider(
        "franceptt",
        "rhost/franceptt",
        ("laposte.net", "orange.fr", "wanadoo.fr"),
        ("laposte.net", "orange.fr", "wanadoo.fr"),
        _words(w.FRANCEPTT),
    ),
    Provider(
        "godaddy",
        "rhost/godaddy",
        ("smtp.secureserver.net", "mailstore1.secureserver.net"),
        ("secureserver.net",),
        _words(w.GODADDY),
    ),
    Provider(
        "google",
        "rhost/google",
        ("aspmx.l.google.com", "gmail-smtp-in.l.google.com"),
        ("gmail.com", "google.com"),
        _google,
    ),
    Provider("gsuite", "rhost/gsuite", ("googlemail.com",), ("googlemail.com",), _gsuite),
    Provider("iua", "rhost/iua", ("email.ua",), ("email.ua", "i.ua"), _iua),
    Provider("kddi", "rhost/kddi", ("ezweb.ne.jp", "msmx.au.com"), ("ezweb.ne.jp", "au.com"), _words(w.KDDI)),
    Provider("messagelabs", "rhost/messagelabs", ("messagelabs.com",), (), _words(w.MESSAGELABS)),
    Provider(
        "microsoft",
        "rhost/microsoft",
        ("prod.outlook.com", "protection.outlook.com", "onmicrosoft.com", "exchangelabs.com"),
        ("onmicrosoft.com",),
        _microsoft,
    ),
    Provider("mimecast", "rhost/mimecast", ("mimecast.com",), (), _mimecast),
    Provider("nttdocomo", "rhost/nttdocomo", ("mfsmax.docomo.ne.jp",), ("docomo.ne.jp",), _nttdocomo),
    # Sisimai names hotmail.com; outlook.com, live.com and msn.com are the same service's domains.
    Provider(
        "outlook",
        "rhost/outlook",
        ("hotmail.com",),
        ("hotmail.com", "outlook.com", "live.com", "msn.com"),
        _words(w.OUTLOOK),
    ),
    Provider("spectrum", "rhost/spectrum", ("charter.net",), ("charter.net",), _spectrum),
    Provider("tencent", "rhost/tencent", ("qq.com",), ("qq.com",), _words(w.TENCENT)),
    Provider(
        "yahooinc",
        "rhost/yahooinc",
        ("yahoodns.net",),
        ("yahoo.com", "ymail.com", "rocketmail.com"),
        _words(w.YAHOOINC),
    ),
    Provider("zoho", "rhost/zoho", ("zoho.com", "zoho.eu"), ("zoho.com", "zoho.eu"), _words(w.ZOHO)),
)
_BY_HOST = {suffix: p for p in PROVIDERS for suffix in p.hosts}
_BY_DOMAIN = {domain: p for p in PROVIDERS for domain in p.domains}


def _lookup(table: dict[str, Provider], name: str) -> Provider | None:
    labels = name.strip().strip("[]<>").rstrip(".").lower().split(".")
    for i in range(len(labels) - 1):  # the most specific suffix first, never a bare TLD
        found = table.get(".".join(labels[i:]))
        if found is not None:
            return found
    return None


# A batch of bounces names the same few hosts and domains over and over.
@lru_cache(maxsize=4096)
def _by_host(name: str) -> Provider | None:
    return _lookup(_BY_HOST, name) if name else None


@lru_cache(maxsize=4096)
def _by_domain(name: str) -> Provider | None:
    return _lookup(_BY_DOMAIN, name) if name else None


def provider_for(host: str = "", domain: str = "") -> Provider | None:
    """The provider whose host ``host`` is (or under whose domain it sits), else the one that
    hosts the recipient domain ``domain``, else None."""
    return _by_host(host) or _by_domain(domain)


def providers_for(rhost: str = "", domain: str = "", lhost: str = "") -> list[Provider]:
    """Every provider the remote host, the recipient's domain or the reporting host belongs to,
    in that order, each once."""
    found = [_by_host(rhost), _by_domain(domain), _by_host(lhost)]
    return list(dict.fromkeys(p for p in found if p is not None))


def remote_reason(
    low: str,
    *,
    rhost: str = "",
    domain: str = "",
    lhost: str = "",
    status: str = "",
    code: str = "",
    command: str = "",
) -> str | None:
    """Our reason for lower-cased reply text ``low`` by the table of the provider that said it
    (``rhost``), that hosts the recipient (``domain``) or that reported it (``lhost``); None when
    none of them is a provider we have a table for, or its table does not place the words."""
    providers = providers_for(rhost, domain, lhost)
    if not providers or not low:
        return None
    said = Said(low, status, code, command)
    for provider in providers:
        reason = provider.read(said)
        if reason:
            return OURS[reason]
    return None


# Where a bounce names the host that answered: Postfix "host mx.zoho.com[192.0.2.1] said:", Exim
# "host mx.zoho.com [192.0.2.1]: 550 ...", Sendmail "... while talking to mx.zoho.com.:", a
# Remote-MTA field quoted in the text, Exchange's "Generating server: X" (its reporting host).
# Each pattern is tried only where its cue word stands (a search over the whole text costs ~40 us).
_NAME = r"([a-z0-9][a-z0-9.-]*\.[a-z]{2,})"
_HOST_AT = {
    "host": re.compile(rf"host\s+{_NAME}\.?\s*\["),
    "while talking to": re.compile(rf"while talking to {_NAME}\.?:"),
    "remote-mta:": re.compile(rf"remote-mta:\s*dns;\s*{_NAME}"),
    "generating server:": re.compile(rf"generating server:\s*{_NAME}"),
}


def host_in(text: str) -> str:
    """The remote host ``text`` names as the one that answered, lower-cased, or ""."""
    low = text.lower()
    found: list[tuple[int, str]] = []
    for cue, pattern in _HOST_AT.items():
        at = low.find(cue)
        while at >= 0:
            if cue != "host" or at == 0 or not (low[at - 1].isalnum() or low[at - 1] in "-_."):
                m = pattern.match(low, at)
                if m is not None:
                    found.append((at, m.group(1)))
                    break
            at = low.find(cue, at + len(cue))
    return min(found)[1] if found else ""
