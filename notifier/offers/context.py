"""The ``offer`` a template sees for one recipient: the offer's facts and their own code.

Notices, follow-ups and letters all get it from here (``{% if offer is defined %}``), so the
same person sees the same code everywhere. Without a ledger (preview, `notify check`'s sample,
`notify lint`) the code is :data:`~notifier.compliance.offers.SAMPLE_CODE`: a real code is the
recipient's secret and goes only into their own message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from notifier.compliance.offers import SAMPLE_CODE, OfferChoice, choose
from notifier.errors import NotifierError
from notifier.models import Recipient
from notifier.settings import Settings

__all__ = ["CodeSource", "IssuedCodes", "OfferContext", "offer_view"]


class CodeSource(Protocol):
    def offer_codes_of(self, keys: Sequence[str]) -> dict[str, dict[str, tuple[str, str]]]: ...


class IssuedCodes:
    """The codes of a run's people, held in memory once they are issued (before the first
    message): building a message then needs no ledger, so it works the same in forked sending
    processes and costs no round trip to a PostgreSQL server per message. Only the people who
    get an offer are held (key, offer and code each)."""

    def __init__(self) -> None:
        self._codes: dict[str, dict[str, tuple[str, str]]] = {}

    def update(self, codes: Mapping[str, Mapping[str, tuple[str, str]]]) -> None:
        for key, held in codes.items():
            self._codes.setdefault(key, {}).update(held)

    def offer_codes_of(self, keys: Sequence[str]) -> dict[str, dict[str, tuple[str, str]]]:
        return {k: self._codes[k] for k in keys if k in self._codes}

    def __len__(self) -> int:
        return len(self._codes)


def offer_view(choice: OfferChoice, code: str, notice_date: dt.date) -> dict[str, Any]:
    """What ``offer.*`` holds in a template."""
    o = choice.offer
    return {
        "name": o.name,
        "vendor": o.vendor,
        "product": o.product,
        "months": o.months,
        "url": o.url,
        "phone": o.phone,
        "engagement": o.engagement,
        "enrol_by": o.enrol_by_for(notice_date),
        "code": code,
        "minor": choice.pool == "minors",
    }


class OfferContext:
    """recipient -> ``{"offer": {...}}`` (or ``{}`` when no offer applies to them).

    ``codes``: the ledger, for a real send (a code missing there is a bug: the run issues every
    code before its first message, so this refuses rather than send an offer without one);
    None: the sample code."""

    def __init__(self, settings: Settings, codes: CodeSource | None = None) -> None:
        self.offers = settings.offers
        self.facts = settings.facts
        incident = settings.facts.get("incident") or {}
        self.notice_date: dt.date = incident.get("notice_date") or dt.date.today()
        self.codes = codes

    def __bool__(self) -> bool:
        return bool(self.offers)

    def for_view(self, view: Mapping[str, Any], key: str = "") -> dict[str, Any]:
        choice = choose(view, self.offers, self.facts)
        if choice is None:
            return {}
        code = SAMPLE_CODE
        if self.codes is not None:
            held = self.codes.offer_codes_of([key]).get(key, {}).get(choice.offer.name)
            if held is None:
                raise NotifierError(
                    f"no {choice.offer.name!r} code was issued for a recipient who needs one; nothing "
                    "more is sent in this run",
                    hint="run the same command again: codes are issued before the first message",
                )
            code = held[0]
        return {"offer": offer_view(choice, code, self.notice_date)}

    def __call__(self, recipient: Recipient) -> dict[str, Any]:
        return self.for_view(recipient.template_view(), recipient.key)
