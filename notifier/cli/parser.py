"""The `notify` parser: the options every command shares, then each command group's own
(declared in :mod:`notifier.cli.commands`), in the order `notify --help` lists them."""

from __future__ import annotations

import argparse

from notifier import __version__
from notifier.cli.commands import (
    audit,
    bounces,
    channels,
    check,
    deadlines,
    digest,
    dkim,
    init,
    letters,
    lint,
    lists,
    offers,
    preview,
    regulators,
    report,
    schedule,
    send,
    serve,
    status,
    substitute,
    suppress,
)

__all__ = ["build", "command_of"]

_GROUPS = (
    init,
    lists,
    send,
    check,
    preview,
    schedule,
    audit,
    serve,
    lint,
    deadlines,
    digest,
    offers,
    regulators,
    channels,
    substitute,
    letters,
    dkim,
    bounces,
    suppress,
    status,
    report,
)


def build() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="notify",
        description="Send personalised data-breach notices, check them first, and record every attempt.",
    )
    p.add_argument("--version", action="version", version=f"notify {__version__}")
    p.add_argument(
        "--config", metavar="PATH", help="campaign configuration (default ./notify.toml, or $NOTIFY_CONFIG)"
    )
    p.add_argument(
        "--ledger",
        metavar="URL",
        help="postgresql://USER@HOST/DB or sqlite:PATH instead of [ledger] (password: PGPASSWORD, ~/.pgpass)",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in _GROUPS:
        group.register(sub)
    return p


def command_of(args: argparse.Namespace) -> str:
    """The command as typed, e.g. "suppress add", "check spf", "schedule": the dispatch key.
    A group's action is in ``<group>_command`` (absent or None when the group has none)."""
    action = getattr(args, f"{args.command.replace('-', '_')}_command", None)
    return f"{args.command} {action}" if action else str(args.command)
