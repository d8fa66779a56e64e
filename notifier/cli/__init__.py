"""The `notify` command line: parsers, dispatch and output; no business logic."""

from __future__ import annotations

from notifier.cli.app import main

__all__ = ["main"]
