"""The relay-refusal watch: a relay that refuses everyone for a problem of ours stops the run.

Those refusals are about our reputation or configuration, not about the people: nobody is
marked failed for them, they go back to the queue and the run stops with the relay's reply.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from notifier.bounces.reasons import REASONS
from notifier.bounces.replies import Classification, advice, quote_reply
from notifier.errors import RelayRefused
from notifier.models import Outcome, Verdict
from notifier.pipeline.build import Prepared
from notifier.pipeline.record import Recorder, RunReport

__all__ = ["RelayWatch", "STOP_AFTER", "relay_refused"]

STOP_AFTER = 20  # identical refusals about us in a row, nothing accepted between: stop the run


@dataclass
class RelayWatch:
    """Tells a relay that refuses everyone for a problem of ours from one that refuses some people.

    A permanent refusal whose reason is ours (``OUR_PROBLEM``: blocked, policy, authentication,
    ...) is held back, not recorded, while it may be the start of a relay-wide refusal.
    ``threshold`` of them in a row with the same code, status and reason, with no acceptance and
    no other permanent reply between, trip the watch: the run stops and they go back to the queue.
    A run that ends having had no other answer than such refusals trips it too (a short list).
    Anything else that is final (an acceptance, another refusal) releases the held ones to be
    recorded as the failures they are. Temporary replies neither break nor extend a streak.
    """

    threshold: int = STOP_AFTER
    held: list[tuple[Prepared, Outcome, Classification]] = field(default_factory=list)
    tripped: tuple[Outcome, Classification] | None = None
    other_final: bool = False  # this run had an acceptance or another permanent reply

    @staticmethod
    def suspect(outcome: Outcome, reply: Classification | None) -> bool:
        return outcome.verdict is Verdict.PERMANENT and reply is not None and reply.ours

    def same(self, outcome: Outcome, reply: Classification) -> bool:
        _, first, first_reply = self.held[0]
        return (first.code, first_reply.status, first_reply.reason) == (
            outcome.code,
            reply.status,
            reply.reason,
        )

    def judge(
        self, item: Prepared, outcome: Outcome, reply: Classification | None, recorder: Recorder
    ) -> bool:
        """Settle, hold back or give back one answer; True when it trips the watch (stop the run)."""
        if not self.suspect(outcome, reply):
            if outcome.verdict is not Verdict.TEMPORARY:
                self.other_final = True
                self.release(recorder)
            recorder.settle(item, outcome, reply)
            return False
        assert reply is not None
        if self.tripped is not None:
            recorder.give_back(item, outcome, reply)  # in flight when the run stopped: the same story
            return False
        if self.held and not self.same(outcome, reply):
            self.other_final = True  # a different refusal: neither streak is relay-wide
            self.release(recorder)
        self.held.append((item, outcome, reply))
        if len(self.held) >= self.threshold:
            self.trip(outcome, reply, recorder)
            return True
        return False

    def release(self, recorder: Recorder) -> None:
        """The held refusals were about those people after all: record them as failures."""
        held, self.held = self.held, []
        for h in held:
            recorder.settle(*h)

    def give_back_held(self, recorder: Recorder) -> None:
        held, self.held = self.held, []
        for h in held:
            recorder.give_back(*h)

    def trip(self, outcome: Outcome, reply: Classification, recorder: Recorder) -> None:
        self.tripped = (outcome, reply)
        self.give_back_held(recorder)

    def wrap_up(self, recorder: Recorder, *, cut_short: bool) -> None:
        """Decide what is still held when the run ends (the caller stops the run if it trips)."""
        if not self.held:
            return
        if self.other_final:
            self.release(recorder)
        elif cut_short:
            # Undecided when the run was cut short: back to the queue, not failed.
            self.give_back_held(recorder)
        else:
            # Every final answer of this run was the same refusal about us.
            _, outcome, reply = self.held[-1]
            self.trip(outcome, reply, recorder)


def relay_refused(watch: RelayWatch, report: RunReport) -> RelayRefused:
    """The error that stops a run the relay refused as a whole, with its reply and what to do."""
    assert watch.tripped is not None
    outcome, reply = watch.tripped
    n = report.returned
    return RelayRefused(
        f"stopped: the relay refused the last {n} recipient(s) in a row with the same reply, "
        f"{quote_reply(outcome.code, outcome.text)!r} (reason {reply.reason}: "
        f"{REASONS.get(reply.reason, '')}).\n"
        "That is about our sending reputation or configuration, not about these people: nobody was "
        f"marked failed for it; the {n} refused message(s) wait to be sent again "
        f"({report.sent} sent and {report.failed} failed before the stop).",
        hint=f"{advice(reply.reason)}; then run the same command again (`notify status` shows the reply)",
        summary=report.as_dict(),
    )
