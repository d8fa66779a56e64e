"""The remote providers' own wordings, as data: one table per provider, each phrase lower-cased
and filed under the reason Sisimai's per-provider module gives it (Sisimai names; ``providers.OURS``
maps them onto ours). Read by ``remote_hosts``, which applies a table only when the bounce came
from, or was for, that provider.

Sources: Sisimai's rhost modules (rb-sisimai lib/sisimai/rhost/*.rb, go-sisimai rhost/for-*.go,
the newer where they differ) and the provider documents each cites, given per table. Tables are
searched in the order written (Sisimai's reason names in alphabetical order, as its Ruby modules
list them), so where two phrases of one provider overlap the earlier reason wins.
"""

from __future__ import annotations

__all__ = [
    "AOL",
    "APPLE",
    "CLOUDFLARE",
    "COX",
    "FACEBOOK",
    "FRANCEPTT",
    "GODADDY",
    "GOOGLE",
    "GSUITE",
    "IUA",
    "KDDI",
    "MESSAGELABS",
    "MICROSOFT",
    "MICROSOFT_CODES",
    "MIMECAST",
    "NTTDOCOMO",
    "OUTLOOK",
    "SPECTRUM",
    "TENCENT",
    "YAHOOINC",
    "ZOHO",
]

Words = tuple[tuple[str, tuple[str, ...]], ...]

# rhost/aol: Aol Mail, whose MX is Yahoo's (mx-aol.mail.gm0.yahoodns.net);
# https://senders.yahooinc.com/smtp-error-codes/
AOL: Words = (
    ("hostunknown", ("host or domain name not found",)),
    ("notaccept", ("type=mx: malformed or unexpected name server reply",)),
)

# rhost/apple: iCloud Mail; https://support.apple.com/en-us/102322 (postmaster information).
APPLE: Words = (
    ("authfailure", ("s dmarc policy", "blocked for failing both spf and dkim autentication checks")),
    (
        "blocked",
        (
            "rejected due to having a domain present in the spamhaus",
            "rejected due to listing in spamhaus",
            "blocked - see https://support.proofpoint.com/dnsbl-lookup",
            "not accepting connections",
        ),
    ),
    ("hasmoved", ("recipient no longer on server",)),
    ("mailboxfull", ("user is over quota",)),
    ("norelaying", ("relay access denied",)),
    ("notaccept", ("host/domain does not accept mail",)),
    ("policyviolation", ("due to local policy",)),
    ("rejected", ("sender address rejected",)),
    ("speeding", ("due to excessive volume",)),
    ("userunknown", ("inactive email address", "user does not exist", "unknown or illegal alias")),
)

# rhost/cloudflare: Email Routing; https://developers.cloudflare.com/email-routing/postmaster/
CLOUDFLARE: Words = (
    ("blocked", ("found on one or more dnsbls",)),
    ("systemerror", ("upstream error",)),
)

# rhost/cox, the words beside its AUP# codes (the codes are read in ``providers``);
# https://www.cox.com/residential/support/cox-postmaster-email-administration.html
COX: Words = (
    ("blocked", ("cox too many bad commands from", "too many invalid recipients")),
    ("policyviolation", ("esmtp no data before greeting", "attachment extension is forbidden")),
    ("rejected", ("sender rejected",)),
    ("requireptr", ("dns check failure - try again later", "rejected - no rdns")),
    ("systemerror", ("esmtp server temporarily not available",)),
    (
        "toomanyconn",
        ("too many sessions from", "requested action aborted: try again later", "message threshold exceeded"),
    ),
    ("userunknown", ("recipient rejected",)),
)

# rhost/facebook: the three-letter area and P(ermanent)/T(emporary) number of its response codes;
# https://www.facebook.com/postmaster/response_codes
FACEBOOK: dict[str, str] = {
    "pol-p7": "authfailure",  # Sisimai lists POL-P7 twice; authentication comes first
    "pol-p1": "blocked", "pol-p2": "blocked", "pol-p3": "blocked", "pol-p4": "blocked",
    "pol-t1": "blocked", "pol-t2": "blocked", "pol-t3": "blocked",
    "msg-p2": "contenterror",
    "rcp-p2": "filtered", "rcp-p3": "filtered",
    "msg-p1": "mesgtoobig", "int-p2": "mesgtoobig",
    "msg-p3": "notcompliantrfc",
    "dns-p1": "rejected", "dns-p2": "rejected", "dns-t1": "rejected",
    "dns-p3": "requireptr", "dns-t2": "requireptr",
    "pol-p6": "spamdetected",
    "rcp-t4": "suspend",
    "rcp-t1": "systemerror",
    "con-t1": "toomanyconn", "con-t2": "toomanyconn", "con-t3": "toomanyconn", "con-t4": "toomanyconn",
    "msg-t1": "toomanyconn",
    "rcp-p1": "userunknown", "int-p1": "userunknown", "int-p3": "userunknown", "int-p4": "userunknown",
    "pol-p5": "virusdetected",
}  # fmt: skip

# rhost/franceptt, the words beside its codes; https://www.postmastery.com/orange-postmaster-smtp-error-codes-ofr/
FRANCEPTT: Words = (("authfailure", ("spf/dns de votre nom de domaine",)),)

# rhost/godaddy, the words beside its IB codes;
# https://ca.godaddy.com/help/fix-rejected-email-with-a-bounce-error-40685
GODADDY: Words = (
    ("blocked", ("rbl reject", "www.spamhaus.org/query/bl?ip=")),
    ("expired", ("has been in the queue too long", "delivery timeout")),
    ("mailboxfull", ("account storage limit",)),
    ("spamdetected", ("message rejected for spam or virus content",)),
    ("suspend", ("account disabled",)),
    ("systemerror", ("message is looping",)),
    ("userunknown", ("recipient not found", "account does not exist")),
)

# rhost/google (was googleapps): (reply code, status, words); a row applies when the last two
# digits of the reply and the subject.detail of the status match (Sisimai compares those, not the
# class). https://support.google.com/a/answer/3726730 (SMTP error reference),
# https://support.google.com/mail/answer/81126 (sender guidelines).
GOOGLE: tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...] = (
    ("authfailure", (
        ("451", "4.7.24", "the spf record of the sending domain"),
        ("550", "5.7.24", "the spf record of the sending domain"),
        ("421", "4.7.26", "senders to authenticate with either spf or dkim"),
        ("550", "5.7.26", "senders to authenticate with either spf or dkim"),
        ("550", "5.7.26", "fails to pass spf checks for an spf record with a hard fail"),
        ("550", "5.7.26", "has an spf record with a hard fail policy"),
        ("451", "4.7.26", "is not accepted due to domain's dmarc policy"),
        ("550", "5.7.26", "is not accepted due to domain's dmarc policy"),
        ("550", "5.7.1", "fails to pass authentication checks"),
        ("550", "5.7.26", "fails to pass authentication checks"),
        ("421", "4.7.27", "senders to authenticate with spf"),
        ("421", "4.7.27", "senders to authenticate their email with spf"),
        ("550", "5.7.27", "senders to authenticate with spf"),
        ("421", "4.7.30", "senders to authenticate their email with dkim"),
        ("550", "5.7.30", "senders to authenticate with dkim"),
        ("421", "4.7.32", "aligned with either the authenticated spf or dkim"),
        ("421", "5.7.32", "aligned with either the authenticated spf or dkim"),
        ("421", "4.7.40", "to add a dmarc record to "),
    )),
    ("badreputation", (
        ("421", "4.7.0", "very low reputation of the sending ip address"),
        ("421", "4.7.0", "very low reputation of the sending domain"),
        ("550", "5.7.1", "due to the very low reputation of the sending ip address"),
        ("550", "5.7.1", "due to the very low reputation of the sending domain"),
    )),
    ("blocked", (
        ("421", "4.7.0", "ip not in whitelist for rcpt domain"),
        ("421", "4.7.0", "try again later, closing connection."),
        ("501", "5.5.4", "empty helo/ehlo argument not allowed"),
        ("501", "5.5.4", "helo/ehlo argument is invalid"),
        ("421", "4.7.0", "an unusual rate of unsolicited mail"),
        ("421", "4.7.28", "an unusual rate of mail"),
        ("550", "5.7.1", "an unusual rate of unsolicited mail"),
        ("550", "5.7.28", "an unusual rate of unsolicited mail"),
    )),
    ("exceedlimit", (
        ("552", "5.2.3", "exceeded google's message size limits"),
        ("552", "5.3.4", "exceeds google's limit of limit attachments."),
        ("552", "5.3.4", "your message exceeded google's message header size limits"),
        ("552", "5.3.4", "bytes per individual header size"),
        ("552", "5.3.4", "exceeds google's header name limit of"),
        ("552", "5.3.4", "exceeds google's message header size limit"),
    )),
    ("expired", (
        ("421", "4.7.0", "connection expired"),
        ("451", "4.4.2", "timeout - closing connection"),
    )),
    ("failedstarttls", (
        ("530", "5.7.0", "must issue a starttls command first"),
        ("454", "5.5.1", "starttls may not be repeated"),
        ("421", "4.7.0", "tls required for rcpt domain"),
        ("421", "4.7.29", "senders to use tls/ssl for smtp"),
        ("550", "5.7.29", "senders to use tls/ssl for smtp"),
    )),
    ("mailboxfull", (
        ("452", "4.2.2", "inbox is out of storage space"),
        ("552", "5.2.2", "inbox is out of storage space and inactive"),
        ("452", "4.2.2", "is over quota"),
        ("552", "5.2.2", "is over quota"),
        ("550", "5.7.1", "email quota exceeded"),
    )),
    ("mesgtoobig", (
        ("552", "5.3.4", "exceeded google's message size limits"),
        ("552", "5.3.4", "exceeds google's message size limit of"),
    )),
    ("networkerror", (
        ("554", "5.4.6", "message exceeded 50 hops"),
        ("554", "5.6.0", "message exceeded 50 hops"),
    )),
    ("norelaying", (
        ("550", "5.7.0", "mail relay denied"),
        ("550", "5.7.1", "invalid credentials for relay"),
        ("550", "5.7.1", "is not authorized to send email directly to our servers"),
    )),
    ("notcompliantrfc", (
        ("550", "5.7.1", "missing a valid address in the from: header"),
        ("550", "5.7.1", "multiple addresses in from: header are not accepted"),
        ("550", "5.7.1", "is not rfc 5322 compliant"),
        ("550", "5.7.1", "missing a valid message-id: header"),
        ("550", "5.7.1", "contains a unicode character in a disallowed header"),
        ("550", "5.7.1", "encoded-word syntax is not permitted"),
        ("553", "5.1.7", "is not a valid rfc 5321 address"),
        ("554", "5.6.0", "mail message is malformed"),
    )),
    ("policyviolation", (
        ("552", "5.7.0", "illegal attachment on your message"),
        ("552", "5.7.0", "blocked because its content presents a potential security issue"),
        ("550", "5.7.1", "you are sending to (or from) has a policy that prohibited"),
        ("421", "4.7.28", "sending messages with the same message-id:"),
    )),
    ("rejected", (
        ("550", "5.7.0", "mail sending denied"),
        ("550", "5.7.1", "unauthenticated email is not accepted"),
    )),
    ("requireptr", (
        ("421", "4.7.0", "does not have a ptr record"),
        ("421", "4.7.23", " have a ptr record, or the ptr record"),
        ("550", "5.7.1", "does not meet ipv6 sending guidelines regarding ptr records and authentication"),
        ("550", "5.7.25", "does not have a ptr record"),
        ("550", "5.7.25", "does not match the ip address of the hostname"),
    )),
    ("securityerror", (
        ("454", "4.7.0", "too many login attempts"),
        ("501", "5.5.2", "cannot decode response"),
        ("503", "5.7.0", "no identity changes permitted"),
        ("530", "5.5.1", "authentication required."),
        ("530", "5.7.0", "authentication required."),
        ("535", "5.7.1", "application-specific password required"),
        ("535", "5.7.9", "application-specific password required"),
        ("535", "5.7.1", "please log in with your web browser"),
        ("534", "5.7.9", "please log in with your web browser"),
        ("534", "5.7.14", "please log in through your web browser"),
        ("535", "5.7.1", "username and password not accepted"),
        ("535", "5.7.8", "username and password not accepted"),
    )),
    ("spamdetected", (
        ("421", "4.7.0", "due to the nature of the content or the links within"),
        ("550", "5.7.1", "likely unsolicited mail"),
    )),
    ("speeding", (
        ("450", "4.2.1", "is receiving mail too quickly"),
        ("450", "4.2.1", "peak smtp relay limit exceeded for customer"),
        ("450", "4.2.1", "rate that prevents additional messages from being delivered"),
        ("550", "5.2.1", "rate that prevents additional messages from being delivered"),
        ("550", "5.4.5", "daily sending quota exceeded"),
        ("550", "5.4.5", "daily user sending limit exceeded"),
        ("550", "5.4.5", "daily smtp relay limit exceeded for"),
        ("550", "5.7.1", "daily smtp relay limit exceeded for"),
        ("550", "5.7.1", "daily smtp relay sending limit exceeded for"),
        ("550", "5.7.1", "this mail has been rate limited"),
    )),
    ("suspend", (
        ("550", "5.2.1", "account that you tried to reach is disabled"),
        ("550", "5.2.1", "account that you tried to reach is inactive"),
    )),
    ("syntaxerror", (
        ("451", "4.5.0", "smtp protocol violation"),
        ("454", "4.5.0", "smtp protocol violation"),
        ("525", "5.7.10", "smtp protocol violation"),
        ("535", "5.5.4", "optional argument not permitted"),
        ("501", "5.7.11", "syntax error"),
        ("501", "5.5.2", "syntax error"),
        ("555", "5.5.2", "syntax error"),
        ("502", "5.5.1", "too many unrecognized commands, goodbye"),
        ("502", "5.5.1", "unimplemented command"),
        ("502", "5.5.1", "unrecognized command"),
        ("503", "5.5.1", "bad sequence of commands"),
        ("503", "5.5.1", "ehlo/helo first"),
        ("503", "5.5.1", "mail first"),
        ("503", "5.5.1", "rcpt first"),
        ("503", "5.5.1", "no data after bdat"),
        ("504", "5.7.4", "unrecognized authentication type"),
        ("504", "5.7.4", "xoauth is no longer supported"),
        ("554", "5.7.0", "too many unauthenticated commands"),
    )),
    ("systemerror", (
        ("421", "4.3.0", "temporary system problem"),
        ("421", "4.7.0", "temporary system problem"),
        ("421", "4.4.5", "server busy"),
        ("451", "4.3.0", "multiple destination domains per transaction is unsupported"),
        ("451", "4.3.0", "mail server has temporarily rejected this message"),
        ("451", "4.3.0", "mail server temporarily rejected message"),
        ("452", "4.5.3", "domain policy size per transaction exceeded"),
        ("454", "4.7.0", "cannot authenticate due to temporary system problem"),
    )),
    ("toomanyconn", (
        ("452", "4.5.3", "your message has too many recipients"),
        ("550", "5.5.3", "too many recipients for this sender"),
    )),
    ("userunknown", (
        ("550", "5.1.1", "the email account that you tried to reach does not exist"),
        ("553", "5.1.2", "we weren't able to find the recipient domain"),
        ("553", "5.1.3", "is not a valid rfc 5321 address"),
    )),
)  # fmt: skip

# rhost/gsuite: Google Workspace's own relay (googlemail.com); https://workspace.google.com/
# Read in ``remote_hosts`` with its class conditions (a DNS answer is host_unknown only as a 5xx).
GSUITE: Words = (
    ("hostunknown", (" responded with code nxdomain", "domain name not found")),
    ("networkerror", (" had no relevant answers.", "responded with code nxdomain", "domain name not found")),
    ("notaccept", ("null mx",)),
    (
        "userunknown",
        ("because the address couldn't be found. check for typos or unnecessary spaces and try again.",),
    ),
)

# rhost/iua: I.UA's "https://mail.i.ua/err/N/" links; https://www.i.ua/
IUA: dict[str, str] = {
    "1": "norelaying", "2": "userunknown", "3": "suspend", "4": "mailboxfull", "5": "toomanyconn",
    "6": "norelaying", "7": "blocked", "8": "rejected", "9": "blocked", "10": "filtered",
}  # fmt: skip

# rhost/kddi: au (KDDI); https://www.au.com/support/service/internet/trouble/mail/01/
# "550 : User unknown" with no address is au's reception filter; "<addr>: User unknown" the mailbox.
KDDI: Words = (
    ("filtered", ("550 : user unknown",)),
    ("userunknown", (">: user unknown",)),
)

# rhost/messagelabs: Broadcom (Symantec) Email Security.cloud;
# https://knowledge.broadcom.com/external/article/169652/email-error-and-bounce-codes-for-email-s.html
MESSAGELABS: Words = (
    ("authfailure", ("domain authentication fail",)),
    ("badreputation", ("connection rejected by policy",)),
    (
        "blocked",
        (
            "mail rejected because your ip is in the pbl",
            "your ip address has been ",
            "your ip address (ip-addr) has been blocked",
        ),
    ),
    ("contenterror", ("stray linefeeds in message",)),
    ("failedstarttls", ("tls/sslv3 connection required",)),
    ("norelaying", (" as a relay, ",)),
    (
        "notcompliantrfc",
        ("550 requested action aborted [4]", "has detected that this message is not rfc 5322"),
    ),
    (
        "rejected",
        (
            "sender envelope domain not allowed for sender ip address",
            "your domain has been blocked",
            "your email address has been blocked",
            "your envelope sender is in my badmailfrom list",
            "your email address has been blacklisted",
            "your domain has been blacklisted",
        ),
    ),
    ("securityerror", ("please turn on smtp authentication in your mail client",)),
    ("spamdetected", ("message filtered", "filtered by outbound scanning")),
    ("toomanyconn", ("too many recipients received this hour", "too many messages")),
    ("userunknown", ("no such user", "invalid recipient", "mailbox is not allowed")),
)

# rhost/microsoft (was exchangeonline): (status, low, high, words). With low == high == "" the
# status must be equal; otherwise the status starts with the first field and its detail lies in
# low..high. https://learn.microsoft.com/en-us/exchange/mail-flow/non-delivery-reports-in-exchange-server
# (was technet bb232118) and Exchange Online's NDR reference.
MICROSOFT: tuple[tuple[str, tuple[tuple[str, str, str, str], ...]], ...] = (
    ("authfailure", (
        ("4.7.26", "", "", "must pass either spf or dkim validation, this message is not signed"),
        ("5.7.23", "", "", "the message was rejected because of sender policy framework violation"),
        ("5.7.509", "", "", "does not pass dmarc verification"),
        ("5.7.515", "", "", "doesn't meet the required authentication level"),
    )),
    ("badreputation", (
        ("4.7.650", "", "", "has been temporarily rate limited due to ip reputation"),
    )),
    ("blocked", (
        ("4.4.2", "", "", "connection dropped"),
        ("4.7.", "850", "899", "access denied, please try again later"),
        ("5.7.25", "", "", "must have a reverse dns record"),
        ("5.7.506", "", "", "access denied, bad helo"),
        ("5.7.507", "", "", "access denied, rejected by recipient"),
        ("5.7.510", "", "", "does not accept email over ipv6"),
        ("5.7.511", "", "", "access denied, banned sender"),
        ("5.7.513", "", "", "using customer block list"),
        ("5.7.", "606", "649", "access denied, banned sending ip "),
        ("4.7.", "500", "699", "access denied, please try again later"),
        ("5.5.4", "", "", "invalid domain name"),
        ("5.7.1", "", "", "part of their network is on our block list (s3150)"),
    )),
    ("contenterror", (
        ("5.3.0", "", "", "too many related errors"),
        ("5.6.11", "", "", "invalid characters"),
        ("5.4.11", "", "", "agent generated message depth exceeded"),
        ("5.5.6", "", "", "invalid message content"),
    )),
    # Sisimai's newer name for mesgtoobig.
    ("emailtoolarge", (
        ("5.2.3", "", "", "resolver.rst.recipsizelimit; message too large for this recipient"),
        ("5.3.4", "", "", "message size exceeds fixed maximum message size"),
        ("5.3.4", "", "", "message too big for system"),
    )),
    ("expired", (
        ("4.4.1", "", "", "connection timed out"),
        ("4.4.7", "", "", "message delayed"),
        ("4.4.7", "", "", "queue expired; message expired"),
        ("4.4.7", "", "", "message expired"),
        ("5.4.300", "", "", "message expired"),
        ("5.4.316", "", "", "message expired"),
    )),
    ("failedstarttls", (
        ("4.4.8", "", "", " failed mta-sts validation"),
        ("5.4.8", "", "", " failed mta-sts validation"),
        ("4.4.317", "", "", "starttls is required to send mail"),
        ("5.4.317", "", "", "starttls is required to send mail"),
        ("4.7.5", "", "", "remote certificate failed mta-sts validation"),
        ("5.7.5", "", "", "remote certificate failed mta-sts validation"),
        ("5.7.51", "", "", "restrictdomainstoipaddresses or restrictdomainstocertificate"),
        ("4.7.321", "", "", "starttls-not-supported:"),
        ("5.7.321", "", "", "starttls-not-supported:"),
        ("5.7.322", "", "", "certificate-expired:"),
        ("4.7.323", "", "", "tlsa-invalid:"),
        ("5.7.323", "", "", "tlsa-invalid:"),
        ("4.7.324", "", "", "dnssec-invalid:"),
        ("5.7.324", "", "", "dnssec-invalid:"),
        ("4.7.325", "", "", "certificate-host-mismatch:"),
        ("5.7.325", "", "", "certificate-host-mismatch:"),
    )),
    ("mailboxfull", (("5.2.2", "", "", "mailbox full"),)),
    ("networkerror", (
        ("5.4.4", "", "", "smtpsend.dns.nonexistentdomain; nonexistent domain"),
        ("5.4.6", "", "", "hop count exceeded - possible mail loop"),
        ("4.4.312", "", "", "dns query failed"),
        ("5.4.312", "", "", "dns query failed"),
        ("4.4.316", "", "", "connection refused"),
        ("5.4.316", "", "", "connection refused"),
        ("5.4.4", "", "", "invalid arguments"),
        ("5.4.6", "", "", "routing loop detected"),
        ("5.4.14", "", "", "routing loop detected"),
    )),
    ("norelaying", (
        ("5.7.1", "", "", "unable to relay"),
        ("5.7.1", "", "", "client was not authenticated"),
        ("5.4.1", "", "", "relay access denied"),
        ("5.7.64", "", "", "tenantattribution; relay access denied"),
        ("5.4.310", "", "", "does not exist"),
    )),
    ("notaccept", (
        ("4.3.2", "", "", "system not accepting network messages"),
        ("4.4.4", "", "", "hosted tenant which has no mail-enabled subscriptions"),
        ("5.3.2", "", "", "storedrv.deliver: missing or bad storedriver mdb properties"),
    )),
    ("policyviolation", (
        ("5.0.350", "", "", "x-dg-ref header is too long"),
        ("5.0.350", "", "", "requested action not taken: policy violation detected (as345)"),
        ("5.7.", "900", "999", "delivery not authorized, message refused"),
    )),
    ("ratelimited", (
        ("5.5.3", "", "", "too many recipients"),
        ("4.3.2", "", "", "storedrv.deliver; recipient thread limit exceeded"),
        ("4.5.3", "", "", "too many recipients"),
        ("4.7.652", "", "", "has exceeded the maximum number of connections"),
        ("5.1.90", "", "", "reached your daily limit for message recipients"),
        ("5.2.2", "", "", "submission quota exceeded"),
        ("5.2.121", "", "", "recipient's per hour message receive limit"),
        ("5.2.122", "", "", "recipient's per hour message receive limit"),
        ("5.2.122", "", "", "the recipient has exceeded their limit for"),
        ("5.7.508", "", "", "has exceeded permitted limits within"),
        ("5.7.", "700", "749", "tenant has exceeded threshold"),
        ("5.7.", "700", "749", "traffic not accepted from this ip"),
    )),
    ("rejected", (
        ("5.1.7", "", "", "invalid address"),
        ("5.1.7", "", "", "unknown sender address"),
        ("5.1.0", "", "", "sender denied"),
        ("5.1.8", "", "", "access denied, bad outbound sender"),
        ("5.7.1", "", "", "delivery not authorized"),
        ("5.7.12", "", "", "sender was not authenticated by organization"),
        ("5.7.124", "", "", "sender not in allowed-senders list"),
        ("5.7.133", "", "", "sender not authenticated for group"),
        ("5.7.134", "", "", "sender was not authenticated for mailbox"),
        ("5.7.13", "", "", "sender was not authenticated for public folder"),
        ("5.7.135", "", "", "sender was not authenticated for public folder"),
        ("5.7.136", "", "", "sender was not authenticated"),
        ("5.7.", "501", "503", "access denied, spam abuse detected"),
        ("5.7.512", "", "", "access denied, message must be rfc 5322 section 3.6.2 compliant"),
        ("5.7.750", "", "", "service unavailable. client blocked from sending from unregistered domains"),
        ("5.7.", "501", "503", "access denied, banned sender"),
    )),
    ("securityerror", (
        ("5.7.3", "", "", "cannot achieve exchange server authentication"),
        ("5.7.3", "", "", "not authorized"),
        ("5.7.1", "", "", "client was not authenticated"),
        ("5.7.57", "", "", "client was not authenticated to send anonymous mail during mail from"),
    )),
    ("spamdetected", (("5.2.1", "", "", "content filter agent quarantined this message"),)),
    ("suspend", (
        ("5.7.504", "", "", "recipient address rejected: access denied"),
        ("5.7.505", "", "", "access denied, banned recipient"),
        ("5.2.1", "", "", "mailbox cannot be accessed"),
    )),
    ("syntaxerror", (
        ("5.3.3", "", "", "unrecognized command"),
        ("5.5.2", "", "", "send hello first"),
    )),
    ("systemerror", (
        ("4.3.2", "", "", "service not available"),
        ("4.3.2", "", "", "service not active"),
        ("5.3.5", "", "", "system incorrectly configured"),
        ("5.3.190", "", "", "when journaling archive is disabled"),
        ("5.0.0", "", "", "helo / ehlo requires domain address"),
        ("5.1.4", "", "", "destination mailbox address ambiguous"),
        ("5.2.4", "", "", "mailing list expansion problem"),
        ("5.2.14", "", "", "misconfigured forwarding address"),
        ("4.4.", "22", "28", "message failed to be replicated:"),
        ("4.4.3", "", "", "temporary server error. please try again later attr18"),
        ("4.7.0", "", "", "temporary server error. please try again later. prx4 nexthop:"),
        ("4.4.318", "", "", "(suspiciousremoteservererror)"),
        ("5.4.318", "", "", "(suspiciousremoteservererror)"),
        ("4.7.500", "", "", "server busy. please try again later from "),
        ("4.7.700", "", "", "pfa agent busy, please try again."),
    )),
    ("systemfull", (("4.3.1", "", "", "insufficient system resources"),)),
    ("userunknown", (
        ("5.1.1", "", "", "resolver.adr.exrecipnotfound; not found"),
        ("5.1.1", "", "", "user unknown"),
        ("5.1.3", "", "", "storedrv.submit; invalid recipient address"),
        ("5.1.", "4", "5", "recipient address reserved by rfc 2606"),
        ("5.1.6", "", "", "recipient addresses in single label domains not accepted"),
        ("5.1.1", "", "", "bad destination mailbox address"),
        ("5.1.10", "", "", "recipient not found"),
        ("5.4.1", "", "", "recipient address rejected: access denied"),
        ("5.5.0", "", "", "requested action not taken: mailbox unavailable"),
        ("5.1.2", "", "", "invalid x.400 address"),
        ("5.1.351", "", "", "remote server returned unknown recipient or mailbox unavailable"),
    )),
)  # fmt: skip
# Outlook.com's postmaster codes (https://sendersupport.olc.protection.outlook.com/pm/troubleshooting.aspx),
# each valid with one reply code.
MICROSOFT_CODES: dict[str, tuple[str, str]] = {
    "rp-001": ("421", "badreputation"), "rp-002": ("421", "badreputation"),
    "rp-003": ("421", "badreputation"), "sc-001": ("550", "badreputation"),
    "sc-002": ("550", "policyviolation"), "sc-003": ("550", "blocked"), "sc-004": ("550", "blocked"),
    "dy-001": ("550", "blocked"), "dy-002": ("550", "virusdetected"), "ou-001": ("550", "blocked"),
    "ou-002": ("550", "badreputation"),
}  # fmt: skip

# rhost/mimecast: (reply code, words), the reply code must be the one given;
# https://community.mimecast.com/s/article/email-security-cloud-gateway-mimecast-smtp-error-codes
MIMECAST: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("authfailure", (
        ("550", "spf sender invalid - envelope rejected"),
        ("550", "dkim sender invalid - envelope rejected"),
        ("550", "dmarc sender invalid - envelope rejected"),
    )),
    ("badreputation", (
        ("451", "internal resources are temporarily unavailable"),
        ("550", "local ct ip reputation - (reject)"),
    )),
    ("blocked", (
        ("421", "sender address blocked"),
        ("451", "recipient temporarily unavailable"),
        ("451", "ip temporarily blacklisted"),
    )),
    ("expired", (("550", "journal messages past the expiration"),)),
    ("failedstarttls", (
        ("553", "this route requires encryption (tls)"),
        ("553", "this route requires tls version 1.2 or greater"),
        ("553", "this route requires high-strength ciphers"),
        ("554", "configuration is invalid for this certificate"),
    )),
    ("mesgtoobig", (("554", "maximum email size exceeded"),)),
    ("networkerror", (
        ("451", "the incorrect hostname used for inbounds"),
        ("550", "the incorrect hostname used for inbounds"),
        ("554", "mail loop detected"),
    )),
    ("norelaying", (("451", "open relay not allowed"), ("451", "open relay is not allowed"))),
    ("notaccept", (("451", "account inbounds disabled"),)),
    ("onhold", (
        ("451", "account outbounds disabled"),
        ("451", "hostname is not authorized"),
        ("550", "journal message past expiration"),
    )),
    ("policyviolation", (
        ("550", "anti-spoofing policy - inbound not allowed"),
        ("550", "rejected by header-based anti-spoofing policy"),
        # Sisimai writes this one's code "550Z", which no reply carries; Mimecast's list says 550.
        ("550", "message bounced due to content examination policy"),
        ("554", "host network not allowed"),
        ("554", "host network, not allowed"),
    )),
    ("rejected", (
        ("550", "administrative prohibition envelope blocked"),
        ("550", "envelope blocked - user entry"),
        ("550", "envelope blocked - user domain entry"),
        ("550", "rejected by header-based manually blocked senders - block for manual block"),
        ("550", "rejected by header-based blocked senders - block policy for header from"),
        ("550", "envelope rejected - block policy for envelope from address"),
    )),
    ("securityerror", (
        ("535", "incorrect authentication data"),
        ("550", "submitter failed to disabled"),
        ("550", "submitter failed to authenticate"),
    )),
    ("systemerror", (
        ("451", "unable to process connection at this time"),
        ("451", "message ended early"),
        ("451", "unable to process command"),
        ("451", "unable to process an email at this time"),
    )),
    ("toomanyconn", (
        ("451", "account service is temporarily unavailable"),
        ("452", "too many recipients"),
        ("550", "exceeding outbound thread limit"),
    )),
    ("userunknown", (("501", "invalid address"), ("503", "user unknown"), ("550", "invalid recipient"))),
    ("virusdetected", (("554", "email rejected due to security policies"),)),
)  # fmt: skip

# rhost/nttdocomo: NTT DOCOMO (mfsmax.docomo.ne.jp); read with its status and command in
# ``remote_hosts``. Since 12 March 2025 DOCOMO no longer refuses by SMTP for its reception
# filters, so "550 Unknown user" means the mailbox (go-sisimai issue 64); after DATA it is still
# read as the older rb-sisimai module reads it, a refusal of the sender (``remote_hosts``).
NTTDOCOMO: Words = (
    ("mailboxfull", ("552 too much mail data",)),
    ("syntaxerror", ("503 bad sequence of commands", "504 command parameter not implemented")),
    ("toomanyconn", ("552 too many recipients",)),
    ("userunknown", ("550 unknown user",)),
)

# rhost/outlook: Outlook.com (hotmail.com); https://technet.microsoft.com/en-us/library/bb232118
OUTLOOK: Words = (
    (
        "hostunknown",
        ("the mail could not be delivered to the recipient because the domain is not reachable",),
    ),
    ("userunknown", ("requested action not taken: mailbox unavailable",)),
)

# rhost/spectrum: Charter/Spectrum "AUP#I-nnnn" / "AUP#O-nnnn" codes, (first, last, reason);
# https://www.spectrumbusiness.net/support/internet/understanding-email-error-codes
SPECTRUM: tuple[tuple[int, int, str], ...] = (
    (1000, 1000, "blocked"),
    (1010, 1010, "rejected"),
    (1020, 1080, "rejected"),
    (1090, 1090, "systemerror"),
    (1100, 1150, "requireptr"),
    (1160, 1190, "policyviolation"),
    (1200, 1210, "blocked"),
    (1220, 1250, "blocked"),  # Spamhaus listing (Sisimai's table misspells it "blokced")
    (1260, 1260, "networkerror"),
    (1300, 1340, "toomanyconn"),
    (1350, 1490, "speeding"),
    (1500, 1500, "rejected"),
    (1520, 1520, "rejected"),
    (1530, 1530, "mesgtoobig"),
    (1540, 1540, "speeding"),
    (1550, 1550, "speeding"),
    (1560, 1560, "policyviolation"),
    (1580, 1580, "speeding"),
)

# rhost/tencent (was tencentqq, which filed SPF/DMARC failures under blocked): QQ Mail;
# https://service.mail.qq.com/detail/122
TENCENT: Words = (
    ("authfailure", ("spf check failed", "dmarc check failed")),
    ("blocked", ("suspected bounce attacks", "suspected spam ip", "connection denied")),
    ("mesgtoobig", ("message too large",)),
    ("rejected", ("suspected spam", "mail is rejected by recipients")),
    ("spamdetected", ("spam is embedded in the email", "mail content denied")),
    # Sisimai spells the first "denined" (go) or "denied" (rb); both are kept.
    (
        "speeding",
        (
            "mailbox unavailable or access denined",
            "mailbox unavailable or access denied",
            "frequency of receiving messages is limited",
        ),
    ),
    ("suspend", ("is a deactivated mailbox",)),
    ("syntaxerror", ("bad address syntax",)),
    (
        "toomanyconn",
        (
            "ip frequency limited",
            "domain frequency limited",
            "sender frequency limited",
            "connection frequency limited",
        ),
    ),
    ("userunknown", ("mailbox not found",)),
)

# rhost/yahooinc: Yahoo Inc. (yahoodns.net); https://senders.yahooinc.com/smtp-error-codes
YAHOOINC: Words = (
    ("authfailure", ("yahoo requires all senders to authenticate with either spf or dkim",)),
    # TSS04 "Messages from <our IP> temporarily deferred due to unexpected volume or user
    # complaints": rb-sisimai files it under badreputation, go-sisimai under rejected (noting Yahoo
    # sends it for poor reputation generally). It names our IP and complaints, not our sender
    # address (our ``rejected``), so reputation is the nearer reading.
    ("badreputation", ("temporarily deferred due to unexpected volume or user complaints",)),
    ("blocked", (" because the ip is in spamhaus's list;", "not accepted from ip addresses on spamhaus xbl")),
    ("norelaying", ("relaying denied for ",)),
    ("notcompliantrfc", ("headers are not rfc compliant",)),
    ("policyviolation", ("not accepted for policy reasons",)),
    (
        "rejected",
        (
            "due to unresolvable rfc.5321 domain",
            " will be permanently deferred",
        ),
    ),
    ("speeding", ("user is receiving mail too quickly",)),
    ("suspend", (" is no longer valid.", "this mailbox is disabled")),
    ("syntaxerror", ("syntax error in parameters or arguments",)),
    ("toomanyconn", ("max message per connection reached",)),
    ("userunknown", ("dd this user doesn't have a ", "mailbox not found")),
)

# rhost/zoho: Zoho Mail; https://www.zoho.com/mail/help/spam-reason.html and
# https://github.com/zoho/zohodesk-oas/blob/main/v1.0/EmailFailureAlert.json
ZOHO: Words = (
    ("authfailure", ("email rejected per dmarc policy",)),
    ("blocked", ("greylisted, try again after some time",)),
    ("policyviolation", ("email policy violation detected", "mailbox delivery restricted by policy error")),
    (
        "rejected",
        ("email cannot be delivered. reason: email flagged as spam", "mail rejected by destination domain"),
    ),
    ("systemerror", ("temporary system error",)),
    ("userunknown", ("user does not exist",)),
    ("virusdetected", (" detected by zoho mail",)),
)
