"""The Ledger boundary the pipeline depends on. SQLite implements it today; another
backend (PostgreSQL, for several senders) implements the same methods and states."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from notifier.ledger.sqlite import BounceEntry, Claimed, ImportSummary, PlanSummary, Result
from notifier.models import ListRow

__all__ = ["Ledger"]


class Ledger(Protocol):
    path: Path

    def secret(self) -> bytes: ...
    def lock(self) -> None: ...
    def close(self) -> None: ...
    def import_list(self, path: str, sha256: str, rows: Iterable[ListRow]) -> ImportSummary: ...
    def plan(
        self,
        notice: str,
        list_ids: list[int],
        include: Callable[[dict[str, Any], str], bool],
        *,
        resend: bool = False,
        first_notice: str = "",
        follow_up: bool = False,
    ) -> PlanSummary: ...
    def targets_to_send(self, now: float) -> Iterator[Claimed]: ...
    def start_run(self, notice: str, segment: str, transport: str, options: dict[str, Any]) -> int: ...
    def recover_in_flight(self) -> int: ...
    def claim(self, run_id: int, limit: int, now: float, results: list[Result]) -> list[Claimed]: ...
    def record(self, run_id: int, results: list[Result]) -> None: ...
    def release(self, rows: Iterable[int]) -> None: ...
    def next_retry_at(self) -> float | None: ...
    def end_run(self, run_id: int, status: str, summary: dict[str, Any]) -> None: ...
    def rate_share(self) -> float: ...
    def record_bounce_outcome(
        self,
        *,
        digest: str,
        source: str,
        kind: str,
        entries: Sequence[BounceEntry],
        event_at: float | None = None,
        also_seen_as: Sequence[str] = (),
        soft_threshold: int = 3,
        soft_span: float = 86400.0,
        on_suppress: Callable[[str, str], None] | None = None,
    ) -> int | None: ...
    def record_check(
        self, *, kind: str, notice: str, run_id: int | None, failed: list[str], report: dict[str, Any]
    ) -> None: ...
