"""Bounce mail from an IMAP mailbox: ``imaps://USER@HOST[:PORT]/FOLDER[?move=FOLDER]``.

The password comes only from the environment (``NOTIFY_IMAP_PASSWORD``), never the URL.
Messages already carrying the ``$NotifyRecorded`` keyword are skipped; every other message
is read, recorded in the ledger, and only then flagged ``$NotifyRecorded`` (and ``\\Seen``),
and with ``?move=FOLDER`` moved there. A message is never deleted: one that is not a bounce
or matches no recipient is flagged and left where it is, and the ledger keeps it reportable.
If the run stops half-way, unflagged messages are read again next time, and the ledger's
digest makes that harmless.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from .bounces import parse_bounce
from .errors import NotifierError, UsageError
from .ingest import IngestPolicy, IngestReport, record
from .ledger import SqliteLedger
from .tokens import Tokens

__all__ = ["ImapSource", "RECORDED", "ingest_imap", "parse_imap_url"]

RECORDED = "$NotifyRecorded"


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
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    move = parse_qs(parts.query).get("move", [""])[0]
    return ImapSource(parts.hostname, parts.port or 993, unquote(parts.username), folder, move)


def _check(status: str, data: object, what: str) -> None:
    if status != "OK":
        raise NotifierError(f"IMAP server refused {what}: {data!r}")


def ingest_imap(
    ledger: SqliteLedger,
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
        status, data = client.uid("SEARCH", "UNKEYWORD", RECORDED)
        _check(status, data, "the search")
        uids = [u.decode() for u in (data[0] or b"").split()] if data else []
        moved: list[str] = []
        for uid in uids:
            status, fetched = client.uid("FETCH", uid, "(BODY.PEEK[])")
            _check(status, fetched, f"to fetch message {uid}")
            raw = next((p[1] for p in fetched if isinstance(p, tuple) and len(p) > 1), None)
            if not isinstance(raw, bytes):
                continue
            parsed = parse_bounce(raw)
            before = len(report.unmatched)
            record(ledger, tokens, raw, parsed, f"{source.label}#{uid}", report, policy)
            # Recorded (and committed): only now mark it on the server.
            status, data = client.uid("STORE", uid, "+FLAGS", f"({RECORDED} \\Seen)")
            _check(status, data, f"to flag message {uid}")
            matched = len(report.unmatched) == before and parsed.recipients
            if source.move_to and matched:
                moved.append(uid)
        if moved:
            _move(client, ",".join(moved), source.move_to)
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            client.logout()


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
