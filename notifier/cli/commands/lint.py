"""`notify lint`: does each notice say what the recipient's law requires?"""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from notifier.cli.options import Subparsers, add_json, add_notice, add_segment, settings
from notifier.compliance.lint import lint_campaign, write_lint
from notifier.lists.segments import resolve
from notifier.pipeline.campaign import notice_context
from notifier.render.notice import load_notice

__all__ = ["lint", "register"]


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "lint",
        help="does each notice say what the recipient's law requires?",
        description="Check the rendered notice of every recipient against the content rules "
        "of their jurisdiction (EU/UK GDPR, US states) and exposed data. Exit 1 on any ERROR.",
    )
    add_segment(p, "who to lint (default all)", default="all")
    add_notice(p, "notice to lint (default: [campaign] notice)")
    add_json(p)


def lint(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    current = settings(args)
    name = args.notice or current.notice
    notice = load_notice(current.templates_dir, name, notice_context(current, name))
    segment = resolve(args.segment, current.segments, path=str(current.path), lines=current.segment_lines)
    linted = lint_campaign(current, notice, segment)
    if args.json:
        json.dump(linted.as_dict(), out, indent=2)
        out.write("\n")
    else:
        write_lint(linted, out)
    return 1 if linted.errors else 0
