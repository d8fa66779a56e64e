"""Score the bounce parser on ../shared/data/bounces-dev (181 real bounces with expected answers),
split by a hash of each file's name into a tuning part (two thirds) and a hold-out third that
rule changes are never tuned on; flufl.bounce on the same samples is the reference point for
finding addresses.

    python bench/bounces_score.py [--show-misses]

Targets (issue 14): bounced recipient found for >= 97% of bounces, hard/soft right for >= 95% of
recipients, reason right for >= 85% (Sisimai's vocabulary; ours is mapped onto it). The hold-out
figure is the one that says whether the rules generalise.
"""

from __future__ import annotations

import argparse
import contextlib
import email
import hashlib
import importlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from notifier.bounces.parse import parse_bounce
from notifier.bounces.reasons import SISIMAI as TO_SISIMAI

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "bounces-dev"


def is_hold_out(file: str) -> bool:
    """One file in three, chosen by a hash of its name: stable across runs and machines."""
    return int(hashlib.sha256(file.encode()).hexdigest(), 16) % 3 == 0


@dataclass
class Score:
    found: int = 0
    found_total: int = 0
    flufl_found: int = 0
    hard_ok: int = 0
    hard_total: int = 0
    reason_ok: int = 0
    reason_total: int = 0
    misses: list[str] = field(default_factory=list)

    def lines(self, name: str, flufl: bool) -> list[str]:
        def pct(a: int, b: int) -> str:
            return f"{a}/{b} = {a / b:.1%}" if b else "n/a"

        out = [
            f"{name}:",
            f"  recipients found (exact set): {pct(self.found, self.found_total)}",
            f"  hard/soft right:              {pct(self.hard_ok, self.hard_total)}",
            f"  reason right (Sisimai names): {pct(self.reason_ok, self.reason_total)}",
        ]
        if flufl:
            out.insert(2, f"  flufl.bounce, same samples:   {pct(self.flufl_found, self.found_total)}")
        return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--show-misses", action="store_true")
    args = ap.parse_args()
    if not DATA.exists():
        raise SystemExit(f"no corpus at {DATA}")

    # flufl.bounce is an optional reference point, not a dependency: imported by name so the
    # strict type check passes on a machine without it (the score is then printed without it).
    scan_message: Any = None
    with contextlib.suppress(ImportError):
        scan_message = importlib.import_module("flufl.bounce").scan_message

    cases = [json.loads(line) for line in (DATA / "cases.jsonl").open()]
    scores = {"dev-tune": Score(), "hold-out": Score()}
    for case in cases:
        s = scores["hold-out" if is_hold_out(case["file"]) else "dev-tune"]
        raw = (DATA / "samples" / case["file"]).read_bytes()
        parsed = parse_bounce(raw)
        expected = {a.lower() for a in case["recipients"]}
        got = {r.address for r in parsed.recipients}
        if case["kind"] == "bounce":
            s.found_total += 1
            if got == expected:
                s.found += 1
            else:
                s.misses.append(f"{case['file']}: recipients {sorted(expected)}, got {sorted(got)}")
            if scan_message is not None:
                theirs = {
                    a.decode().lower() if isinstance(a, bytes) else str(a).lower()
                    for a in scan_message(email.message_from_bytes(raw))
                }
                s.flufl_found += theirs == expected
        by_address = {r.address: r for r in parsed.recipients}
        for expect in case["per_recipient"]:
            mine = by_address.get((expect["address"] or "").lower())
            if expect["hard"] is not None:
                s.hard_total += 1
                ok = mine is not None and mine.hard == expect["hard"]
                s.hard_ok += ok
                if not ok:
                    s.misses.append(f"{case['file']}: hard {expect['hard']}, got {mine and mine.hard}")
            if expect["reason"] and case["kind"] == "bounce":
                s.reason_total += 1
                ok = mine is not None and TO_SISIMAI.get(mine.reason) == expect["reason"]
                s.reason_ok += ok
                if not ok:
                    s.misses.append(
                        f"{case['file']}: reason {expect['reason']}, got "
                        f"{mine and TO_SISIMAI.get(mine.reason)}"
                    )
    for name, s in scores.items():
        print("\n".join(s.lines(name, scan_message is not None)))
        if args.show_misses and name == "dev-tune":
            # Only the tuning part's misses are shown: the hold-out stays unread.
            for miss in s.misses:
                print(f"    {miss}")


if __name__ == "__main__":
    main()
