"""The ledger: every (notice, recipient) with its state, and every attempt."""

from __future__ import annotations

from .base import Ledger
from .sqlite import Claimed, ImportSummary, PlanSummary, Result, SqliteLedger

__all__ = ["Claimed", "ImportSummary", "Ledger", "PlanSummary", "Result", "SqliteLedger"]
