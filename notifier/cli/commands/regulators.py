"""`notify regulators` (who must be told, how many residents, by when, filed or not) and
`notify regulators draft ID --output DIR` (what that regulator's filing asks for) (issue 17)."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import TextIO

from notifier.cli.options import Subparsers, add_json, add_notice, add_segment, settings
from notifier.compliance.regulator_drafts import write_draft
from notifier.compliance.regulators import regulator_report, write_regulators
from notifier.lists.segments import resolve
from notifier.pipeline.campaign import notice_context
from notifier.render.notice import load_notice

__all__ = ["draft", "register", "show"]


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "regulators",
        help="which regulators must be told, how many residents, by when, filed or not",
        description="From the incident facts and who lives where: each supervisory authority, "
        "attorney general, HHS and credit-bureau notice the rules call for, with the residents "
        "affected, the due time, and whether it is filed (`notify deadlines done ID`). "
        "Exit 1 if one is overdue.",
    )
    add_notice(p, "the notice that counts as telling people (default: [campaign] notice)")
    add_segment(p, "the people the breach affects (default: as `notify deadlines` counts)")
    add_json(p, suppress=True)
    rsub = p.add_subparsers(dest="regulators_command", metavar="ACTION")
    d = rsub.add_parser(
        "draft",
        help="write what one regulator's filing asks for (fields, sample notice without personal data)",
        description="Writes fields.txt and fields.json (each field of the regulator's form, answered "
        "from notify.toml and the ledger, or TO FILL IN) and, for regulators that want a copy of the "
        "notice, sample-notice.html/.txt/.pdf rendered with placeholders: nobody's data. Files are 0600.",
    )
    d.add_argument(
        "regulator", metavar="ID", help="e.g. CA-AG, GDPR-SA, UK-ICO, HHS-OCR (see `notify regulators`)"
    )
    d.add_argument("--output", type=Path, required=True, metavar="DIR", help="folder for the draft")
    add_notice(d, "the notice to sample (default: [campaign] notice)")


def show(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    current = settings(args)
    now = dt.datetime.now(dt.UTC)
    counted = None
    if args.segment:
        counted = resolve(args.segment, current.segments, path=str(current.path), lines=current.segment_lines)
    report = regulator_report(current, args.notice or current.notice, counted)
    write_regulators(report, now, out, as_json=getattr(args, "json", False))
    return 1 if any(o.status(now).upper().startswith("OVERDUE") for _, o in report.due) else 0


def draft(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    current = settings(args)
    name = args.notice or current.notice
    notice = load_notice(current.templates_dir, name, notice_context(current, name))
    made = write_draft(current, notice, args.regulator, args.output)
    out.write(f"Draft for {made.regulator.name} ({made.regulator.id}), {made.residents} resident(s):\n")
    for path in made.files:
        out.write(f"  {path}\n")
    for note in made.notes:
        out.write(f"Note: {note}\n")
    if made.to_fill:
        out.write(f"{made.to_fill} field(s) say TO FILL IN: answer them before filing.\n")
    out.write(f'When it is filed:  notify deadlines done {made.regulator.id} --ref "THEIR-REFERENCE"\n')
    return 0
