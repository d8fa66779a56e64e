"""`notify check`: will this campaign authenticate and reach the inbox?

Puts the DNS checks (dnscheck/), the message lint (MSG-1..3), list quality and a
transport handshake into one :class:`Report`, grouped by area. `notify send` runs the
"Sender authentication" and "Messages" areas before anything goes out.
"""

from __future__ import annotations

import email
import email.policy
import re
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from notifier.checks.dns.dkim import check_key, check_signed
from notifier.checks.dns.dmarc import check_dmarc
from notifier.checks.dns.infra import check_ptr
from notifier.checks.dns.lookup import Lookup
from notifier.checks.dns.spfcheck import check_spf
from notifier.checks.report import Finding, Report, Status
from notifier.errors import TransportError
from notifier.render.signing import Signer
from notifier.settings import Settings
from notifier.transports import SesTransport, SmtpTransport, Transport

__all__ = [
    "ListStats",
    "check_auth",
    "check_list",
    "check_message",
    "check_providers",
    "check_ses",
    "check_transport",
    "sending_ips",
    "ses_easy_dkim",
]

ROLE_LOCALS = {
    "abuse",
    "admin",
    "administrator",
    "billing",
    "contact",
    "help",
    "hostmaster",
    "info",
    "mailer-daemon",
    "marketing",
    "noc",
    "no-reply",
    "noreply",
    "postmaster",
    "root",
    "sales",
    "security",
    "support",
    "webmaster",
}
_MSGID = re.compile(r"^<[^<>@\s]+@[^<>@\s]+>$")


def sending_ips(settings: Settings, transport: Transport) -> tuple[tuple[str, ...], str]:
    """The outbound IPs: [sender] ips, else the SMTP relay's addresses (documented as a guess:
    a relay may send from other addresses than it listens on)."""
    if settings.sender.ips:
        return settings.sender.ips, "[sender] ips"
    if isinstance(transport, SmtpTransport):
        try:
            infos = socket.getaddrinfo(transport.settings.host, None, type=socket.SOCK_STREAM)
        except OSError:
            return (), "the relay (unresolvable)"
        ips = tuple(dict.fromkeys(str(i[4][0]) for i in infos))
        return ips, f"the relay {transport.settings.host}"
    return (), "nowhere"


def check_auth(
    settings: Settings,
    lookup: Lookup,
    signer: Signer | None,
    sample: bytes | None,
    ips: Sequence[str],
    ip_source: str,
    *,
    provider_dkim: str | None = None,
) -> Iterator[Finding]:
    """Sender authentication: SPF, DKIM, DMARC and alignment.

    ``provider_dkim`` is the domain a sending service signs for (Amazon SES Easy DKIM),
    when we do not sign ourselves."""
    findings = list(
        check_spf(lookup, settings.sender.bounce_domain, ips, helo=settings.sender.helo, ip_source=ip_source)
    )
    yield from findings
    spf_passes = bool(ips) and all(f.status is Status.PASS for f in findings if f.id == "SPF-11")
    dkim_passes = False
    dkim_domain = None
    if signer is None and provider_dkim:
        dkim_passes, dkim_domain = True, provider_dkim
        yield Finding(
            "DKIM-1",
            "Sender authentication",
            Status.PASS,
            f"Amazon SES signs every message with Easy DKIM for d={provider_dkim}",
        )
    elif signer is None:
        yield Finding(
            "DKIM-1",
            "Sender authentication",
            Status.FAIL,
            "messages are not DKIM-signed (Gmail, Yahoo and Outlook require DKIM for bulk senders)",
            f"notify dkim keygen --domain {settings.sender.domain} --selector s1, publish the TXT "
            "record it prints, and add the [dkim] table it shows to notify.toml",
        )
    else:
        for key in signer.keys:
            yield from check_key(lookup, key)
        if sample is not None:
            canary = list(check_signed(lookup, signer, sample))
            yield from canary
            dkim_passes = all(f.status is Status.PASS for f in canary if f.id == "DKIM-5")
        dkim_domain = signer.keys[0].domain
    yield from check_dmarc(
        lookup,
        settings.sender.domain,
        dkim_domain=dkim_domain,
        dkim_passes=dkim_passes,
        mail_from_domain=settings.sender.bounce_domain,
        spf_passes=spf_passes,
    )


def check_infra(lookup: Lookup, ips: Sequence[str], domain: str) -> Iterator[Finding]:
    yield from check_ptr(lookup, ips, domain)


def check_message(settings: Settings, sample: bytes | None) -> Iterator[Finding]:
    """MSG-1..MSG-3 on a message built exactly as `send` builds it."""
    area = "Messages"
    if sample is None:
        yield Finding(
            "MSG-1",
            area,
            Status.WARN,
            "no recipient to build a sample message for",
            "check the segment and the list",
        )
        return
    problems = []
    head = sample.split(b"\r\n\r\n", 1)[0]
    if b"\n" in sample.replace(b"\r\n", b"") or b"\r" in sample.replace(b"\r\n", b""):
        problems.append("bare CR or LF line endings")
    if max(len(line) for line in sample.split(b"\r\n")) > 998:
        problems.append("a line longer than 998 octets")
    if len(head) > 16_000:
        problems.append(f"{len(head)} octets of headers")
    msg = email.message_from_bytes(sample, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    for name in ("From", "To", "Subject", "Date", "Message-ID"):
        count = len(msg.get_all(name) or [])
        if count != 1:
            problems.append(f"{name} appears {count} times")
    from_header = msg["From"]
    if from_header is not None and len(from_header.addresses) != 1:
        problems.append("From must hold exactly one address")
    if msg["Message-ID"] is not None and not _MSGID.match(str(msg["Message-ID"]).strip()):
        problems.append(f"Message-ID {msg['Message-ID']!r} is malformed")
    if problems:
        yield Finding("MSG-1", area, Status.FAIL, "; ".join(problems))
    else:
        yield Finding(
            "MSG-1",
            area,
            Status.PASS,
            f"RFC 5322: one From, To, Subject, Date, Message-ID; CRLF; {len(sample)} octets",
        )
    subject = str(msg["Subject"] or "")
    from_domain = from_header.addresses[0].domain.lower() if from_header and from_header.addresses else ""
    if from_domain != settings.sender.domain or re.match(r"^\s*(re|fwd?|aw|wg):", subject, re.I):
        yield Finding(
            "MSG-2",
            area,
            Status.WARN,
            f"From domain {from_domain}, subject {subject[:40]!r}: looks deceptive to filters",
            "send From the configured domain; never start a subject with Re: or Fwd:",
        )
    else:
        yield Finding("MSG-2", area, Status.PASS, f"From {from_domain}; subject {subject[:60]!r}")
    if msg["List-Unsubscribe"] is None:
        # Our deviation from the reference's WARN: a breach notice is legally required
        # (transactional), which Gmail exempts, and a warning nobody can fix teaches people to
        # ignore warnings. Follow-ups ("what we changed") will carry one-click unsubscribe.
        yield Finding(
            "MSG-3",
            area,
            Status.INFO,
            "no List-Unsubscribe: not required for a legally required notice (transactional mail)",
        )
    else:
        value = str(msg["List-Unsubscribe"])
        post = str(msg["List-Unsubscribe-Post"] or "")
        if "<https://" not in value or post.strip() != "List-Unsubscribe=One-Click":
            yield Finding(
                "MSG-3",
                area,
                Status.FAIL,
                f"List-Unsubscribe {value!r} is not RFC 8058 one-click",
                "one https URL plus List-Unsubscribe-Post: List-Unsubscribe=One-Click",
            )
        else:
            yield Finding("MSG-3", area, Status.PASS, "RFC 8058 one-click unsubscribe present")


@dataclass(frozen=True, slots=True)
class ListStats:
    rows: int
    invalid: int
    duplicates: int
    suppressed: int
    role: int


def check_list(stats: ListStats) -> Iterator[Finding]:
    area = "List"
    if stats.invalid:
        yield Finding(
            "LIST-1",
            area,
            Status.WARN,
            f"{stats.invalid} of {stats.rows} rows cannot be used",
            "see `notify lists check`; those people need another way to be told",
        )
    else:
        yield Finding("LIST-1", area, Status.PASS, f"all {stats.rows} rows usable")
    yield Finding("LIST-2", area, Status.INFO, f"{stats.duplicates} duplicate rows merged")
    yield Finding("LIST-3", area, Status.INFO, f"{stats.suppressed} addresses on the suppression list")
    if stats.role:
        yield Finding(
            "LIST-4",
            area,
            Status.WARN,
            f"{stats.role} role addresses (postmaster@, info@, ...)",
            "make sure these are people's accounts; role mailboxes often bounce or complain",
        )
    else:
        yield Finding("LIST-4", area, Status.PASS, "no role addresses")


def is_role(email_address: str) -> bool:
    return email_address.rpartition("@")[0].lower() in ROLE_LOCALS


_PROVIDERS = {
    # Gmail/Yahoo bulk senders (reference §3): SPF and DKIM pass, DMARC present, alignment,
    # valid forward and reverse DNS, TLS, RFC 5322.
    "PROV-GMAIL": (
        "Gmail bulk senders",
        ["SPF-11", "DKIM-5", "DMARC-1", "DMARC-8", "INF-1", "INF-2", "INF-5", "MSG-1"],
    ),
    "PROV-YAHOO": (
        "Yahoo bulk senders",
        ["SPF-11", "DKIM-5", "DMARC-1", "DMARC-8", "INF-1", "INF-2", "MSG-1"],
    ),
    "PROV-OUTLOOK": (
        "Outlook.com high-volume senders (550 5.7.515)",
        ["SPF-11", "DKIM-5", "DMARC-1", "DMARC-8"],
    ),
}


def check_providers(report: Report) -> Iterator[Finding]:
    """Mailbox-provider rules, read off the findings they depend on."""
    for check_id, (label, needs) in _PROVIDERS.items():
        failing = [n for n in needs if report.status_of(n) is Status.FAIL]
        unknown = [n for n in needs if report.status_of(n) in (None, Status.WARN)]
        if failing:
            yield Finding(
                check_id,
                "Mailbox-provider rules",
                Status.FAIL,
                f"{label}: fails {', '.join(failing)}",
                "fix those checks above",
            )
        elif unknown:
            yield Finding(
                check_id,
                "Mailbox-provider rules",
                Status.WARN,
                f"{label}: not confirmed ({', '.join(unknown)})",
            )
        else:
            yield Finding(check_id, "Mailbox-provider rules", Status.PASS, f"{label}: requirements met")


def ses_easy_dkim(transport: Transport, from_address: str) -> str | None:
    """The From domain when SES Easy DKIM is verified for it, else None."""
    if not isinstance(transport, SesTransport):
        return None
    from botocore.exceptions import BotoCoreError, ClientError

    domain = from_address.rpartition("@")[2].lower()
    client, _ = transport.clients()
    try:
        identity = client.get_email_identity(EmailIdentity=domain)
    except (ClientError, BotoCoreError):
        return None
    dkim = identity.get("DkimAttributes") or {}
    return domain if isinstance(dkim, dict) and dkim.get("Status") == "SUCCESS" else None


def check_ses(
    transport: SesTransport, from_address: str, recipients: int, *, own_dkim: bool
) -> Iterator[Finding]:
    """SES-1..SES-5: identity, Easy DKIM, custom MAIL FROM, sandbox, quota against the segment."""
    from botocore.exceptions import BotoCoreError, ClientError

    area = "Transport"
    domain = from_address.rpartition("@")[2].lower()
    client, _ = transport.clients()
    identity: dict[str, Any] | None = None
    for name in (domain, from_address):
        try:
            identity = client.get_email_identity(EmailIdentity=name)
            break
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "NotFoundException":
                yield Finding("SES-1", area, Status.WARN, f"could not read the SES identity {name}: {exc}")
                return
        except BotoCoreError as exc:
            yield Finding("SES-1", area, Status.WARN, f"could not reach SES: {exc}")
            return
    if identity is None:
        yield Finding(
            "SES-1",
            area,
            Status.FAIL,
            f"{domain} is not an SES identity in {transport.settings.region}",
            f"verify it: aws sesv2 create-email-identity --email-identity {domain}",
        )
        return
    verified = identity.get("VerifiedForSendingStatus") or identity.get("VerificationStatus") == "SUCCESS"
    yield Finding(
        "SES-1",
        area,
        Status.PASS if verified else Status.FAIL,
        f"SES identity {domain}: {'verified' if verified else 'not verified'}",
        "" if verified else "publish the verification records SES shows for the identity",
    )
    dkim = identity.get("DkimAttributes") or {}
    dkim_status = dkim.get("Status") if isinstance(dkim, dict) else None
    if dkim_status == "SUCCESS":
        yield Finding("SES-2", area, Status.PASS, "Easy DKIM verified: SES signs for the From domain")
    elif own_dkim:
        yield Finding(
            "SES-2", area, Status.INFO, f"Easy DKIM {dkim_status or 'off'}; notifier signs with [dkim]"
        )
    else:
        yield Finding(
            "SES-2",
            area,
            Status.FAIL,
            f"Easy DKIM status {dkim_status or 'unknown'} and no [dkim] key",
            "publish the three CNAME records SES gives for Easy DKIM, or configure [dkim]",
        )
    mail_from = identity.get("MailFromAttributes") or {}
    status = mail_from.get("MailFromDomainStatus") if isinstance(mail_from, dict) else None
    if status == "SUCCESS":
        yield Finding(
            "SES-3", area, Status.PASS, f"custom MAIL FROM {mail_from.get('MailFromDomain')} verified"
        )
    else:
        yield Finding(
            "SES-3",
            area,
            Status.WARN,
            "no verified custom MAIL FROM domain: SPF aligns with "
            "amazonses.com, not with you (DMARC then rests on DKIM alone)",
            f"set a MAIL FROM domain such as bounce.{domain} in SES and publish its MX and SPF",
        )
    account = transport.account or transport.read_account()
    if account.production is False:
        yield Finding(
            "SES-4",
            area,
            Status.FAIL,
            "the SES account is in the sandbox: only verified addresses receive, 200 messages a day",
            "SES console -> Account dashboard -> Request production access (answer within a day)",
        )
    elif account.production is None:
        yield Finding("SES-4", area, Status.WARN, "could not tell whether the account is in the sandbox")
    else:
        yield Finding("SES-4", area, Status.PASS, "production access (out of the sandbox)")
    hours = recipients / account.max_send_rate / 3600 if account.max_send_rate else float("inf")
    found = (
        f"{recipients} recipients at {account.max_send_rate:g}/s take {hours:.1f} h; "
        f"{account.remaining_24h} of {account.max_24h:g} left in the 24-hour quota"
    )
    if recipients > account.remaining_24h:
        days = recipients / account.max_24h if account.max_24h else float("inf")
        yield Finding(
            "SES-5",
            area,
            Status.WARN,
            found + f": the send needs about {days:.1f} days of quota",
            "ask AWS for a higher sending quota, or plan the send over several days "
            "(notify stops cleanly at the quota and resumes)",
        )
    else:
        yield Finding("SES-5", area, Status.PASS, found)


async def check_transport(transport: Transport) -> list[Finding]:
    """Connect, EHLO, STARTTLS and AUTH without sending (TRANSPORT-1, INF-5)."""
    if isinstance(transport, SesTransport):
        try:
            await transport.open()
        except TransportError as exc:
            return [Finding("TRANSPORT-1", "Transport", Status.FAIL, exc.message, exc.hint)]
        return [
            Finding(
                "TRANSPORT-1",
                "Transport",
                Status.PASS,
                f"{transport.description}: account read, sending enabled; nothing sent",
            )
        ]
    if not isinstance(transport, SmtpTransport):
        return [
            Finding(
                "TRANSPORT-1",
                "Transport",
                Status.INFO,
                f"{transport.description}: a local outbox, nothing leaves this machine",
            )
        ]
    out = []
    try:
        await transport.open()
    except TransportError as exc:
        out.append(Finding("TRANSPORT-1", "Transport", Status.FAIL, exc.message, exc.hint))
    else:
        auth = ", AUTH accepted" if transport.settings.username else ""
        tls = {"starttls": ", STARTTLS", "implicit": ", TLS", "none": ""}[transport.settings.tls]
        out.append(
            Finding(
                "TRANSPORT-1",
                "Transport",
                Status.PASS,
                f"{transport.description}: connected, EHLO{tls}{auth}; nothing sent",
            )
        )
    finally:
        await transport.close()
    if transport.settings.tls == "none":
        out.append(
            Finding(
                "INF-5",
                "Infrastructure",
                Status.FAIL,
                "the relay connection has no TLS (tls=none)",
                "use tls=starttls (the default) or tls=implicit; Gmail requires TLS (4.7.29)",
            )
        )
    else:
        out.append(
            Finding(
                "INF-5",
                "Infrastructure",
                Status.PASS,
                f"TLS required to the relay ({transport.settings.tls}), certificates validated",
            )
        )
    return out
