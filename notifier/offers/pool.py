"""Before the first message: does every pool hold enough codes for the people about to be
written to, and then issue each of them their code (in the ledger, atomically).

Both passes stream the run's targets; only a batch of keys is held at a time.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from notifier.compliance.offers import MINORS, choose
from notifier.errors import ChecksFailed
from notifier.ledger import Claimed, Ledger
from notifier.settings import Settings

__all__ = ["PoolNeed", "issue_codes", "pool_needs", "refuse_shortfall"]

_BATCH = 500


@dataclass(frozen=True, slots=True)
class PoolNeed:
    offer: str
    pool: str
    need: int  # people of this run who qualify and hold no code yet
    free: int  # codes of the pool nobody holds

    @property
    def short(self) -> int:
        return max(0, self.need - self.free)


def _batches(settings: Settings, targets: Iterable[Claimed]) -> Iterable[list[tuple[str, str, str]]]:
    """(key, offer, pool) of each target that gets an offer, in batches."""
    batch: list[tuple[str, str, str]] = []
    for claimed in targets:
        choice = choose(claimed.recipient.template_view(), settings.offers, settings.facts)
        if choice is None:
            continue
        batch.append((claimed.recipient.key, choice.offer.name, choice.pool))
        if len(batch) >= _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def pool_needs(ledger: Ledger, settings: Settings, targets: Iterable[Claimed]) -> list[PoolNeed]:
    """Per (offer, pool): how many codes this run must still issue, and how many are free."""
    if not settings.offers:
        return []
    need: Counter[tuple[str, str]] = Counter()
    for batch in _batches(settings, targets):
        held = ledger.offer_codes_of([k for k, _, _ in batch])
        for key, offer, pool in batch:
            if offer not in held.get(key, {}):
                need[offer, pool] += 1
    return [PoolNeed(o, p, n, ledger.offer_free(o, p)) for (o, p), n in sorted(need.items())]


def refuse_shortfall(needs: list[PoolNeed]) -> None:
    """Raises ChecksFailed, before anything is sent, when a pool cannot cover this run."""
    short = [n for n in needs if n.short]
    if not short:
        return
    lines = "\n".join(
        f"  {n.offer} ({n.pool} pool): {n.need} people need a code, {n.free} free — {n.short} short"
        for n in short
    )
    minors = any(n.pool == MINORS for n in short)
    raise ChecksFailed(
        "nothing was sent: not enough credit-monitoring codes for this run\n" + lines,
        hint="import more codes from the vendor (`notify offers import FILE --offer NAME"
        + (" [--pool minors]" if minors else "")
        + "`), then run the same command again"
        + ("; people marked as minors in the list need codes imported with --pool minors" if minors else ""),
    )


def issue_codes(
    ledger: Ledger, settings: Settings, targets: Callable[[], Iterable[Claimed]]
) -> dict[str, dict[str, tuple[str, str]]]:
    """Issue a code to everyone of the run who qualifies and has none. Returns the code of
    everyone of the run who gets an offer (key -> offer -> (code, pool)), issued now or before.
    Raises ChecksFailed when a pool runs out meanwhile (another sender took codes)."""
    out: dict[str, dict[str, tuple[str, str]]] = {}
    if not settings.offers:
        return out
    short: Counter[tuple[str, str]] = Counter()
    now = time.time()
    for batch in _batches(settings, targets()):
        held = ledger.offer_codes_of([k for k, _, _ in batch])
        wants: dict[str, list[tuple[str, str]]] = {}
        for key, offer, pool in batch:
            mine = held.get(key, {}).get(offer)
            if mine is None:
                wants.setdefault(offer, []).append((key, pool))
            else:
                out.setdefault(key, {})[offer] = mine
        for offer, pairs in wants.items():
            codes, missing = ledger.issue_codes(offer, pairs, now)
            pools = dict(pairs)
            for key, code in codes.items():
                out.setdefault(key, {})[offer] = (code, pools[key])
            for key in missing:
                short[offer, pools[key]] += 1
    if short:
        refuse_shortfall(
            [
                PoolNeed(o, p, n + ledger.offer_free(o, p), ledger.offer_free(o, p))
                for (o, p), n in short.items()
            ]
        )
    return out
