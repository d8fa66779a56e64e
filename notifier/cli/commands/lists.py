"""`notify lists check`: the lists as `send` reads them, every rejected row named."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any, TextIO

from notifier import csvsafe
from notifier.channels.columns import check_fields
from notifier.checks.dns.resolver import make_resolver
from notifier.cli.options import Subparsers, add_json, add_lists, settings
from notifier.errors import did_you_mean
from notifier.lists import audience
from notifier.private import private_text
from notifier.render.notice import DEFAULT_CATEGORIES
from notifier.settings import Settings

__all__ = ["channel_evidence", "check", "register"]

_SECTIONS = (
    ("Rejected (will not be sent; recorded as invalid)", ("invalid", "malformed")),
    ("Duplicates (merged into the first row)", ("duplicate",)),
    ("Unknown data categories (fix the code, or describe it under [categories])", ("unknown-category",)),
    ("Channel evidence that cannot be read (fix it; README: Letters and other channels)", ("channel",)),
    ("Warnings (will be sent)", ("warning",)),
)


def register(sub: Subparsers) -> None:
    lists = sub.add_parser("lists", help="inspect subscriber lists")
    lsub = lists.add_subparsers(dest="lists_command", metavar="ACTION", required=True)
    p = lsub.add_parser(
        "check",
        help="validate the lists and show every rejected row",
        description="Read the lists as `send` would, without touching the ledger, and "
        "show every rejected row (file:line and reason), merged duplicates and warnings.",
    )
    add_lists(p, "check this CSV instead of [lists] files (repeatable)")
    p.add_argument("--export", type=Path, metavar="FILE", help="write rejected and duplicate rows to a CSV")
    p.add_argument(
        "--check-deliverability",
        action="store_true",
        help="also look up each domain's mail servers (MX) in DNS",
    )
    add_json(p)


def check(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    current = settings(args)
    files = tuple(args.lists or current.list_files)
    resolver = None
    if args.check_deliverability:
        resolver = make_resolver(current.nameservers, timeout=current.dns_timeout)
    # The audience's reading of the lists: the same merge as the import, nothing written.
    lists = audience.read_lists(files, check_deliverability=args.check_deliverability, dns_resolver=resolver)
    issues = lists.issues + unknown_categories(lists, current) + channel_evidence(lists)
    rejected = [i for i in issues if i["kind"] in ("invalid", "malformed", "unknown-category", "channel")]
    if args.json:
        data = {
            "lists": [dataclasses.asdict(i) for i in lists.summaries],
            "recipients": len(lists.recipients),
            "issues": issues,
        }
        json.dump(data, out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        _write_text(lists, issues, rejected, out)
    if args.export:
        _export(args.export, issues, out if not args.json else None)
    return 1 if rejected else 0


def unknown_categories(lists: audience.Lists, current: Settings) -> list[dict[str, Any]]:
    """A row whose `exposed` names a category that neither [categories] nor the built-ins know:
    the notice could not say what was exposed (GEN-02), so `lists check` names the row."""
    known = {**DEFAULT_CATEGORIES, **current.facts.get("categories", {})}
    found = []
    for r in lists.recipients:
        exposed = r.fields.get("exposed") or []
        for code in [exposed] if isinstance(exposed, str) else exposed:
            if code not in known:
                hint = did_you_mean(code, known) or "add it under [categories] in notify.toml"
                found.append(
                    {
                        "file": r.source,
                        "line": r.line,
                        "kind": "unknown-category",
                        "reason": f"unknown data category {code!r} in exposed ({hint})",
                        "email": r.email,
                        "raw": "",
                    }
                )
    return found


def channel_evidence(lists: audience.Lists) -> list[dict[str, Any]]:
    """A consent, channel or address value the channel rules cannot read (issue 16): the person's
    channel would be decided on nothing, so `lists check` names the row."""
    return [
        {"file": r.source, "line": r.line, "kind": "channel", "reason": problem, "email": r.email, "raw": ""}
        for r in lists.recipients
        for problem in check_fields(r.fields)
    ]


def _write_text(
    lists: audience.Lists, issues: list[dict[str, Any]], rejected: list[dict[str, Any]], out: TextIO
) -> None:
    imports = lists.summaries
    for imp in imports:
        out.write(
            f"{imp.path}: {imp.rows} rows — {imp.valid} usable, {imp.invalid} rejected, "
            f"{imp.duplicates} duplicates merged, {imp.warnings} warnings\n"
        )
    for title, kinds in _SECTIONS:
        chosen = [i for i in issues if i["kind"] in kinds]
        if chosen:
            out.write(f"\n{title}:\n")
            for i in chosen:
                out.write(f"  {i['file']}:{i['line']}: {i['reason']}\n")
    if len(imports) > 1:
        out.write(f"\n{len(lists.recipients)} people across the lists (each address once)\n")
    if rejected:
        out.write("\nFix these rows in the list (or export them with --export FILE) and check again.\n")


def _export(target: Path, issues: list[dict[str, Any]], out: TextIO | None) -> None:
    with private_text(target) as fh:
        writer = csvsafe.dict_writer(fh, ["file", "line", "kind", "reason", "email", "raw"])
        writer.writeheader()
        writer.writerows(i for i in issues if i["kind"] != "warning")
    if out is not None:
        out.write(f"Wrote {sum(1 for i in issues if i['kind'] != 'warning')} rows to {target}\n")
