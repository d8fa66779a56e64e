"""Score the bounce parser on ../shared/data/bounces-dev (181 real bounces with expected answers),
split by a hash of each file's name into a tuning part (two thirds) and a hold-out third that
rule changes are never tuned on; flufl.bounce on the same samples is the reference point for
finding addresses.

    python bench/bounces_score.py [--show-misses] [--corpus DIR]

Targets (issue 14): bounced recipient found for >= 97% of bounces, hard/soft right for >= 95% of
recipients, reason right for >= 85% (Sisimai's vocabulary; ours is mapped onto it). The hold-out
figure is the one that says whether the rules generalise.

A third block scores a fresh hold-out that nobody tunes on: a corpus kept outside the repository
(default ``../holdout-sisimai`` beside the checkout, or NOTIFY_BENCH_HOLDOUT, or --corpus DIR)
with the same cases.jsonl format, labelled from Sisimai's own test tables. Where its labels do
not give the addresses (``addresses_known`` false) the recipient COUNT is scored and recipients
are paired in order. Only aggregate counts are printed for it, never which files were missed:
a confusion count of expected reason -> our reason, and recipient misses by sample family.
The block is skipped with a one-line note when the corpus is not there.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import email
import hashlib
import importlib
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from notifier.bounces.parse import parse_bounce
from notifier.bounces.reasons import SISIMAI as TO_SISIMAI

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "bounces-dev"
HOLDOUT = Path(
    os.environ.get("NOTIFY_BENCH_HOLDOUT")
    or Path(__file__).resolve().parent.parent.parent / "holdout-sisimai"
)


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
    kind_ok: int = 0
    kind_total: int = 0
    misses: list[str] = field(default_factory=list)
    confusion: collections.Counter[tuple[str, str]] = field(default_factory=collections.Counter)
    kind_confusion: collections.Counter[tuple[str, str]] = field(default_factory=collections.Counter)
    count_misses: collections.Counter[str] = field(default_factory=collections.Counter)

    def lines(self, name: str, flufl: bool) -> list[str]:
        def pct(a: int, b: int) -> str:
            return f"{a}/{b} = {a / b:.1%}" if b else "n/a"

        out = [
            f"{name}:",
            f"  recipients found (exact set): {pct(self.found, self.found_total)}",
            f"  hard/soft right:              {pct(self.hard_ok, self.hard_total)}",
            f"  reason right (Sisimai names): {pct(self.reason_ok, self.reason_total)}",
            f"  kind right (bounce, delay, ...): {pct(self.kind_ok, self.kind_total)}",
        ]
        if flufl:
            out.insert(2, f"  flufl.bounce, same samples:   {pct(self.flufl_found, self.found_total)}")
        return out


# The corpora's kinds (Sisimai's words) -> ours: a complaint is Sisimai's "feedback", an
# auto-reply its "vacation".
_KINDS = {"feedback": "complaint", "vacation": "auto-reply"}


# Sisimai 5.2 merged 5.1's "mesgtoobig" (X.3.4, too big for the system) and "exceedlimit" (X.2.3,
# over the mailbox's limit) into "emailtoolarge"; corpora labelled from 5.2's test tables
# (label_source ".../test/public/...") write it "mesgtoobig", which then means either.
_MERGED = {"mesgtoobig": ("exceedlimit",)}


def _no_delay_kind(case: dict[str, Any]) -> bool:
    """Sisimai has no "delay" kind: a delay notice it reads is a bounce with action "delayed".
    Other libraries' labels (flufl.bounce's temporary failures) tell a delay apart."""
    return "sisimai" in f"{case.get('source', '')} {case['file']}".lower()


def score_case(case: dict[str, Any], raw: bytes, s: Score, scan_message: Any) -> None:
    """Add one labelled sample to a score. Where the labels give addresses, recipients are compared
    as sets and matched by address; where they give only a count (fresh hold-out samples whose
    addresses could not be told reliably), the count is compared and recipients are paired in order.
    """
    parsed = parse_bounce(raw)
    s.kind_total += 1
    want = _KINDS.get(case["kind"], case["kind"])
    if parsed.kind == want or (want == "bounce" and parsed.kind == "delay" and _no_delay_kind(case)):
        s.kind_ok += 1
    else:
        s.kind_confusion[(case["kind"], parsed.kind)] += 1
        s.misses.append(f"{case['file']}: kind {case['kind']}, got {parsed.kind}")
    mine_in_order = list(parsed.recipients)
    got = {r.address for r in mine_in_order}
    known = case.get("addresses_known", True)
    expected = {a.lower() for a in case["recipients"] or []}
    if case["kind"] == "bounce":
        s.found_total += 1
        ok = got == expected if known else len(got) == case["recipient_count"]
        if ok:
            s.found += 1
        else:
            s.count_misses[case.get("family") or "?"] += 1
            s.misses.append(f"{case['file']}: recipients {sorted(expected)}, got {sorted(got)}")
        if scan_message is not None:
            theirs = {
                a.decode().lower() if isinstance(a, bytes) else str(a).lower()
                for a in scan_message(email.message_from_bytes(raw))
            }
            s.flufl_found += theirs == expected if known else len(theirs) == case["recipient_count"]
    by_address = {r.address: r for r in mine_in_order}
    for i, expect in enumerate(case["per_recipient"]):
        if known:
            mine = by_address.get((expect["address"] or "").lower())
        else:
            mine = mine_in_order[i] if i < len(mine_in_order) else None
        if expect["hard"] is not None:
            s.hard_total += 1
            ok = mine is not None and mine.hard == expect["hard"]
            s.hard_ok += ok
            if not ok:
                s.misses.append(f"{case['file']}: hard {expect['hard']}, got {mine and mine.hard}")
        if expect["reason"] and case["kind"] == "bounce":
            s.reason_total += 1
            ours = TO_SISIMAI.get(mine.reason) if mine is not None else None
            ok = ours == expect["reason"] or (
                ours in _MERGED.get(expect["reason"], ()) and "test/public" in case.get("label_source", "")
            )
            s.reason_ok += ok
            s.confusion[(expect["reason"], ours or "(none)")] += 1
            if not ok:
                s.misses.append(f"{case['file']}: reason {expect['reason']}, got {ours}")


def endings(raw: bytes, ending: str) -> bytes:
    """The sample with every line ending rewritten (``as-is`` leaves it alone)."""
    if ending == "as-is":
        return raw
    lines = re.split(rb"\r\n|\r|\n", raw)
    return {"lf": b"\n", "crlf": b"\r\n", "cr": b"\r"}[ending].join(lines)


def fresh_lines(s: Score) -> list[str]:
    """Aggregate counts only: which reasons were confused with which, and in which families the
    recipients came out wrong. No file names, so the fresh hold-out stays unread."""
    out = ["  reason, expected -> ours (count; the diagonal is right):"]
    for (want, ours), n in sorted(s.confusion.items(), key=lambda kv: (kv[0][0], -kv[1])):
        out.append(f"    {want:>16} -> {ours:<16} {n}")
    out.append("  kind wrong, expected -> ours (count):")
    for (want, ours), n in sorted(s.kind_confusion.items()):
        out.append(f"    {want:>16} -> {ours:<16} {n}")
    out.append("  recipients wrong, by sample family (count):")
    for family, n in sorted(s.count_misses.items(), key=lambda kv: (-kv[1], kv[0])):
        out.append(f"    {family:<28} {n}")
    if not s.count_misses:
        out.append("    none")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--show-misses", action="store_true", help="list the dev-tune part's misses")
    ap.add_argument(
        "--corpus",
        type=Path,
        default=HOLDOUT,
        help="the fresh hold-out corpus (cases.jsonl + samples/); default ../holdout-sisimai "
        "beside the checkout or NOTIFY_BENCH_HOLDOUT",
    )
    ap.add_argument(
        "--line-endings",
        choices=["as-is", "lf", "crlf", "cr"],
        default="as-is",
        help="rewrite every sample's line endings before scoring (real corpora hold all three)",
    )
    ap.add_argument(
        "--tune",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="also score a TUNING corpus (same layout) and list its misses; refused for the fresh hold-out",
    )
    args = ap.parse_args()
    ending = args.line_endings
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
        score_case(case, endings((DATA / "samples" / case["file"]).read_bytes(), ending), s, scan_message)
    for name, s in scores.items():
        print("\n".join(s.lines(name, scan_message is not None)))
        if args.show_misses and name == "dev-tune":
            # Only the tuning part's misses are shown: the hold-out stays unread.
            for miss in s.misses:
                print(f"    {miss}")

    for tune in args.tune:
        if tune.resolve() == Path(args.corpus).resolve():
            raise SystemExit(f"{tune} is the fresh hold-out: its misses are never listed")
        tune_cases = [json.loads(line) for line in (tune / "cases.jsonl").open() if line.strip()]
        ts = Score()
        for case in tune_cases:
            raw = endings((tune / "samples" / case["file"]).read_bytes(), ending)
            score_case(case, raw, ts, scan_message)
        print("\n".join(ts.lines(f"tuning corpus {tune.name} ({len(tune_cases)} samples)", False)))
        for miss in ts.misses:
            print(f"    {miss}")

    corpus: Path = args.corpus
    if not (corpus / "cases.jsonl").exists():
        print(f"fresh hold-out: skipped, no corpus at {corpus} (set NOTIFY_BENCH_HOLDOUT or --corpus)")
        return
    fresh_cases = [json.loads(line) for line in (corpus / "cases.jsonl").open() if line.strip()]
    fresh = Score()
    for case in fresh_cases:
        raw = endings((corpus / "samples" / case["file"]).read_bytes(), ending)
        score_case(case, raw, fresh, scan_message)
    name = f"fresh hold-out ({len(fresh_cases)} samples, never tuned on)"
    print("\n".join(fresh.lines(name, scan_message is not None)))
    print("\n".join(fresh_lines(fresh)))


if __name__ == "__main__":
    main()
