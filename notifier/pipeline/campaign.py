"""One campaign's parts for one notice to one segment, resolved once: settings, the compiled
notice, the segment, the transport and (on demand) the DKIM signer. The MessageFactory is
built here and nowhere else: by `send`, `run-due` and `worker` (through pipeline.run), by the
preview's pages and its test send, and for `notify check`'s sample message."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from notifier.checks.preflight import build_signer
from notifier.followups.readiness import refuse_unready
from notifier.ledger import Claimed, ledger_exists, open_ledger
from notifier.lists.audience import Member
from notifier.lists.segments import Segment, resolve
from notifier.offers.context import CodeSource, OfferContext
from notifier.pipeline.build import MessageFactory
from notifier.render.notice import Notice, load_notice, notice_meta
from notifier.render.signing import Signer
from notifier.settings import Settings
from notifier.tokens import Tokens
from notifier.transports import Transport, from_url

__all__ = ["Campaign", "first_notice_at", "notice_context", "recipient_context"]


def notice_context(settings: Settings, notice: str, *, today: dt.date | None = None) -> dict[str, Any]:
    """Campaign facts as templates see them, plus ``notice`` (name, date, reference)."""
    incident = settings.facts.get("incident", {})
    date = today or dt.date.today()
    kind, refers_to = notice_meta(settings.templates_dir / notice)
    context = {
        **settings.facts,
        "notice": {"name": notice, "date": date, "reference": incident.get("reference", ""), "kind": kind},
        # The language policy's inputs (render/locale.py): [campaign] language and timezone, and
        # [schedule] timezones (the zones the send windows use, per country or region).
        "campaign": {
            "name": settings.campaign,
            "language": settings.language,
            "timezone": settings.timezone,
            "zones": dict(settings.timezones),
        },
        "offers": dict(settings.offers),  # [offers.NAME]; each person's own is `offer` (recipient_context)
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


def recipient_context(
    settings: Settings, view: Mapping[str, Any], key: str = "", codes: CodeSource | None = None
) -> dict[str, Any]:
    """Per-recipient facts a template sees beside ``recipient`` (emails, follow-ups and letters
    alike): their ``offer`` with their own code from ``codes`` (the ledger), or the sample code
    without one. Empty when nothing applies to them."""
    return OfferContext(settings, codes).for_view(view, key)


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
    connections: int | None = None  # None: [throttle] connections (the preview sends one at a time)

    @classmethod
    def open(cls, settings: Settings, *, segment: str, notice: str | None = None) -> Campaign:
        """Resolve the segment, load the notice and check the transport URL — before the ledger
        is touched, so a mistake changes nothing. A follow-up that is not ready is refused."""
        name = notice or settings.notice
        found = resolve(segment, settings.segments, path=str(settings.path), lines=settings.segment_lines)
        loaded = load_notice(settings.templates_dir, name, notice_context(settings, name))
        if loaded.kind == "follow-up":
            refuse_unready(settings, name)
        campaign = cls(settings, loaded, found)
        campaign.transport  # noqa: B018 - a bad transport URL stops us here, before the ledger
        return campaign

    @classmethod
    def of(cls, settings: Settings, notice: Notice, *, connections: int | None = None) -> Campaign:
        """A campaign around a notice the caller already compiled (the preview keeps its own),
        for the whole list; its transport is built only when something is sent."""
        return cls(settings, notice, resolve("all", settings.segments), connections)

    @cached_property
    def transport(self) -> Transport:
        """Built once, on first use: showing a message never needs the wire."""
        s = self.settings
        return from_url(
            s.transport_url,
            root=s.root,
            connections=self.connections or s.throttle.connections,
            helo=s.sender.helo,
            tags={"campaign": s.campaign, "notice": self.notice.name},
        )

    def dry_run(self, ledger_path: Path, outbox: Path) -> Campaign:
        """The same campaign against a private ledger copy and a fresh outbox."""
        settings = replace(self.settings, ledger_path=ledger_path, transport_url=f"outbox:{outbox}")
        return replace(self, settings=settings)

    def signer(self) -> Signer | None:
        return build_signer(self.settings)

    def factory(
        self,
        key: bytes,
        *,
        signer: Signer | None = None,
        unsubscribe_base: str = "",
        codes: CodeSource | None = None,
    ) -> MessageFactory:
        """The one place a MessageFactory is made (unsubscribe links at [serve] public_url unless
        the caller, e.g. the preview, gives another base). ``codes``: the ledger, for a real send,
        whose offer codes go into each message; without it, the sample code (preview, tests)."""
        offers = OfferContext(self.settings, codes)
        return MessageFactory(
            self.notice,
            self.settings.sender,
            Tokens(key),
            signer=signer,
            unsubscribe_base=unsubscribe_base or self.settings.public_url,
            context=offers if offers else None,
        )

    def sample(self, member: Member) -> bytes:
        """The unsigned message `send` would build for one member, for `notify check`'s message
        checks. Its token key is thrown away: the sample is never sent, and a check must not
        create the campaign's key."""
        factory = self.factory(secrets.token_bytes(32))
        return factory.prepare(Claimed(0, member.recipient, 0, None, False)).data
