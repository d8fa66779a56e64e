"""Bounce mail from an IMAP mailbox: ``imaps://USER@HOST[:PORT]/FOLDER[?move=FOLDER]``.

The password comes only from the environment (``NOTIFY_IMAP_PASSWORD``), never the URL.

Several campaigns may read one mailbox. Each has its own keyword, ``$Notify-`` and ten
characters derived from the campaign key (not its name, which another campaign could share):
a campaign reads every message that does not carry its keyword, records it in its ledger, and
only then flags the messages that are tied to one of its own messages (its VERP token, provider
message id or Message-ID) with its keyword and ``\\Seen``, and with ``?move=FOLDER`` moves
those, and only those. Another campaign's bounces, forged ones, and mail that is nobody's are
left exactly as they were, so every campaign, in whatever order they run, sees the mail that
is its own. A message is never deleted. If a run stops half-way, unflagged messages are read
again next time, and the ledger's digest makes that harmless (a message that is not ours is
read again on every run, and found already recorded).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import imaplib
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from notifier.bounces.ingest import IngestPolicy, IngestReport, record
from notifier.bounces.parse import parse_bounce
from notifier.errors import NotifierError, UsageError
from notifier.ledger import Ledger
from notifier.tokens import Tokens

__all__ = ["ImapSource", "campaign_keyword", "ingest_imap", "parse_imap_url"]


def campaign_keyword(tokens: Tokens) -> str:
    """This campaign's IMAP keyword. It is derived from the campaign key through a VERP token
    for row 0 (a row that never exists), hashed again so the keyword itself is no token: two
    campaigns never share it, and it says nothing about the key."""
    digest = hashlib.sha256(b"notify-imap-keyword\x00" + tokens.verp_token(0).encode()).digest()
    return "$Notify-" + base64.b32encode(digest).decode("ascii")[:10].lower()


@dataclass(frozen=True)
class ImapSource:
    host: str
    port: int
    user: str
    folder: str
    move_to: str = ""

    @property
    def label(self) -> str:
        return f"imaps://{self.host}:{self.port}/{self.folder}"  # no user name: it may be an address


def parse_imap_url(url: str) -> ImapSource:
    parts = urlsplit(url)
    if parts.scheme != "imaps":
        raise UsageError(
            f"{url.split('@')[-1]}: only imaps:// is supported (IMAP over TLS)",
            hint="use imaps://USER@HOST/INBOX; the password goes in NOTIFY_IMAP_PASSWORD",
        )
    if parts.password:
        raise UsageError(
            "a password in the IMAP URL would end up in shell history and logs",
            hint="remove it from the URL and set NOTIFY_IMAP_PASSWORD instead",
        )
    if not parts.hostname or not parts.username:
        raise UsageError("the IMAP URL needs a user and a host: imaps://USER@HOST/INBOX")
    try:
        port = 993 if parts.port is None else parts.port  # ValueError past 65535
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise UsageError(
            f"imaps://{parts.hostname}: the port must be a number from 1 to 65535",
            hint="leave it out for IMAP over TLS's usual 993, e.g. imaps://USER@HOST/INBOX",
        )
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    if any(ch in folder for ch in "\r\n\x00"):
        raise UsageError("the IMAP folder name must not contain line breaks or NUL")
    move = parse_qs(parts.query).get("move", [""])[0]
    if any(ch in move for ch in "\r\n\x00"):
        raise UsageError("the ?move= folder name must not contain line breaks or NUL")
    return ImapSource(parts.hostname, port, unquote(parts.username), folder, move)


def _check(status: str, data: object, what: str) -> None:
    if status != "OK":
        raise NotifierError(f"IMAP server refused {what}: {data!r}")


def ingest_imap(
    ledger: Ledger,
    tokens: Tokens,
    url: str,
    report: IngestReport,
    policy: IngestPolicy,
    environ: Mapping[str, str],
) -> None:
    source = parse_imap_url(url)
    password = environ.get("NOTIFY_IMAP_PASSWORD", "")
    if not password:
        raise UsageError(
            "NOTIFY_IMAP_PASSWORD is not set", hint="export NOTIFY_IMAP_PASSWORD with the mailbox's password"
        )
    context = ssl.create_default_context()  # trusts the system CAs, or SSL_CERT_FILE
    try:
        client = imaplib.IMAP4_SSL(source.host, source.port, ssl_context=context, timeout=30)
    except (OSError, ssl.SSLError) as exc:
        raise NotifierError(
            f"cannot connect to {source.label}: {exc}",
            hint="check the host and port, and that the server's certificate is trusted",
        ) from None
    try:
        try:
            client.login(source.user, password)
        except imaplib.IMAP4.error:
            raise NotifierError(
                f"{source.label}: the server refused the login",
                hint="check the user in the URL and NOTIFY_IMAP_PASSWORD",
            ) from None
        status, data = client.select(_quote(source.folder))
        _check(status, data, f"to open {source.folder}")
        keyword = campaign_keyword(tokens)
        status, data = client.uid("SEARCH", "UNKEYWORD", keyword)
        _check(status, data, "the search")
        for uid in _uids(data):
            status, fetched = client.uid("FETCH", uid, "(BODY.PEEK[])")
            _check(status, fetched, f"to fetch message {uid}")
            raw = next((p[1] for p in fetched if isinstance(p, tuple) and len(p) > 1), None)
            if not isinstance(raw, bytes):
                continue
            done = record(ledger, tokens, raw, parse_bounce(raw), f"{source.label}#{uid}", report, policy)
            if not done.ours:
                continue  # another campaign's, forged, or nobody's: leave it as it was for them
            # Recorded (and committed): only now mark it on the server.
            status, data = client.uid("STORE", uid, "+FLAGS", f"({keyword} \\Seen)")
            _check(status, data, f"to flag message {uid}")
        if source.move_to:
            # Everything carrying our keyword is ours: this run's, and any a stopped run flagged
            # but did not get to move.
            status, data = client.uid("SEARCH", "KEYWORD", keyword)
            _check(status, data, "the search")
            if ours := _uids(data):
                _move(client, ",".join(ours), source.move_to)
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            client.logout()


def _uids(data: list[Any] | None) -> list[str]:
    return [u.decode() for u in (data[0] or b"").split()] if data else []


def _quote(folder: str) -> str:
    return '"' + re.sub(r'(["\\\\])', r"\\\1", folder) + '"'


def _move(client: imaplib.IMAP4_SSL, uids: str, folder: str) -> None:
    """MOVE (RFC 6851) where the server has it; otherwise COPY and leave the original (flagged)
    in place: nothing is ever expunged by us."""
    client.create(_quote(folder))  # a harmless NO when it exists
    status, data = client.capability()  # after login: the greeting's list may be shorter
    listed = b" ".join(d for d in data if isinstance(d, bytes)).upper().split() if status == "OK" else []
    command = "MOVE" if b"MOVE" in listed else "COPY"
    status, data = client.uid(command, uids, _quote(folder))
    _check(status, data, f"to {command.lower()} messages to {folder}")
