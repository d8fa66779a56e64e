"""Who gets a letter, addressed to whom — and who should but cannot, by list row.

- ``--segment unreached`` (email bounced hard, failed, or the address is suppressed): everyone
  of it with a complete postal address, whatever their channel decision said;
- any other segment: those whose channel decision (notifier.channels) is ``postal``;
- a deceased person (column ``deceased``): the letter goes to the next of kin
  (``next_of_kin_*`` columns; HIPAA 164.404(d)(1)(ii), reference notice-channels §2.3);
- someone who needs a letter but has no usable address is reported with their file:line and
  why, never left out in silence.

Pure: members and their decisions in, jobs and problems out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from notifier.channels.columns import is_yes, next_of_kin_address, postal_address
from notifier.channels.decide import Channel, ChannelDecision
from notifier.models import Recipient
from notifier.render.letters import Addressee

__all__ = ["LetterJob", "NoLetter", "UNREACHED", "eligible", "letter_id"]

UNREACHED = "unreached"


@dataclass(frozen=True, slots=True)
class LetterJob:
    """One letter to build."""

    letter_id: str
    key: str  # the person's dedupe key
    where: str  # list file:line
    view: Mapping[str, Any]  # what the template sees as ``recipient``
    to: Addressee
    recipient: Recipient | None = None  # the list's person (their monitoring-offer code is issued to it)


@dataclass(frozen=True, slots=True)
class NoLetter:
    """Someone who should get a letter and cannot: their row and why."""

    where: str
    reason: str


def letter_id(fields: Mapping[str, Any], key: str) -> str:
    """The recipient id printed in the manifest: the list's ``id`` column, else a stable code
    made from the person's key (never their email address: the manifest goes to the mail house)."""
    own = str(fields.get("id", "")).strip()
    return own or "K" + hashlib.sha256(key.encode()).hexdigest()[:12].upper()


def _addressee(view: Mapping[str, Any], home_country: str | None) -> tuple[Addressee | None, str]:
    if is_yes(view, "deceased"):
        lines = next_of_kin_address(view, home_country=home_country)
        if lines is None:
            return (
                None,
                "deceased, and no complete next-of-kin address (next_of_kin_name, _line1, _city, _country)",
            )
        return Addressee(tuple(lines), next_of_kin=True), ""
    lines = postal_address(view, home_country=home_country)
    if lines is None:
        return None, "no complete postal address (postal_line1, postal_city, postal_country, and a name)"
    return Addressee(tuple(lines)), ""


def eligible(
    members: Iterable[tuple[Any, ChannelDecision]],
    *,
    segment: str,
    built: set[str],
    home_country: str | None = None,
) -> Iterator[LetterJob | NoLetter]:
    """Letters to build for ``members`` ((audience member, decision) pairs, in list order),
    leaving out the ids in ``built`` (their letters are in a recorded batch already)."""
    seen: dict[str, str] = {}
    for member, decision in members:
        view = member.view
        where = member.where
        unreached = segment == UNREACHED
        if not unreached and decision.channel is not Channel.POSTAL and not is_yes(view, "deceased"):
            if decision.channel is Channel.NONE:
                yield NoLetter(where, f"no lawful channel: {decision.reason}")
            continue
        to, why = _addressee(view, home_country)
        if to is None:
            yield NoLetter(where, why)
            continue
        lid = letter_id(view, member.recipient.key)
        if lid in seen:
            yield NoLetter(where, f"id {lid!r} is also the id of {seen[lid]}: ids must be unique")
            continue
        seen[lid] = where
        if lid in built:
            continue
        yield LetterJob(lid, member.recipient.key, where, view, to, member.recipient)
