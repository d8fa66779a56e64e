"""The send plan's channel gate: every person of the segment gets a decision (recorded in the
ledger), and only those whose channel is email become targets of an email notice.

``force`` (`notify send --force`) lets the others through too — the email is then in addition to
their letter, not their notice — except a compromised mailbox we provide: the statutes (CA
1798.82, DE 12B-102(f), NJ 56:8-163, MD 14-3504(i)(3)) say a notice there is no notice, and the
attacker may read that mailbox, so no flag sends it there.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from notifier.channels.decide import Channel
from notifier.channels.memo import DecisionMemo
from notifier.channels.policy import ChannelPolicy
from notifier.ledger.base import ChannelRow

__all__ = ["ChannelGate", "RECORD_BATCH", "channel_plan"]

# Decisions held before they are recorded: one plan batch (notifier.ledger.sqlite.plan.PLAN_BATCH),
# so memory stays flat at any list size (issue 15 must-have 3).
RECORD_BATCH = 5000


class ChannelGate:
    """Decides each person the plan reads, counts, and hands the decisions to ``record`` a batch
    at a time: only the counts and one batch of decisions are held, whatever the list's size."""

    def __init__(
        self,
        policy: ChannelPolicy,
        *,
        key: Callable[[str], str],
        force: bool = False,
        batch: int = RECORD_BATCH,
    ) -> None:
        self.policy = policy
        self.force = force
        self._key = key
        self._batch = batch
        self._pending: list[ChannelRow] = []
        self._record: Callable[[list[ChannelRow]], object] | None = None
        self.recorded: int = 0  # decisions handed to ``record`` so far
        self.by_channel: Counter[str] = Counter()
        self.forced: Counter[str] = Counter()  # not-email people let through by --force, by channel
        self.never: int = 0  # compromised mailboxes: never emailed
        self._memo = DecisionMemo(policy)
        self._version = policy.rules.version

    def record_into(self, record: Callable[[list[ChannelRow]], object]) -> None:
        """Where the decisions go (the ledger's ``record_channels`` for the notice), each time a
        batch is full and at :meth:`flush`."""
        self._record = record

    def include(
        self, matches: Callable[[dict[str, Any], str], bool] | None
    ) -> Callable[[dict[str, Any], str], bool]:
        """``matches`` (the segment; None: everyone) narrowed to those this notice may be emailed to."""

        def admit(view: dict[str, Any], where: str) -> bool:
            if matches is not None and not matches(view, where):
                return False
            return self.admit(view)

        return admit

    def admit(self, view: Mapping[str, Any]) -> bool:
        outcome = self._memo.outcome(view)  # decided once per kind of row (channels.memo)
        decision = outcome.decision
        email = str(view.get("email", ""))
        if email:  # an invalid row (no usable address) has no recipient to record against
            self._pending.append(
                ChannelRow(
                    key=self._key(email),
                    channel=decision.channel.value,
                    rule=decision.rule,
                    reason=decision.reason,
                    jurisdiction=outcome.jurisdiction,
                    log_required=decision.log_required,
                    rules_version=self._version,
                )
            )
            if len(self._pending) >= self._batch and self._record is not None:
                self.flush()
        self.by_channel[decision.channel.value] += 1
        if outcome.never_email:  # a compromised mailbox we provide: whatever --force says
            self.never += 1
            return False
        if decision.channel is Channel.EMAIL or not self.policy.apply:
            return True
        if self.force:
            self.forced[decision.channel.value] += 1
            return True
        return False

    def flush(self) -> int:
        """Hand the decisions not yet recorded to ``record`` (one call, one batch); how many."""
        rows, self._pending = self._pending, []
        if rows and self._record is not None:
            self._record(rows)
            self.recorded += len(rows)
        return len(rows)

    def rows(self) -> list[ChannelRow]:
        """The decisions not yet recorded, then forgotten here (without ``record_into``: all)."""
        rows, self._pending = self._pending, []
        return rows

    def summary(self) -> dict[str, Any]:
        """Counts only (no personal data): for the screen and the audit log."""
        return {
            "by_channel": dict(sorted(self.by_channel.items())),
            "forced": dict(sorted(self.forced.items())),
            "compromised_mailbox_never_emailed": self.never,
            "rules_version": self.policy.rules.version,
            "applied": self.policy.apply,
        }


def channel_plan(gate: ChannelGate) -> str:
    """What the gate did, for the send plan on screen (counts only)."""
    by = gate.by_channel
    if not by:
        return ""
    email, postal, none = by[Channel.EMAIL.value], by[Channel.POSTAL.value], by[Channel.NONE.value]
    text = (
        f"Channels:   {email} by email, {postal} by letter, {none} with no lawful channel "
        "— `notify channels` shows who and why.\n"
    )
    if not gate.policy.apply:
        text += (
            f"WARNING:    [channels] apply = false: the {postal + none} whose lawful channel is not email "
            "are emailed too, and that email is not their legal notice.\n"
        )
    elif gate.force and gate.forced:
        text += (
            f"--force:    {sum(gate.forced.values())} whose lawful channel is not email get this email TOO "
            "(recorded in the audit log); it does not replace their letter.\n"
        )
    elif postal + none:
        text += f"            The {postal + none} others are not emailed this notice"
        text += " (`notify letters build` prints the letters).\n" if postal else ".\n"
        if none:
            text += (
                f"            {none} cannot be reached lawfully with the data held: "
                "add their consent evidence or postal address.\n"
            )
    if gate.never:
        text += (
            f"Never:      {gate.never} address(es) are mailboxes we provide whose login leaked: they are "
            "never sent the notice, not even with --force.\n"
        )
    return text
