"""notifier: lawful, personalised data-breach notices that reach the inbox."""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
