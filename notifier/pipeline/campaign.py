"""One campaign's parts for one notice to one segment, resolved once: settings, the compiled
notice, the segment, the transport and (on demand) the DKIM signer; the MessageFactory is
built here and nowhere else in the run."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from notifier.checks.preflight import build_signer
from notifier.followups.readiness import refuse_unready
from notifier.ledger import ledger_exists, open_ledger
from notifier.lists.segments import Segment, resolve
from notifier.pipeline.deliver import MessageFactory
from notifier.render.notice import Notice, load_notice, notice_meta
from notifier.render.signing import Signer
from notifier.settings import Settings
from notifier.tokens import Tokens
from notifier.transports import OutboxTransport, Transport, from_url

__all__ = ["Campaign", "first_notice_at", "notice_context"]


def notice_context(settings: Settings, notice: str, *, today: dt.date | None = None) -> dict[str, Any]:
    """Campaign facts as templates see them, plus ``notice`` (name, date, reference)."""
    incident = settings.facts.get("incident", {})
    date = today or dt.date.today()
    kind, refers_to = notice_meta(settings.templates_dir / notice)
    context = {
        **settings.facts,
        "notice": {"name": notice, "date": date, "reference": incident.get("reference", ""), "kind": kind},
        "campaign": {"name": settings.campaign},
    }
    if kind == "legal":
        context["notice"]["date"] = incident.get("notice_date") or date
    else:
        # GEN-10: a follow-up names the original notice, its date and reference.
        first = first_notice_at(settings, refers_to)
        original = incident.get("notice_date") or (
            dt.datetime.fromtimestamp(first, dt.UTC).date() if first is not None else date
        )
        context["original"] = {
            "name": refers_to,
            "date": original,
            "reference": incident.get("reference", ""),
        }
    return context


def first_notice_at(settings: Settings, notice: str) -> float | None:
    """When the first message of ``notice`` was accepted, read from the ledger if there is one."""
    if not ledger_exists(settings):
        return None
    ledger = open_ledger(settings)
    try:
        return ledger.first_sent_at(notice)
    finally:
        ledger.close()


@dataclass(frozen=True)
class Campaign:
    settings: Settings
    notice: Notice
    segment: Segment
    transport: Transport

    @classmethod
    def open(cls, settings: Settings, *, segment: str, notice: str | None = None) -> Campaign:
        """Resolve the segment, load the notice and check the transport URL — before the ledger
        is touched, so a mistake changes nothing. A follow-up that is not ready is refused."""
        name = notice or settings.notice
        found = resolve(segment, settings.segments, path=str(settings.path), lines=settings.segment_lines)
        loaded = load_notice(settings.templates_dir, name, notice_context(settings, name))
        if loaded.kind == "follow-up":
            refuse_unready(settings, name)
        transport = from_url(
            settings.transport_url,
            root=settings.root,
            connections=settings.throttle.connections,
            helo=settings.sender.helo,
            tags={"campaign": settings.campaign, "notice": name},
        )
        return cls(settings, loaded, found, transport)

    def dry_run(self, ledger_path: Path, outbox: Path) -> Campaign:
        """The same campaign against a private ledger copy and a fresh outbox."""
        settings = replace(self.settings, ledger_path=ledger_path, transport_url=f"outbox:{outbox}")
        return replace(self, settings=settings, transport=OutboxTransport(outbox))

    def signer(self) -> Signer | None:
        return build_signer(self.settings)

    def factory(
        self, key: bytes, *, signer: Signer | None = None, unsubscribe_base: str = ""
    ) -> MessageFactory:
        """The one place a MessageFactory is made (unsubscribe links at [serve] public_url unless
        the caller, e.g. the preview, gives another base)."""
        return MessageFactory(
            self.notice,
            self.settings.sender,
            Tokens(key),
            signer=signer,
            unsubscribe_base=unsubscribe_base or self.settings.public_url,
        )
