"""Score the bounce parser on ../shared/data/bounces-dev (181 real bounces with expected answers),
and flufl.bounce on the same samples as the reference point (it finds addresses only).

    python bench/bounces_score.py [--show-misses]

Targets (issue): bounced recipient found for >= 97% of bounces, hard/soft right for >= 95% of
recipients, reason right for >= 85% (Sisimai's vocabulary; ours is mapped onto it below).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from notifier.bounces.parse import parse_bounce
from notifier.bounces.reasons import SISIMAI as TO_SISIMAI

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "bounces-dev"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--show-misses", action="store_true")
    args = ap.parse_args()
    if not DATA.exists():
        raise SystemExit(f"no corpus at {DATA}")
    import email
    from typing import Any

    # flufl.bounce is an optional reference point, not a dependency: imported by name so the
    # strict type check passes on a machine without it (the score is then printed without it).
    scan_message: Any = None
    with contextlib.suppress(ImportError):
        scan_message = importlib.import_module("flufl.bounce").scan_message

    cases = [json.loads(line) for line in (DATA / "cases.jsonl").open()]
    found = found_total = flufl_found = 0
    hard_ok = hard_total = reason_ok = reason_total = 0
    misses: list[tuple[str, list[str], list[str]]] = []
    for case in cases:
        raw = (DATA / "samples" / case["file"]).read_bytes()
        parsed = parse_bounce(raw)
        expected = {a.lower() for a in case["recipients"]}
        got = {r.address for r in parsed.recipients}
        if case["kind"] == "bounce":
            found_total += 1
            if got == expected:
                found += 1
            else:
                misses.append((case["file"], sorted(expected), sorted(got)))
            if scan_message is not None:
                theirs = {
                    a.decode().lower() if isinstance(a, bytes) else str(a).lower()
                    for a in scan_message(email.message_from_bytes(raw))
                }
                flufl_found += theirs == expected
        by_address = {r.address: r for r in parsed.recipients}
        for expect in case["per_recipient"]:
            mine = by_address.get((expect["address"] or "").lower())
            if expect["hard"] is not None:
                hard_total += 1
                hard_ok += mine is not None and mine.hard == expect["hard"]
            if expect["reason"] and case["kind"] == "bounce":
                reason_total += 1
                reason_ok += mine is not None and TO_SISIMAI.get(mine.reason) == expect["reason"]
    print(f"recipients found (exact set): {found}/{found_total} = {found / found_total:.1%}")
    if scan_message is not None:
        print(
            f"flufl.bounce, same samples:   {flufl_found}/{found_total} = {flufl_found / found_total:.1%} "
            f"(ratio {found / max(1, flufl_found):.2f}x)"
        )
    print(f"hard/soft right:               {hard_ok}/{hard_total} = {hard_ok / hard_total:.1%}")
    print(f"reason right (Sisimai names):  {reason_ok}/{reason_total} = {reason_ok / reason_total:.1%}")
    if args.show_misses:
        for file, want, have in misses:
            print(f"  {file}: expected {want}, got {have}")


if __name__ == "__main__":
    main()
