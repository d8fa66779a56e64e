"""`notify status`: counts by state, retry queue, errors by reply code."""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from notifier.cli.options import Subparsers, add_json, settings
from notifier.cli.views import status_data, write_status
from notifier.ledger import open_ledger

__all__ = ["register", "status"]


def register(sub: Subparsers) -> None:
    add_json(sub.add_parser("status", help="counts by state, retry queue, errors by reply code"))


def status(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    ledger = open_ledger(settings(args))
    try:
        data = status_data(ledger)
    finally:
        ledger.close()
    if args.json:
        json.dump(data, out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        write_status(data, out)
    return 0
