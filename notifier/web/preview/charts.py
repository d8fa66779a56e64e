"""Charts drawn on the server as inline SVG: no script, no CDN, nothing fetched.

Each chart scales to its container (viewBox, width 100%), so it reads on a phone, and carries a
title and a text summary for screen readers; the numbers are also in a table beside it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

__all__ = ["COLOURS", "hbars", "legend", "over_time", "timeline"]

# Colour-blind-safe (Okabe-Ito) and at least 3:1 against white for the bars.
COLOURS = {
    "accepted": "#007a5a",
    "delivered": "#005a8c",
    "deferred": "#b35c00",
    "temporary": "#b35c00",
    "failed": "#b00020",
    "permanent": "#b00020",
    "bounced": "#8e2d6d",
    "unreached": "#b00020",
    "complained": "#5d3a9b",
    "done": "#007a5a",
    "due": "#1d3557",
    "overdue": "#b00020",
}
_W, _BAR = 480, 22  # ~12-14 px text on a 375 px phone, where a chart takes the full width


def _svg(height: int, title: str, body: str) -> Markup:
    return Markup(  # noqa: S704 - every text below is escaped
        f'<svg class="chart" role="img" viewBox="0 0 {_W} {height}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def legend(keys: Sequence[str], names: Mapping[str, str] | None = None) -> Markup:
    items = "".join(
        f'<li><span class="swatch" style="background:{COLOURS.get(k, "#555")}"></span>'
        f"{escape((names or {}).get(k, k))}</li>"
        for k in keys
    )
    return Markup(f'<ul class="legend">{items}</ul>')  # noqa: S704 - escaped above


def over_time(
    buckets: Sequence[tuple[float, Mapping[str, int]]], keys: Sequence[str], title: str, tz: dt.tzinfo
) -> Markup:
    """Stacked columns, one per time bucket (start time, counts per key)."""
    if not buckets:
        return _svg(40, title, '<text x="0" y="24" font-size="14">Nothing sent yet.</text>')
    height, top, bottom = 220, 10, 40
    peak = max(sum(c.get(k, 0) for k in keys) for _, c in buckets) or 1
    step = (_W - 50) / len(buckets)
    width = max(1.0, step * 0.8)
    parts = [f'<line x1="48" y1="{height - bottom}" x2="{_W}" y2="{height - bottom}" stroke="#555"/>']
    parts.append(f'<text x="44" y="{top + 12}" font-size="12" text-anchor="end">{peak:,}</text>')
    parts.append(f'<text x="44" y="{height - bottom}" font-size="12" text-anchor="end">0</text>')
    scale = (height - top - bottom) / peak
    for i, (_, counts) in enumerate(buckets):
        x = 50 + i * step
        y = float(height - bottom)
        for k in keys:
            n = counts.get(k, 0)
            if not n:
                continue
            h = n * scale
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{h:.1f}" fill="{COLOURS[k]}">'
                f"<title>{escape(k)}: {n:,}</title></rect>"
            )
    for i in sorted({0, len(buckets) // 2, len(buckets) - 1}):
        label = dt.datetime.fromtimestamp(buckets[i][0], tz).strftime("%d %b %H:%M")
        x = 50 + i * step + width / 2
        parts.append(
            f'<text x="{x:.1f}" y="{height - 18}" font-size="12" text-anchor="middle">{label}</text>'
        )
    return _svg(height, title, "".join(parts))


def hbars(rows: Sequence[tuple[str, Mapping[str, int]]], keys: Sequence[str], title: str) -> Markup:
    """Horizontal stacked bars, one row per label."""
    if not rows:
        return _svg(40, title, '<text x="0" y="24" font-size="14">None.</text>')
    peak = max(sum(c.get(k, 0) for k in keys) for _, c in rows) or 1
    label_w, gap = 150, 8
    height = len(rows) * (_BAR + gap) + gap
    scale = (_W - label_w - 60) / peak
    parts = []
    for i, (label, counts) in enumerate(rows):
        y = gap + i * (_BAR + gap)
        short = label if len(label) <= 20 else label[:19] + "…"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 16}" font-size="14" text-anchor="end">{escape(short)}</text>'
        )
        x = float(label_w)
        for k in keys:
            n = counts.get(k, 0)
            if not n:
                continue
            w = n * scale
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{_BAR}" fill="{COLOURS.get(k, "#555")}">'
                f"<title>{escape(label)} {escape(k)}: {n:,}</title></rect>"
            )
            x += w
        total = sum(counts.get(k, 0) for k in keys)
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 16}" font-size="14">{total:,}</text>')
    return _svg(height, title, "".join(parts))


def timeline(items: Sequence[tuple[str, dt.datetime | None, str]], now: dt.datetime, title: str) -> Markup:
    """Deadlines on a time axis: (label, due or None for "as soon as possible", state), where
    state is done, due or overdue; a line marks now."""
    dated = [(label, due, state) for label, due, state in items if due is not None]
    if not dated:
        return _svg(40, title, '<text x="0" y="24" font-size="14">No dated deadline.</text>')
    times = [d.timestamp() for _, d, _ in dated] + [now.timestamp()]
    lo, hi = min(times), max(times)
    span = (hi - lo) or 1.0
    row, left, right = 26, 20, 20
    height = len(dated) * row + 40

    def x(t: float) -> float:
        return left + (t - lo) / span * (_W - left - right)

    parts = [
        f'<line x1="{x(now.timestamp()):.1f}" y1="0" x2="{x(now.timestamp()):.1f}" y2="{height - 20}" '
        'stroke="#1a1a1a" stroke-dasharray="4 3"/>',
        f'<text x="{x(now.timestamp()):.1f}" y="{height - 6}" font-size="12" text-anchor="middle">now</text>',
    ]
    for i, (full, due, state) in enumerate(sorted(dated, key=lambda item: item[1])):
        label = full if len(full) <= 34 else full[:33] + "…"
        assert due is not None
        y = 10 + i * row
        cx = x(due.timestamp())
        anchor = "end" if cx > _W / 2 else "start"
        tx = cx - 10 if anchor == "end" else cx + 10
        parts.append(
            f'<circle cx="{cx:.1f}" cy="{y + 8}" r="7" fill="{COLOURS[state]}"><title>{escape(full)}: '
            f"{escape(state)}</title></circle>"
            f'<text x="{tx:.1f}" y="{y + 13}" font-size="13" text-anchor="{anchor}">{escape(label)}</text>'
        )
    return _svg(height, title, "".join(parts))
