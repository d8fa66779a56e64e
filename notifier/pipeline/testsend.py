"""A test send: one recipient's notice, built and signed as `send` builds it (Campaign.factory)
and handed to the campaign's own transport, but addressed only to a seed address and recorded
as a test (ledger.record_test) — never claimed, never counted as a notice sent."""

from __future__ import annotations

import asyncio
import dataclasses

from notifier.followups.readiness import refuse_unready
from notifier.ledger import Claimed, open_ledger
from notifier.models import Outcome, Recipient
from notifier.pipeline.campaign import Campaign

__all__ = ["send_test"]


def send_test(campaign: Campaign, recipient: Recipient, seed: str, *, row: int, key: bytes) -> Outcome:
    """Send ``recipient``'s message to ``seed``, which must be one of [preview] seeds.

    Raises PermissionError for any other address (a test must never reach a real person), and
    UsageError where `send` would refuse too (a follow-up with empty facts or without
    [serve] public_url).
    """
    settings = campaign.settings
    if seed.lower() not in {s.lower() for s in settings.preview_seeds}:
        raise PermissionError(f"{seed} is not in [preview] seeds")
    if campaign.notice.kind == "follow-up":
        refuse_unready(settings, campaign.notice.name)
    factory = campaign.factory(key, signer=campaign.signer())
    prepared = factory.prepare(Claimed(row, recipient, 0, None, False))
    # Bounces of a test go to the plain bounce address, not to a return path that names a row
    # of the campaign ledger: a seed's bounce must never mark a real recipient.
    envelope = dataclasses.replace(
        prepared.envelope, mail_from=f"bounces@{settings.sender.bounce_domain}", rcpt_to=seed
    )
    transport = campaign.transport

    async def go() -> Outcome:
        await transport.open()
        try:
            return await transport.send(envelope, prepared.data)
        finally:
            await transport.close()

    outcome = asyncio.run(go())
    ledger = open_ledger(settings)
    try:
        ledger.record_test(
            notice=campaign.notice.name,
            seed=seed,
            accepted=outcome.accepted,
            reply=f"{outcome.code} {outcome.text}",
        )
    finally:
        ledger.close()
    return outcome
