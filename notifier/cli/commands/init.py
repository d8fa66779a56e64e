"""`notify init DIR`: a ready-to-run campaign folder."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from notifier.campaign import init_campaign
from notifier.cli.options import Subparsers, whole

__all__ = ["init", "register"]


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "init",
        help="create a ready-to-run campaign folder",
        description="Create a campaign: notify.toml, the built-in templates, a synthetic "
        "list of about 1,000 people and a local outbox transport.",
    )
    p.add_argument("directory", type=Path)
    p.add_argument(
        "--size", type=whole(1, 1_000_000), default=1000, help="people in the synthetic list (default 1000)"
    )


def init(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    made = init_campaign(args.directory, size=args.size)
    out.write(f"Created campaign in {args.directory}:\n" + "".join(f"  {m}\n" for m in made))
    out.write(f"Next: cd {args.directory} && notify lists check && notify send --segment affected\n")
    return 0
