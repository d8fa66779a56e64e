"""The ledger: every (notice, recipient) with its state, and every attempt."""

from __future__ import annotations

from .sqlite import Claimed, ImportSummary, PlanSummary, Result, SqliteLedger

__all__ = ["Claimed", "ImportSummary", "PlanSummary", "Result", "SqliteLedger"]
