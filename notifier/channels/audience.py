"""Everyone of a segment with their channel decision, read from the lists as `send` reads them.

`notify channels`, the preview and the evidence pack ask here before (or without) a send; the
send plan records the same decisions in the ledger (notifier.channels.gate), from the same
policy, so the counts here are the counts `send` acts on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from notifier.channels.decide import Channel, ChannelDecision
from notifier.channels.policy import ChannelPolicy, policy_for
from notifier.lists import audience
from notifier.lists.segments import Segment
from notifier.settings import Settings

__all__ = ["ChannelTable", "channel_table", "decided_members"]


@dataclass
class ChannelTable:
    """How many people each (jurisdiction, channel, rule, reason) holds. No personal data."""

    segment: str
    notice: str
    rules_version: str
    applied: bool
    counts: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    log_required: int = 0
    warnings: tuple[str, ...] = ()

    def by_channel(self) -> dict[str, int]:
        out = {c.value: 0 for c in Channel}
        for (_j, channel, _r, _w), n in self.counts.items():
            out[channel] += n
        return out

    def by_jurisdiction(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for (j, channel, _r, _w), n in sorted(self.counts.items()):
            row = out.setdefault(j, {c.value: 0 for c in Channel})
            row[channel] += n
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "segment": self.segment,
            "notice": self.notice,
            "rules_version": self.rules_version,
            "applied_by_send": self.applied,
            "people": sum(self.counts.values()),
            "by_channel": self.by_channel(),
            "by_jurisdiction": self.by_jurisdiction(),
            "reasons": [
                {"jurisdiction": j, "channel": c, "rule": r, "reason": w, "people": n}
                for (j, c, r, w), n in sorted(self.counts.items())
            ],
            "log_required": self.log_required,
            "warnings": list(self.warnings),
        }


def decided_members(
    settings: Settings,
    segment: Segment,
    *,
    notice: str,
    files: Sequence[Path] = (),
    policy: ChannelPolicy | None = None,
) -> Iterator[tuple[audience.Member, ChannelDecision]]:
    """Each member of ``segment`` (with ledger state) and their channel decision, in list order.

    Raises ListError / SegmentError / ConfigError as the audience and the rules do.
    """
    chosen = policy or policy_for(settings)
    lists = audience.read_lists(tuple(files or settings.list_files))
    first = audience.first_notice_of(settings, notice)
    with audience.open_reader(settings) as reader:
        for member in audience.members(lists, segment, reader, notice=notice, first_notice=first):
            yield member, chosen.decide(member.view)


def channel_table(
    settings: Settings, segment: Segment, *, notice: str, files: Sequence[Path] = ()
) -> ChannelTable:
    policy = policy_for(settings)
    table = ChannelTable(
        segment.name, notice, policy.rules.version, policy.apply, warnings=policy.rules.warnings
    )
    for member, decision in decided_members(settings, segment, notice=notice, files=files, policy=policy):
        where = policy.jurisdiction(member.view)
        table.counts[(where, decision.channel.value, decision.rule, decision.reason)] += 1
        table.log_required += decision.log_required
    return table
