"""The live campaign view: what `notify status --json` says, drawn, refreshing itself.

Every number comes from the same ``status`` data `notify status --json` prints (the CLI hands
the console its function, so the two cannot drift), plus the ledger reads only a chart needs:
attempts over time, unreached people by jurisdiction, letters and codes where they exist, and
the deadline timeline. The page polls ``/dashboard?part=live`` and swaps the live section in.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup

from notifier.compliance.deadlines_view import deadline_report
from notifier.ledger import Ledger
from notifier.web.preview import charts, people
from notifier.web.preview.app import PreviewApp, template

__all__ = ["REFRESH_MS", "dashboard", "live_data"]

REFRESH_MS = 3000
UNREACHED = ("invalid", "bounced", "failed", "suppressed")
_BARS = 48  # columns of the over-time chart at most
_DEADLINES_TTL = 30.0  # the deadline planner reads the lists: not on every refresh


def _timeline(ledger: Ledger, notice: str) -> list[tuple[float, dict[str, int]]]:
    """Attempts per bucket as accepted / deferred / failed, at most _BARS buckets."""
    rows = ledger.attempt_timeline(notice, 60)
    if not rows:
        return []
    lo, hi = rows[0][0], rows[-1][0]
    size = max(60.0, ((hi - lo) // (_BARS - 1) // 60 + 1) * 60.0)
    names = {"accepted": "accepted", "temporary": "deferred", "permanent": "failed"}
    out: dict[float, Counter[str]] = {}
    for at, verdict, n in rows:
        start = lo + ((at - lo) // size) * size
        out.setdefault(start, Counter())[names.get(verdict, verdict)] += n
    return [(start, dict(c)) for start, c in sorted(out.items())]


def _unreached_places(ledger: Ledger, notice: str) -> list[tuple[str, dict[str, int]]]:
    by: dict[str, Counter[str]] = {}
    for row in ledger.report_rows(states=UNREACHED, notice=notice):
        f = row.fields
        place = str(f.get("region") or f.get("country") or "unknown")
        by.setdefault(place, Counter())[row.state] += 1
    return sorted(((p, dict(c)) for p, c in by.items()), key=lambda pc: -sum(pc[1].values()))


def _letters_and_codes(ledger: Ledger, notice: str) -> dict[str, Any]:
    """Letters built and returned, and offer codes, when this ledger has them (issues 16, 17)."""
    out: dict[str, Any] = {}
    rows = getattr(ledger, "letter_rows", None)
    if rows is not None:
        built = returned = 0
        for letter in rows(notice):
            built += 1
            returned += letter.returned_at is not None
        out["letters"] = {"built": built, "returned": returned}
    counts = getattr(ledger, "offer_counts", None)
    if counts is not None:
        out["codes"] = [
            {"offer": c.offer, "pool": c.pool, "total": c.total, "issued": c.issued, "enrolled": c.enrolled}
            for c in counts()
        ]
    return out


def live_data(app: PreviewApp, notice: str) -> dict[str, Any]:
    """The status (exactly `notify status --json`) and the chart data of ``notice``."""
    status: dict[str, Any] = {"notices": []}
    extra: dict[str, Any] = {"timeline": [], "unreached": [], "letters_codes": {}}
    ledger = app.open_ledger()
    if ledger is not None:
        try:
            status = app.status_view(ledger)
            extra = {
                "timeline": _timeline(ledger, notice),
                "unreached": _unreached_places(ledger, notice),
                "letters_codes": _letters_and_codes(ledger, notice),
            }
        finally:
            ledger.close()
    return {"status": status, **extra}


def _deadlines(app: PreviewApp, notice: str) -> tuple[list[tuple[str, dt.datetime | None, str]], Any]:
    st = app.state()
    key = ("deadlines", st.version, notice)
    cached = app.overview_cache.get(key)
    large = len(st.lists.recipients) >= people.LARGE
    if large and ("counted", st.version) not in app.overview_cache:
        return [], None  # a pass over a large list: only once asked for on the overview
    # Small lists: fresh every _DEADLINES_TTL; large ones once per reload (a pass takes minutes).
    if cached is None or (not large and time.monotonic() - cached[0] > _DEADLINES_TTL):
        cached = (time.monotonic(), deadline_report(st.settings, notice, lists=st.lists))
        app.overview_cache[key] = cached
    report = cached[1]
    now = dt.datetime.now(dt.UTC)
    items = []
    for o in report.obligations:
        word = o.status(now)
        state = (
            "done"
            if word in ("met", "filed", "late", "filed late")
            else ("overdue" if word.upper().startswith("OVERDUE") else "due")
        )
        items.append((f"{o.rule.id} ({word}) {o.rule.what}", o.due, state))
    return items, report


def dashboard(app: PreviewApp, query: dict[str, str]) -> str:
    """The whole page, or (``part=live``) only its live section for the page's refresh."""
    notice = app.notice(query.get("notice")).name
    data = live_data(app, notice)
    mine = next((n for n in data["status"]["notices"] if n["notice"] == notice), None)
    items, report = _deadlines(app, notice)
    now = dt.datetime.now(dt.UTC)
    tz = report.tz if report is not None else ZoneInfo(app.state().settings.timezone)
    domains = list((mine or {}).get("by_domain", {}).items())[:12]
    reasons = sorted(((mine or {}).get("reasons", {})).items(), key=lambda kv: -kv[1])[:12]
    live = template("dashboard_live.html").render(
        notice=notice,
        mine=mine,
        status=data["status"],
        over_time=charts.over_time(
            data["timeline"],
            ("accepted", "deferred", "failed"),
            "Messages accepted, deferred and failed over time",
            tz,
        ),
        time_legend=charts.legend(("accepted", "deferred", "failed")),
        timeline_rows=[
            (dt.datetime.fromtimestamp(t, tz).strftime("%d %b %H:%M"), c) for t, c in data["timeline"]
        ],
        by_reason=charts.hbars(
            [(r, {"failed": n}) for r, n in reasons], ("failed",), "Not delivered, by reason"
        ),
        reasons=reasons,
        by_domain=charts.hbars(
            [(d, {k: row.get(k, 0) for k in ("accepted", "deferred", "unreached")}) for d, row in domains],
            ("accepted", "deferred", "unreached"),
            "Outcomes by recipient domain",
        ),
        domain_legend=charts.legend(("accepted", "deferred", "unreached")),
        domains=domains,
        unreached=charts.hbars(
            [(p, {"unreached": sum(c.values())}) for p, c in data["unreached"][:12]],
            ("unreached",),
            "Unreached people by jurisdiction",
        ),
        unreached_rows=data["unreached"],
        letters_codes=data["letters_codes"],
        deadlines=charts.timeline(items, now, "Deadline timeline"),
        deadline_legend=charts.legend(("done", "due", "overdue")),
        obligations=report.obligations if report is not None else None,
        count_link=app.link("/", count="all"),
        now=now,
        tz=tz,
        updated=dt.datetime.now(tz).strftime("%H:%M:%S"),
    )
    if query.get("part") == "live":
        return live
    return template("dashboard.html").render(
        notice=notice,
        notices=app.notice_names(),
        live=Markup(live),  # noqa: S704 - rendered from the autoescaped dashboard_live.html
        link=app.link,
        refresh=REFRESH_MS,
    )
