"""`notify letters build` and `notify letters returned`: print-ready letters for the mail house,
and its returned-mail file read back (issue 16)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

from notifier.channels.audience import decided_members
from notifier.cli.options import Subparsers, add_notice, add_segment, settings, whole
from notifier.errors import ConfigError
from notifier.ledger import Claimed, open_ledger
from notifier.letters.build import BuildReport, build_letters
from notifier.letters.eligible import LetterJob, NoLetter, eligible
from notifier.letters.returns import read_returns
from notifier.lists.segments import resolve
from notifier.locks import hold_lock
from notifier.offers.context import IssuedCodes
from notifier.offers.pool import issue_codes, pool_needs, refuse_shortfall
from notifier.pipeline.campaign import notice_context, recipient_context
from notifier.render.letters import LetterTemplate
from notifier.render.notice import load_notice
from notifier.settings import Settings

__all__ = ["build", "register", "returned"]

SHOWN = 20  # people without a letter listed by row; the rest are counted


def register(sub: Subparsers) -> None:
    p = sub.add_parser("letters", help="print-ready letters for the mail house, and returned mail")
    lsub = p.add_subparsers(dest="letters_command", metavar="ACTION", required=True)
    b = lsub.add_parser(
        "build",
        help="batch PDFs of the letters plus a manifest CSV for the mail house",
        description="Prints a letter (templates/<notice>/letter.html) for everyone of the segment "
        "whose lawful channel is a letter — with --segment unreached, for everyone email did not "
        "reach who has a postal address — into batch PDFs of [letters] batch_size letters and a "
        "manifest CSV (recipient id, file, first page, page count, address lines). A deceased "
        "person's letter goes to their next of kin. Monitoring-offer codes are issued first, as "
        "`notify send` issues them (the same code an email carried); a pool too small prints "
        "nothing. Resumes where a stopped build left off; people who need a letter but have no "
        "usable address are listed by row. Exit 1 when anyone is.",
    )
    add_segment(b, "who to write to (e.g. affected, or unreached after email bounced)", required=True)
    add_notice(b, "notice to print (default: [campaign] notice)")
    b.add_argument(
        "--output", type=Path, required=True, metavar="DIR", help="folder for the PDFs (created 0700)"
    )
    b.add_argument(
        "--batch-size", type=whole(1, 5000), metavar="N", help="letters per PDF ([letters] batch_size)"
    )
    b.add_argument("--workers", type=whole(1, 32), metavar="N", help="printing processes ([letters] workers)")
    r = lsub.add_parser(
        "returned",
        help="mark the letters in the mail house's returned-mail file as returned (unreached)",
        description="Reads a CSV with recipient_id (as in the manifest) or row (the manifest's row "
        "number), and optionally reason. Those letters are marked returned: the people count as "
        "unreached in `notify report --unreached`. Lines that name no letter are listed (exit 1).",
    )
    r.add_argument("file", type=Path, metavar="RETURNS.CSV", help="the mail house's returned-mail file")
    add_notice(r, "notice the letters were for (default: [campaign] notice)")


def _return_lines(current: Settings) -> tuple[str, ...]:
    lines = current.letters.layout.return_address
    if not lines:
        raise ConfigError(
            "[letters] return_address is not set: undeliverable letters could not come back to you",
            path=str(current.path),
            hint='add to notify.toml:  [letters]  return_address = ["Example Ltd", "PO Box 123", '
            '"Springfield IL 62701"]',
        )
    return lines


def _offer_targets(jobs: Iterable[LetterJob | NoLetter]) -> Iterator[Claimed]:
    """The people about to get a letter, as the offer pool counts and issues codes to them."""
    for job in jobs:
        if isinstance(job, LetterJob) and job.recipient is not None:
            yield Claimed(0, job.recipient, 0, None, False)


def build(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    current = settings(args)
    name = args.notice or current.notice
    _return_lines(current)
    segment = resolve(args.segment, current.segments, path=str(current.path), lines=current.segment_lines)
    notice = load_notice(current.templates_dir, name, notice_context(current, name))
    template = LetterTemplate(notice, current.letters.layout)
    lock = hold_lock(
        current.ledger_path.with_name(current.ledger_path.name + ".letters.lock"),
        "another `notify letters build` is running ({holder})",
        "wait for it to finish; a stopped build resumes when run again",
    )
    ledger = open_ledger(current)
    try:
        built = ledger.letters_built(name)

        def letter_jobs() -> Iterator[LetterJob | NoLetter]:
            people = decided_members(current, segment, notice=name)
            return eligible(
                people, segment=segment.name, built=built, home_country=current.letters.home_country or None
            )

        # Monitoring-offer codes, as `send` does (issue 17): a pool too small for these letters
        # stops the build before the first one is printed; then everyone to be written to who
        # qualifies is issued their code — the one they already hold when email got there first.
        codes = IssuedCodes()
        if current.offers:
            refuse_shortfall(pool_needs(ledger, current, _offer_targets(letter_jobs())))
            codes.update(issue_codes(ledger, current, lambda: _offer_targets(letter_jobs())))
        jobs = letter_jobs()

        def progress(report: BuildReport) -> None:
            sys.stderr.write(f"  batch {report.batches}: {report.built} letters, {report.pages} pages\n")

        report = build_letters(
            jobs,
            template=template,
            store=ledger,
            notice=name,
            output=args.output,
            batch_size=args.batch_size or current.letters.batch_size,
            workers=args.workers or current.letters.workers,
            progress=progress,
            # The offer and its code, as the email gets them (a person without an issued code
            # is listed, never printed with a sample code).
            context=(lambda job: recipient_context(current, job.view, job.key, codes=codes))
            if current.offers
            else None,
        )
    finally:
        ledger.close()
        os.close(lock)
    rate = report.built / report.seconds if report.seconds and report.built else 0.0
    out.write(
        f"Printed {report.built} letters ({report.pages} pages) in {report.batches} batch PDFs"
        + (f", {rate:.1f} letters/s" if rate else "")
        + f"; {len(built)} were printed by an earlier build.\n"
        f"Manifest: {report.manifest}\n"
    )
    for language, count in sorted(template.fallbacks.items()):
        out.write(
            f"NOTE: {count} letters should be in {language!r} but were printed in {notice.language!r}: "
            f"add lang/{language}/letter.html to templates/{name}/ (reviewed) and print them again.\n"
        )
    if report.problems:
        who = "person needs" if len(report.problems) == 1 else "people need"
        out.write(f"\n{len(report.problems)} {who} a letter and got none:\n")
        for p in report.problems[:SHOWN]:
            out.write(f"  {p.where}: {p.reason}\n")
        if len(report.problems) > SHOWN:
            out.write(f"  ... and {len(report.problems) - SHOWN} more\n")
        out.write(
            "Fix their rows in the list and run the same command again: it prints only the missing letters.\n"
        )
        return 1
    return 0


def returned(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    current = settings(args)
    name = args.notice or current.notice
    ledger = open_ledger(current)
    try:
        read = read_returns(args.file, name, ledger)
        marked = ledger.mark_returned(
            name, [(line.letter_id, line.reason) for line in read.found], source=args.file.name
        )
    finally:
        ledger.close()
    out.write(
        f"{len(read.found)} returned letters read; {marked} newly marked returned "
        f"({len(read.found) - marked} were already). They are unreached: `notify report --unreached`.\n"
    )
    if read.problems:
        out.write(f"\n{len(read.problems)} lines name no letter:\n")
        for where, what in read.problems:
            out.write(f"  {where}: {what}\n")
        return 1
    return 0
