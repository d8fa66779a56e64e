"""`notify audit verify` and `notify audit export`: the tamper-evident trail and the evidence pack."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from notifier.cli.options import Subparsers, settings
from notifier.compliance.evidence import check_audit, export_evidence
from notifier.errors import UsageError
from notifier.ledger import Ledger, ledger_exists, open_ledger
from notifier.settings import Settings

__all__ = ["export", "register", "verify"]


def register(sub: Subparsers) -> None:
    audit = sub.add_parser("audit", help="the campaign's tamper-evident audit trail")
    asub = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    a_verify = asub.add_parser(
        "verify",
        help="check the keyed hash chain: any edited, added, reordered or deleted entry is named",
        description="Checks every entry against the campaign's audit key (NOTIFY_AUDIT_KEY, else "
        ".notify/audit.key beside notify.toml): entries edited, deleted, reordered or added without "
        "the key, a log cut back, emptied or rebuilt without the key, a head removed or forged. "
        "Prints the head hash: write it down elsewhere and pass it back with --head.",
    )
    a_verify.add_argument(
        "--head",
        metavar="HASH",
        help="a head hash printed earlier: also prove the log still reaches it (catches a rebuild "
        "by someone who has the key)",
    )
    a_export = asub.add_parser(
        "export",
        help="write an evidence pack for regulators and counsel",
        description="Writes evidence.json (the audit log, per-notice and per-jurisdiction counts "
        "with times, deadlines met or missed, per-recipient outcomes by list id) and summary.txt "
        "(the same in plain words). No message bodies, no names or addresses.",
    )
    a_export.add_argument(
        "--output", type=Path, required=True, metavar="DIR", help="folder to write (created 0700)"
    )


def _existing_ledger(current: Settings) -> Ledger:
    if not ledger_exists(current):
        raise UsageError(f"no ledger at {current.ledger_path} yet: nothing has been recorded")
    return open_ledger(current)


def verify(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    ledger = _existing_ledger(settings(args))
    try:
        recorded = (args.head or "").strip().lower() or None
        if recorded is not None and (len(recorded) < 16 or recorded.strip("0123456789abcdef")):
            raise UsageError(
                f"--head {args.head!r} is not a head hash",
                hint="pass the hash `notify audit verify` printed (64 hex digits, or its first 16)",
            )
        entries, verdict = check_audit(ledger, recorded=recorded)
        label = ledger.label
    finally:
        ledger.close()
    for w in verdict.warnings:
        out.write(f"WARNING: {w}\n")
    for p in verdict.problems:
        out.write(f"TAMPERED: {p}\n")
    if not verdict.intact:
        out.write(f"The audit log of {label} has been altered ({len(verdict.problems)} problem(s)).\n")
        return 1
    out.write(f"Audit log intact: {len(entries)} entries ({verdict.keyed} keyed), head {verdict.head}\n")
    if verdict.anchor is not None:
        out.write(f"It still reaches the head you recorded (entry {verdict.anchor}).\n")
    out.write(
        "Keep this head hash outside the ledger (incident log, ticket): with --head it proves "
        "every entry up to now is unchanged, even against someone holding the key.\n"
    )
    return 0


def export(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    current = settings(args)
    ledger = _existing_ledger(current)
    try:
        written = export_evidence(current, ledger, args.output)
    finally:
        ledger.close()
    out.write("Wrote " + ", ".join(str(p) for p in written) + "\n")
    return 0
