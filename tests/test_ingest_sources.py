"""Where bounces come from besides files: a real IMAP server (Debian's Dovecot on 127.0.0.1),
saved SES/SNS JSON; and what repeated soft bounces and a shared suppression list do."""

from __future__ import annotations

import imaplib
import json
import sqlite3
import ssl
from pathlib import Path

import pytest

from notifier.bounces import imap as imapsource
from notifier.bounces import ingest
from notifier.tokens import Tokens

from .conftest import Campaign
from .imapserver import PASSWORD, USER, Dovecot
from .smtpsink import Sink
from .test_bounces import VACATION, _bounce_for


def client(server: Dovecot) -> imaplib.IMAP4_SSL:
    c = imaplib.IMAP4_SSL(
        "127.0.0.1", server.port, ssl_context=ssl.create_default_context(cafile=server.ca.ca_file)
    )
    c.login(USER, PASSWORD)
    return c


def folder_state(server: Dovecot, folder: str, keyword: str) -> list[tuple[str, bool]]:
    """(subject, flagged with ``keyword``) for every message in ``folder``."""
    c = client(server)
    try:
        if c.select(f'"{folder}"')[0] != "OK":
            return []
        _, data = c.uid("SEARCH", "ALL")
        out = []
        for uid in (data[0] or b"").split():
            _, fetched = c.uid("FETCH", uid.decode(), "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            meta = fetched[0][0].decode() if isinstance(fetched[0], tuple) else ""
            subject = fetched[0][1].decode().strip() if isinstance(fetched[0], tuple) else ""
            out.append((subject, keyword in meta))
        return sorted(out)
    finally:
        c.logout()


def campaign_keyword(campaign: Campaign) -> str:
    db = sqlite3.connect(campaign.root / "ledger.sqlite")
    try:
        (key,) = db.execute("SELECT value FROM meta WHERE key='token_key'").fetchone()
    finally:
        db.close()
    return imapsource.campaign_keyword(Tokens(bytes.fromhex(key)))


def test_imap_bounces_are_recorded_then_flagged_and_moved_never_deleted(
    campaign: Campaign, sink: Sink, imap: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Our bounce is flagged with the campaign's keyword only once recorded, then moved; mail
    that is not ours (an unknown address, an auto-reply) stays where it was, unflagged."""
    campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    keyword = campaign_keyword(campaign)
    ana = next(r for r in sink.received if r.rcpt_to == "ana@example.com")
    c = client(imap)
    for raw, subject in (
        (_bounce_for(ana.mail_from, "ana@example.com", "<x@y>"), "ana"),
        (_bounce_for("someone@example.com", "stranger@example.net", "<x@y>"), "stranger"),
        (VACATION, "vacation"),
    ):
        c.append("INBOX", None, None, raw.replace(b"Subject: ", f"Subject: {subject} ".encode(), 1))
    c.logout()
    url = f"imaps://{USER}@127.0.0.1:{imap.port}/INBOX?move=Processed"

    # The ledger write fails for the second message: it must stay unflagged, to be read again.
    real_record = ingest.record
    calls = []

    def failing_record(*args: object, **kwargs: object) -> ingest.Recorded:
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        return real_record(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(imapsource, "record", failing_record)
    broken = campaign.notify("bounces", "ingest", url)
    assert broken.code != 0
    flagged = [flag for _, flag in folder_state(imap, "INBOX", keyword)]
    assert flagged.count(True) == 1 and len(flagged) == 3  # only the recorded one is marked

    monkeypatch.setattr(imapsource, "record", real_record)
    result = campaign.notify("bounces", "ingest", url)
    assert "unmatched:" in result.out and "stranger@example.net" in result.out
    # Our bounce is moved, flagged; the unmatched one and the auto-reply stay as they were.
    inbox, processed = folder_state(imap, "INBOX", keyword), folder_state(imap, "Processed", keyword)
    assert [s.split()[1] for s, flag in processed if flag] == ["ana"]
    assert sorted(s.split()[1] for s, flag in inbox if not flag) == ["stranger", "vacation"]
    assert len(inbox) == 2
    db = sqlite3.connect(campaign.root / "ledger.sqlite")
    try:
        assert dict(db.execute("SELECT address, matched FROM bounce_events WHERE address != ''")) == {
            "ana@example.com": "verp",
            "stranger@example.net": "",
        }
    finally:
        db.close()
    again = campaign.notify("bounces", "ingest", url)
    assert again.out.startswith("Read 2 message(s): 2 seen before")


def test_imap_errors_name_the_problem(
    campaign: Campaign, imap: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_password = campaign.notify("bounces", "ingest", f"imaps://{USER}:pw@127.0.0.1:{imap.port}/INBOX")
    assert with_password.code != 0 and "NOTIFY_IMAP_PASSWORD" in with_password.err
    monkeypatch.setenv("NOTIFY_IMAP_PASSWORD", "wrong")
    refused = campaign.notify("bounces", "ingest", f"imaps://{USER}@127.0.0.1:{imap.port}/INBOX")
    assert refused.code != 0 and "refused the login" in refused.err
    monkeypatch.delenv("SSL_CERT_FILE")
    untrusted = campaign.notify("bounces", "ingest", f"imaps://{USER}@127.0.0.1:{imap.port}/INBOX")
    assert untrusted.code != 0 and "certificate" in untrusted.err


def ses_bounce(address: str, at: str, kind: str = "Transient", source: str = "") -> dict[str, object]:
    return {
        "Type": "Notification",
        "MessageId": f"sns-{address}-{at}",
        "Message": json.dumps(
            {
                "notificationType": "Bounce",
                "bounce": {
                    "bounceType": kind,
                    "bounceSubType": "MailboxFull",
                    "bouncedRecipients": [{"emailAddress": address, "status": "4.2.2"}],
                    "timestamp": at,
                },
                "mail": {"messageId": "none", "source": source, "destination": [address]},
            }
        ),
    }


def test_three_soft_bounces_over_a_day_suppress_but_a_burst_does_not(
    campaign: Campaign, sink: Sink, tmp_path: Path
) -> None:
    """Default [bounces] soft_threshold = 3 in a row, spread over at least soft_span = 24h;
    only events tied to our messages count (here: SES used our VERP return path)."""
    campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    verp = {r.rcpt_to: r.mail_from for r in sink.received}
    days = ["2026-12-01T08:00:00Z", "2026-12-01T20:00:00Z", "2026-12-02T09:00:00Z"]
    burst = ["2026-12-01T08:00:00Z", "2026-12-01T08:05:00Z", "2026-12-01T08:10:00Z"]
    files = []
    for who, times in (("ana@example.com", days), ("ben@example.org", burst)):
        for i, at in enumerate(times):
            path = tmp_path / f"{who}-{i}.json"
            path.write_text(json.dumps(ses_bounce(who, at, source=verp[who])))
            files.append(str(path))
    campaign.notify("bounces", "ingest", *files)
    listed = campaign.notify("suppress", "list", "--format", "json").out
    assert {(s["address"], s["reason"]) for s in json.loads(listed)} == {("ana@example.com", "soft_bounces")}
    # The same saved notifications again: recorded once, by their SNS MessageId.
    again = campaign.notify("bounces", "ingest", *files)
    assert "6 seen before" in again.out


def test_a_shared_suppression_list_carries_across_campaigns(
    campaign: Campaign, sink: Sink, tmp_path: Path
) -> None:
    shared = tmp_path / "shared" / "suppressed.txt"
    campaign.edit_config("[ledger]", f'[bounces]\nshared_suppressions = "{shared}"\n\n[ledger]')
    campaign.notify("suppress", "add", "chloe@example.net", "--reason", "complaint")
    assert shared.stat().st_mode & 0o777 == 0o600
    assert "chloe@example.net\tcomplaint\t" in shared.read_text()
    # A second campaign (its own ledger) skips her without being told.
    campaign.edit_config('path = "ledger.sqlite"', 'path = "other.sqlite"')
    campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    assert "chloe@example.net" not in sink.by_recipient()
    status = json.loads(campaign.notify("status", "--json").out)
    assert status["notices"][0]["counts"]["suppressed"] == 1
