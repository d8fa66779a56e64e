"""Providers' own error codes, which name the reason better than any wording: Orange and La Poste
(``LPN007_420``, ``OFR_416``, ``OUK_513``), GoDaddy (``IB212``) and Cox (``AUP#CXBL``), from the
providers' published code lists as Sisimai's per-provider modules carry them (rhost/franceptt,
rhost/godaddy, rhost/cox). Names are Sisimai's, mapped onto ours."""

from __future__ import annotations

import re

__all__ = ["OURS", "provider_reason"]

# Sisimai's reason names (as its per-provider modules give them) -> ours.
OURS = {
    "authfailure": "authentication",
    "badreputation": "bad_reputation",
    "blocked": "blocked",
    "contenterror": "content_error",
    # Sisimai 5's newer name for mesgtoobig; ours keeps the two apart only by whose limit it is.
    "emailtoolarge": "message_too_big",
    "exceedlimit": "exceed_limit",
    "expired": "expired",
    "failedstarttls": "starttls",
    "filtered": "filtered",
    "hasmoved": "has_moved",
    "hostunknown": "host_unknown",
    "mailboxfull": "mailbox_full",
    "mesgtoobig": "message_too_big",
    "networkerror": "network",
    "norelaying": "no_relaying",
    "notaccept": "not_accept",
    "notcompliantrfc": "not_compliant",
    "onhold": "on_hold",
    "policyviolation": "policy",
    # Sisimai 5's newer name for speeding.
    "ratelimited": "rate_limited",
    "rejected": "rejected",
    "requireptr": "require_ptr",
    "securityerror": "security",
    "spamdetected": "spam_detected",
    "speeding": "rate_limited",
    "suspend": "suspended",
    "syntaxerror": "syntax_error",
    "systemerror": "system",
    "systemfull": "system_full",
    "toomanyconn": "too_many_connections",
    "userunknown": "user_unknown",
    "virusdetected": "virus_detected",
    "": "other",  # a code the provider documents as "try later" without saying why
}
# Orange / La Poste: the last three digits of LPNnnn_ddd, OFRnnn_ddd, OFR_ddd, OUK_ddd.
_FRANCE_PTT = {
    "101": "blocked", "102": "blocked", "103": "blocked", "104": "toomanyconn", "105": "", "107": "",
    "108": "", "109": "", "201": "", "305": "securityerror", "401": "authfailure",
    "402": "securityerror", "403": "rejected", "405": "rejected", "415": "rejected",
    "416": "userunknown", "417": "mailboxfull", "420": "suspend", "421": "rejected", "423": "",
    "424": "", "426": "suspend", "505": "systemerror", "506": "spamdetected", "510": "blocked",
    "513": "", "514": "mesgtoobig", "517": "authfailure", "630": "policyviolation", "999": "blocked",
}  # fmt: skip
_FRANCE_PTT_CODE = re.compile(r"\b(?:lpn|lpnaaa|ofr|ouk)(?:_[0-9]{3}|[0-9]{3}[-_][0-9]{3})\b")
# GoDaddy's inbound servers ("... IB212").
_GODADDY = {
    "ib401": "securityerror", "ib501": "notcompliantrfc", "ib502": "notcompliantrfc",
    "ib506": "rejected", "ib508": "authfailure", "ib108": "requireptr", "ib212": "spamdetected",
    "ib705": "virusdetected", "ib605": "toomanyconn", "ib007": "toomanyconn", "ib101": "speeding",
    "ib110": "blocked", "ib111": "blocked", "ib112": "blocked", "ib113": "blocked",
    "ib504": "speeding", "ib510": "speeding", "ib607": "speeding", "ib103": "badreputation",
    "ib104": "blocked", "ib105": "blocked", "ib106": "blocked",
}  # fmt: skip
_GODADDY_CODE = re.compile(r" (ib[0-9]{3})\b")
# Cox ("AUP#CXBL"): the letters name the refusal; the IPBL/URLBL digits the blocklists.
_COX = {
    "cxbl": "blocked", "cxdns": "requireptr", "cxsndr": "authfailure", "cxsmtp": "rejected",
    "cxcnct": "toomanyconn", "cxmxrt": "toomanyconn", "cdrbl": "blocked", "cxthrt": "securityerror",
    "cxmj": "securityerror",
}  # fmt: skip
_COX_CODE = re.compile(r"aup#([0-9a-z]+)")


def provider_reason(low: str) -> str | None:
    """Our reason for a provider error code in lower-cased ``low``, or None when it holds none
    (``other`` for a code its provider documents as "try later" without a reason)."""
    if "lpn" in low or "ofr" in low or "ouk_" in low:
        m = _FRANCE_PTT_CODE.search(low)
        if m is not None:
            return OURS[_FRANCE_PTT.get(m.group(0)[-3:], "")]
    if " ib" in low:
        m = _GODADDY_CODE.search(low)
        if m is not None and m.group(1) in _GODADDY:
            return OURS[_GODADDY[m.group(1)]]
    if "aup#" in low:
        m = _COX_CODE.search(low)
        if m is not None:
            code = m.group(1)
            if code.startswith("ipbl"):
                return "blocked"
            if code.startswith("urlbl"):
                return "spam_detected"
            if code in _COX:
                return OURS[_COX[code]]
    return None
