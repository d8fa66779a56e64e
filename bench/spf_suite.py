"""Score `notify check spf` on the OpenSPF RFC 7208 test suite (203 cases, tests/data/), each
scenario served by a real DNS server on 127.0.0.1, with pyspf asked through the same resolver and
server as the reference point, in the same run.

    python bench/spf_suite.py [--show-misses]

A case counts as right when the result is one the suite accepts and, where the suite names an
explanation, the explanation matches too (its "DEFAULT" = none of the domain's own).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.spfsuite import load_suite, run_ours, run_pyspf, suite_dns


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--show-misses", action="store_true")
    args = ap.parse_args()
    cases = load_suite()
    ours = theirs = ours_result_only = 0
    misses: list[str] = []
    pyspf_misses: list[str] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, suite_dns() as server:
        missing = Path(tmp) / "no-notify.toml"  # `check spf` works without a campaign
        for case in cases:
            mine = run_ours(case, server, missing)
            ref = run_pyspf(case, server)
            ours += mine.correct(case)
            ours_result_only += mine.result in case.results
            theirs += ref.correct(case)
            if not ref.correct(case):
                pyspf_misses.append(f"  {case.name} ({case.spec}): got {ref.result} exp={ref.explanation!r}")
            if not mine.correct(case):
                misses.append(
                    f"  {case.name} ({case.spec}): want {'/'.join(case.results)}"
                    + (f" exp={case.explanation!r}" if case.explanation is not None else "")
                    + f", got {mine.result} exp={mine.explanation!r}: {mine.detail.get('reason', '')}"
                    + f"  [pyspf: {ref.result}]"
                )
    elapsed = time.perf_counter() - started
    total = len(cases)
    print(f"RFC 7208 suite, {total} cases, real DNS server on 127.0.0.1 ({elapsed:.1f} s for both)")
    print(f"  notify check spf: {ours}/{total} ({ours / total:.1%}); result alone {ours_result_only}/{total}")
    print(f"  pyspf 2.0.14:     {theirs}/{total} ({theirs / total:.1%})")
    print(f"  ratio ours/pyspf: {ours / theirs:.3f}")
    if args.show_misses and misses:
        print("misses:")
        print("\n".join(misses))
    if args.show_misses and pyspf_misses:
        print("pyspf misses:")
        print("\n".join(pyspf_misses))


if __name__ == "__main__":
    main()
