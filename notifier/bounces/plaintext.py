"""Plain-text bounces (Exim, qmail, Sendmail transcripts, Exchange 2003, Apache James, Google
Groups, ...): the addresses the notice names before the returned copy, each with the text about
it, and the original's headers when the bounce quotes them instead of attaching them."""

from __future__ import annotations

import email.message
import email.parser
import re

from notifier.bounces.dsn import SIGNS, classify, windows
from notifier.bounces.mime import ADDRESS, found_address
from notifier.bounces.reasons import status_in
from notifier.bounces.report import BouncedRecipient

__all__ = ["NOT_RECIPIENTS", "plain_recipients", "received_for", "returned_copy"]

NOT_RECIPIENTS = re.compile(
    r"^(mailer[-_]daemon|post_?master|root|noreply|no-reply|bounce[s]?|mail-daemon|mdaemon)@", re.I
)
# Lines that open the list of recipients that failed (Exchange 2003/2007, Sendmail, Exim,
# qmail, Lotus Domino, Apache James, Gmail): addresses before them are a summary of the
# original ("Your message To: ..."), not who bounced.
_RECIPIENT_LIST = re.compile(
    r"did not reach the following recipient|following recipient\(?s?\)? (could|cannot|can not) be|"
    r"following address(es|\(es\))? (failed|had permanent)|"
    r"wasn'?t able to deliver your message to the following|"
    r"delivery to the following recipients? (failed|has been delayed)|"
    r"could not be delivered to the following|"
    r"error for the following recipients?|^\s*failed recipient\(?s?\)?:",
    re.I | re.M,
)
_HEADERS = email.parser.Parser()
_NOISE_LINE = re.compile(
    r"^\s*(message-id|received|from|return-path|reply-to|references|in-reply-to|"
    r"x-[a-z-]+|dkim-signature|arc-[a-z-]+|authentication-results)\s*:",
    re.I,
)
_ID_LOCAL = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-|^[0-9a-f.]{12,}$|^[0-9]{6,}\.|=|^ca[a-z0-9+_-]{30,}$", re.I
)
# A line that starts with another address: the next recipient's paragraph (qmail, Exim).
_NEXT_RECIPIENT = re.compile(r"\n[ \t]*<?[A-Za-z0-9._%+'=-]+@[A-Za-z0-9.-]+>?:?(?=\s)")
# A reply code, the address, and words after it: one line that says it all (Sendmail).
_CODED_LINE = re.compile(r"^\s*[45]\d\d[ -]<[^>\s]+@[^>\s]+>\.{3} ?\S.{8,}")


def plain_recipients(
    text: str, cut: re.Match[str] | None, exclude: set[str], original_to: set[str]
) -> list[BouncedRecipient]:
    """Plain-text bounces: addresses named in the notice part (not in the returned copy, which
    starts at ``cut``), with the text around them."""
    notice = text[: cut.start()] if cut else text
    low = notice.lower()
    marker = _RECIPIENT_LIST.search(notice) if "following" in low or "failed recipient" in low else None
    if marker and ADDRESS.search(notice, marker.end()):
        notice = notice[marker.start() :]
    found: dict[str, str] = {}
    for m in ADDRESS.finditer(notice):
        address = found_address(m.group(0))
        local = address.rpartition("@")[0]
        line_start = notice.rfind("\n", 0, m.start()) + 1
        line_end = notice.find("\n", m.end())
        line = notice[line_start : line_end if line_end >= 0 else len(notice)]
        if (
            address in exclude
            or NOT_RECIPIENTS.match(address)
            or address in found
            or _ID_LOCAL.search(local)
            or _NOISE_LINE.match(line)
            or "mailfrom=" in line.lower()
        ):
            continue
        # The next recipient's line matters only within the 600 characters taken (the bound
        # leaves room for the longest address the pattern can match there).
        nxt = _NEXT_RECIPIENT.search(notice, m.end(), line_start + 3000)
        end = min(line_start + 600, nxt.start() if nxt else len(notice))
        if _CODED_LINE.match(line):
            # Sendmail's "554 <address>... reason": the line is the whole verdict; the lines
            # after it are the next recipient's host and reply.
            end = min(end, line_start + len(line))
        context = notice[line_start:end]
        found[address] = " ".join(context.split())
    if original_to and set(found) & original_to:
        found = {a: c for a, c in found.items() if a in original_to}
    elif len(found) > 1:
        flagged = {a: c for a, c in found.items() if SIGNS.says("diagnostic", c[:200].lower())}
        found = flagged or found
    out = []
    # What a notice says once for everyone, before it names the first of several recipients
    # ("Your message was not delivered because the destination computer was not reachable
    # within the allowed queue period. ... The following recipients did not receive it:").
    preamble = ""
    if len(found) > 1:
        low = notice.lower()  # the notice may have been cut at its list of recipients above
        first = min(low.find(a) for a in found)
        preamble = notice[max(0, first - 3000) : first]
    for address, context in found.items():
        status = status_in(context)
        near = notice[:3000] if len(found) == 1 else windows(notice, address)
        domain = address.rpartition("@")[2]
        reason, hard, code = classify("failed", status, context, context, "smtp", near, domain=domain)
        if reason == "on_hold" and preamble:
            reason, hard, code = classify("failed", status, context, context, "smtp", preamble, domain=domain)
        out.append(BouncedRecipient(address, "failed", status, code, context[:300], reason, hard))
    return out


_RECEIVED_FOR = re.compile(r"^>?\s*received:.{0,400}?\bfor\s+<([^<>\s]+@[^<>\s]+)>", re.I | re.M | re.S)


def received_for(body: str, cut: re.Match[str] | None) -> set[str]:
    """Who the returned copy was delivered to, from its Received headers' "for <address>"
    (RFC 5321 section 4.4): a hint that picks the recipient among the addresses a notice names
    (a directory's suggestions, the site's address pattern), used only where it names one of
    them. Read from the copy's first 4,000 characters, quoted ("> ") or not."""
    if not cut:
        return set()
    head = body[cut.end() : cut.end() + 4000]
    return {found_address(m.group(1)) for m in _RECEIVED_FOR.finditer(head)}


def returned_copy(body: str, cut: re.Match[str] | None) -> email.message.Message | None:
    """The headers of the original when a plain-text bounce quotes them after a "copy of the
    message follows" line (Exim, qmail, Google Groups) instead of attaching them."""
    if not cut:
        return None
    newline = body.find("\n", cut.end())
    after = body[newline + 1 if newline >= 0 else len(body) :].lstrip("\n")
    copy = _HEADERS.parsestr(after, headersonly=True)
    return copy if copy.get("From") or copy.get("Message-ID") else None
