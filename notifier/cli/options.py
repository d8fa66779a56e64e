"""What every command module shares: the handler shape, option helpers and value types.

An option several commands take (``--segment``, ``--notice``, ``--json``) is declared here once,
so its spelling and behaviour cannot drift between commands; each command passes only its own
help text and default.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, TypeAlias

from notifier.errors import UsageError, did_you_mean
from notifier.ledger import ledger_exists, open_ledger
from notifier.settings import Settings, config_path, load, parse_duration

if TYPE_CHECKING:
    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]
else:  # not subscriptable at run time
    Subparsers = argparse._SubParsersAction

__all__ = [
    "Handler",
    "Subparsers",
    "add_json",
    "add_lists",
    "add_notice",
    "add_segment",
    "after",
    "known_notice",
    "seconds",
    "settings",
    "whole",
]

# A command: parsed arguments, where output goes, where answers come from -> exit code.
Handler = Callable[[argparse.Namespace, TextIO, TextIO], int]

JSON_HELP = "machine-readable output"


def add_segment(
    p: argparse.ArgumentParser, help: str, *, default: str | None = None, required: bool = False
) -> None:
    p.add_argument("--segment", default=default, required=required, help=help)


def add_notice(p: argparse.ArgumentParser, help: str = "") -> None:
    p.add_argument("--notice", help=help)


def add_json(p: argparse.ArgumentParser, *, suppress: bool = False) -> None:
    """``--json``; ``suppress``: absent from the namespace unless given (a subcommand's own
    --json must not reset the parent command's)."""
    if suppress:
        p.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help=JSON_HELP)
    else:
        p.add_argument("--json", action="store_true", help=JSON_HELP)


def add_lists(p: argparse.ArgumentParser, help: str) -> None:
    p.add_argument("--list", dest="lists", action="append", type=Path, metavar="PATH", help=help)


def whole(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number in [low, high], so a typo is a usage error (exit 2)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low or (high is not None and value > high):
            span = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise argparse.ArgumentTypeError(f"{text!r} is out of range: use a whole number {span}")
        return value

    return parse


def seconds(low: float, high: float) -> Callable[[str], float]:
    """An argparse type: a finite number of seconds in [low, high] (nan and inf are not)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and low <= value <= high):
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds from {low:g} to {high:g}")
        return value

    return parse


def after(text: str) -> float:
    """``--after``: 7d, 36h, 90m, 30s (at most two years: a later date is a typo, and would not fit
    in the dates shown)."""
    try:
        value = parse_duration(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time such as 7d, 36h, 90m or 30s (days, hours, minutes, seconds)"
        ) from None
    if value > 730 * 86400:
        raise argparse.ArgumentTypeError(f"{text!r} is more than two years (730d)")
    return value


def settings(args: argparse.Namespace) -> Settings:
    """The campaign's settings, with --ledger and --transport applied."""
    environ = dict(os.environ)
    if getattr(args, "ledger", None):
        environ["NOTIFY_LEDGER"] = args.ledger
    return load(
        config_path(args.config), environ=environ, transport_override=getattr(args, "transport", None)
    )


# Commands whose --notice names a folder of templates to render; `report` also knows the
# notices its ledger recorded (a notice may have been sent and its folder renamed since).
_RENDERING = frozenset({"send", "check", "lint", "schedule", "deadlines"})
_RECORDED = frozenset({"report"})


def known_notice(args: argparse.Namespace) -> None:
    """Refuse a --notice that names no notice, suggesting the closest one (before any ledger
    is opened or created)."""
    name = getattr(args, "notice", None)
    if not name or args.command not in _RENDERING | _RECORDED:
        return
    current = settings(args)
    folder = current.templates_dir
    names = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    if args.command in _RECORDED:
        if name in names:
            return
        names = sorted(set(names) | set(_recorded_notices(current)))
        if not names:
            return  # nothing to compare with: an empty report says it
    elif not folder.is_dir():
        return  # loading the notice says what is missing
    if name not in names:
        where = f"in {folder}" if args.command in _RENDERING else "in templates/ or the ledger"
        raise UsageError(
            f"unknown notice {name!r}; the notices {where} are: {', '.join(names) or 'none'}",
            hint=did_you_mean(name, names)
            or f"pick one of those, or create {folder}/{name}/ with subject.txt, body.html and body.txt",
        )


def _recorded_notices(current: Settings) -> list[str]:
    if not ledger_exists(current):
        return []
    ledger = open_ledger(current)
    try:
        return list(ledger.notices())
    finally:
        ledger.close()
