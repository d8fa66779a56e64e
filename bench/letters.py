"""Letters per second and peak memory of `notify letters build`'s printing, at 1,000 and 100,000
one-page letters, against one-letter-at-a-time rendering measured in the same run.

    python bench/letters.py [--sizes 1000,100000] [--baseline 200] [--batch-size 100] [--workers 2]

Each size runs in a fresh process (so its peak RSS is its own): a temporary campaign with a
one-page letter (the five headings, the exposed categories, the address block, return address
and page number), a real SQLite ledger, and people generated one at a time (no list in memory),
printed by notifier.letters.build.build_letters into batch PDFs with WeasyPrint in WORKERS
processes, each batch recorded in the ledger, then the manifest. The baseline, in the same run,
renders the first BASELINE letters one PDF per letter, one after another, in one process.
Prints letters/s, the peak RSS of the main process and of the largest worker, and the ratio.
`--reportlab` adds ReportLab drawing the same one-page letter one PDF per letter, for scale
(it is not the chosen library: see README "Letters and other channels"). Not collected by pytest.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, make_campaign
from notifier.ledger import open_ledger
from notifier.letters.build import build_letters
from notifier.letters.eligible import LetterJob
from notifier.pipeline.campaign import notice_context
from notifier.render.letters import Addressee, LetterTemplate, PdfPrinter
from notifier.render.notice import load_notice
from notifier.settings import Settings, load

LETTER = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Notice of Data Breach</title>
<style>
body { font-size: 10.5pt; line-height: 1.35; }
h1 { font-size: 15pt; margin: 0 0 4pt 0; } h2 { font-size: 11.5pt; margin: 8pt 0 2pt 0; }
p, ul { margin: 0 0 4pt 0; }
</style></head><body>
<h1>Notice of Data Breach</h1>
<p>Dear {{ recipient.first_name }},</p>
<h2>What Happened</h2><p>{{ incident.what_happened }}</p>
<h2>What Information Was Involved</h2>
<ul>{% for code in recipient.exposed %}<li>{{ code | category }}</li>{% endfor %}</ul>
<h2>What We Are Doing</h2><ul>{% for s in incident.what_we_are_doing %}<li>{{ s }}</li>{% endfor %}</ul>
<h2>What You Can Do</h2><ul>{% for s in incident.what_you_can_do %}<li>{{ s }}</li>{% endfor %}</ul>
<h2>For More Information</h2><p>Call {{ contact.phone }} or write to {{ contact.postal }}.</p>
</body></html>
"""

LETTERS_TOML = """
[letters]
return_address = ["Example Shop Ltd.", "PO Box 100", "Springfield IL 62701"]
"""


def campaign(folder: Path) -> Path:
    make_campaign(folder, 1, extra=LETTERS_TOML)
    notice = folder / "templates" / "one-page"
    notice.mkdir()
    for part in ("subject.txt", "body.html", "body.txt"):
        (notice / part).write_text(
            (folder / "templates" / "breach-notice" / part).read_text(encoding="utf-8"), encoding="utf-8"
        )
    (notice / "letter.html").write_text(LETTER, encoding="utf-8")
    return folder


def people(n: int) -> Iterator[LetterJob]:
    for i in range(n):
        view = {
            "email": f"p{i}@example.com",
            "first_name": f"Name{i}",
            "last_name": "Person",
            "country": "US",
            "region": "US-IL",
            "exposed": ["email", "name", "phone"],
        }
        to = Addressee((f"Name{i} Person", f"{i} Elm St", "Apt 4", "Springfield IL 62704"))
        yield LetterJob(f"B{i:06d}", f"p{i}@example.com", f"bench.csv:{i + 2}", view, to)


def template(folder: Path) -> tuple[Settings, LetterTemplate]:
    settings = load(folder / "notify.toml")
    notice = load_notice(settings.templates_dir, "one-page", notice_context(settings, "one-page"))
    return settings, LetterTemplate(notice, settings.letters.layout)


def cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def run_batched(folder: Path, n: int, batch: int, workers: int) -> dict[str, float]:
    settings, tmpl = template(folder)
    settings = dataclasses.replace(settings, ledger_path=folder / f"ledger-{n}.sqlite")  # a fresh ledger
    ledger = open_ledger(settings)
    out = folder / f"out-{n}"
    start = time.perf_counter()
    report = build_letters(
        people(n),
        template=tmpl,
        store=ledger,
        notice="one-page",
        output=out,
        batch_size=batch,
        workers=workers,
    )
    seconds = time.perf_counter() - start
    ledger.close()
    assert report.built == n and report.pages == n, (report.built, report.pages)  # one page each
    return {
        "letters": n,
        "rate": n / seconds,
        "rss_main_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "pdf_mb": sum(p.stat().st_size for p in out.iterdir()) / 1e6,
        "cpu_ms": (cpu_seconds(resource.RUSAGE_SELF) + cpu_seconds(resource.RUSAGE_CHILDREN)) / n * 1000,
    }


def run_single(folder: Path, n: int) -> dict[str, float]:
    _settings, tmpl = template(folder)
    printer = PdfPrinter(folder / "templates")
    out = folder / "single"
    out.mkdir(exist_ok=True)
    cpu = cpu_seconds(resource.RUSAGE_SELF)
    start = time.perf_counter()
    for job in people(n):
        data, pages = printer.pdf([tmpl.html(job.view, job.to)])
        assert pages == [1]
        (out / f"{job.letter_id}.pdf").write_bytes(data)
    seconds = time.perf_counter() - start
    return {
        "letters": n,
        "rate": n / seconds,
        "rss_main_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cpu_ms": (cpu_seconds(resource.RUSAGE_SELF) - cpu) / n * 1000,
    }


def run_reportlab(n: int) -> dict[str, float]:
    """ReportLab, for scale only: not a dependency (pip install reportlab to run it)."""
    import importlib
    import io

    def mod(name: str) -> Any:
        return importlib.import_module(name)

    inch: float = mod("reportlab.lib.units").inch
    platypus = mod("reportlab.platypus")
    pdfmetrics = mod("reportlab.pdfbase.pdfmetrics")
    font = next(Path("/usr/share/fonts/truetype").rglob("LiberationSans-Regular.ttf"))
    pdfmetrics.registerFont(mod("reportlab.pdfbase.ttfonts").TTFont("Liberation", str(font)))
    styles = mod("reportlab.lib.styles").getSampleStyleSheet()
    for style in styles.byName.values():
        style.fontName = "Liberation"
    cpu = cpu_seconds(resource.RUSAGE_SELF)
    start = time.perf_counter()
    for i in range(n):

        def page(canvas: Any, doc: Any, i: int = i) -> None:
            y = 11 * inch - 2.042 * inch - 10
            for line in (f"NAME{i} PERSON", f"{i} ELM ST", "APT 4", "SPRINGFIELD IL 62704"):
                canvas.drawString(0.5 * inch, y, line)
                y -= 12

        doc = platypus.SimpleDocTemplate(io.BytesIO(), pagesize=(612, 792), topMargin=3.375 * inch)
        story = [platypus.Paragraph("Notice of Data Breach", styles["Title"])]
        for heading in (
            "What Happened",
            "What Information Was Involved",
            "What We Are Doing",
            "What You Can Do",
        ):
            story += [
                platypus.Paragraph(heading, styles["Heading2"]),
                platypus.Paragraph("An unauthorised person signed in. " * 6, styles["Normal"]),
            ]
        doc.build(story, onFirstPage=page)
    seconds = time.perf_counter() - start
    return {"letters": n, "rate": n / seconds, "cpu_ms": (cpu_seconds(resource.RUSAGE_SELF) - cpu) / n * 1000}


def child(args: argparse.Namespace) -> None:
    folder = Path(args.folder)
    if args.child == "batched":
        result = run_batched(folder, args.n, args.batch_size, args.workers)
    elif args.child == "single":
        result = run_single(folder, args.n)
    else:
        result = run_reportlab(args.n)
    print(json.dumps(result))


def measure(folder: Path, mode: str, n: int, args: argparse.Namespace) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", mode, "--n", str(n), "--folder", str(folder),
           "--batch-size", str(args.batch_size), "--workers", str(args.workers)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(done.stdout + done.stderr)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="1000,100000")
    p.add_argument("--baseline", type=int, default=200, help="letters rendered one PDF each")
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--reportlab", action="store_true")
    p.add_argument("--child", choices=("batched", "single", "reportlab"), help=argparse.SUPPRESS)
    p.add_argument("--n", type=int, help=argparse.SUPPRESS)
    p.add_argument("--folder", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args)
        return
    with tempfile.TemporaryDirectory(prefix="bench-letters-") as tmp:
        folder = campaign(Path(tmp) / "campaign")
        print(f"{os.cpu_count()} cores; one-page letters; batch {args.batch_size}, {args.workers} workers")
        print(f"load average {os.getloadavg()[0]:.1f} at the start (other work here slows every figure)")
        base = measure(folder, "single", args.baseline, args)
        print(
            f"one PDF per letter, sequential ({args.baseline:,}): {base['rate']:.1f} letters/s, "
            f"{base['cpu_ms']:.0f} ms CPU per letter, peak RSS {base['rss_main_mb']:.0f} MB"
        )
        if args.reportlab:
            rl = measure(folder, "reportlab", args.baseline, args)
            print(
                f"ReportLab one PDF per letter ({args.baseline:,}): {rl['rate']:.1f} letters/s, "
                f"{rl['cpu_ms']:.0f} ms CPU per letter"
            )
        for n in (int(s) for s in args.sizes.split(",")):
            r = measure(folder, "batched", n, args)
            print(
                f"batched, {n:>7,} letters: {r['rate']:.1f} letters/s ({r['rate'] / base['rate']:.2f}x the "
                f"baseline), {r['cpu_ms']:.0f} ms CPU per letter in all processes "
                f"({r['cpu_ms'] / base['cpu_ms']:.2f}x the baseline's, start-up included), peak RSS main "
                f"{r['rss_main_mb']:.0f} MB, largest worker {r['rss_worker_mb']:.0f} MB, "
                f"PDFs {r['pdf_mb']:.1f} MB, load average {os.getloadavg()[0]:.1f}"
            )


if __name__ == "__main__":
    main()
