"""Small, sharp charts drawn as inline SVG: amounts over time with one invoice marked, and bar charts."""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Mapping, Sequence

ACCENT = "#4f46e5"
MARK = "#dc2626"
SECOND = "#f59e0b"
GRID = "#e5e7eb"
TEXT = "#4b5563"


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    exponent = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exponent:
            return step * exponent
    return 10 * exponent


def _short(value: float) -> str:
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if abs(value) >= 10_000:
        return f"{value / 1000:.0f}k"
    if abs(value) >= 1000:
        return f"{value / 1000:.1f}k"
    return f"{value:.0f}" if value == int(value) else f"{value:.3f}".rstrip("0").rstrip(".")


def _frame(width: int, height: int, title: str, body: str) -> str:
    return (
        f"<figure class='chart' style='margin:0'><figcaption style='font-weight:600;font-size:.9rem;"
        f"margin:2px 0 4px;color:#111827'>{html.escape(title)}</figcaption>"
        f"<svg viewBox='0 0 {width} {height}' width='100%' role='img' aria-label='{html.escape(title)}' "
        f"style='display:block;font-family:system-ui,sans-serif'>{body}</svg></figure>"
    )


def _empty(title: str, text: str, width: int, height: int) -> str:
    body = (
        f"<rect x='0' y='0' width='{width}' height='{height}' fill='#f8fafc' rx='6'/>"
        f"<text x='{width / 2}' y='{height / 2}' text-anchor='middle' font-size='13' fill='{TEXT}'>"
        f"{html.escape(text)}</text>"
    )
    return _frame(width, height, title, body)


def _axis_top(largest: float) -> float:
    """The top of a y axis with four equal, round steps above `largest`."""
    return _nice_max(largest * 1.05 / 4) * 4


def _y_axis(left: int, top: int, plot_w: int, plot_h: int, top_value: float) -> str:
    parts = []
    for i in range(5):
        value = top_value * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(f"<line x1='{left}' x2='{left + plot_w}' y1='{y:.1f}' y2='{y:.1f}' stroke='{GRID}'/>")
        parts.append(
            f"<text x='{left - 6}' y='{y + 4:.1f}' text-anchor='end' font-size='11' fill='{TEXT}'>"
            f"{_short(value)}</text>"
        )
    return "".join(parts)


def timeline_svg(
    points: Sequence[tuple[dt.date, float, str]],
    marked: tuple[dt.date, float, str] | None,
    title: str = "Amounts over time",
    width: int = 380,
    height: int = 200,
) -> str:
    """Earlier totals as a line of dots over time, the marked invoice as a red dot with its amount."""
    everything = list(points) + ([marked] if marked else [])
    if not everything:
        return _empty(title, "No dated totals for this vendor yet.", width, height)
    left, right, top, bottom = 46, 14, 14, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    first = min(p[0] for p in everything)
    last = max(p[0] for p in everything)
    span = max((last - first).days, 1)
    top_value = _axis_top(max(p[1] for p in everything))

    def xy(day: dt.date, value: float) -> tuple[float, float]:
        x = left + (plot_w * (day - first).days / span if len(everything) > 1 else plot_w / 2)
        return x, top + plot_h - plot_h * max(value, 0) / top_value

    parts = [_y_axis(left, top, plot_w, plot_h, top_value)]
    ordered = sorted(points, key=lambda p: p[0])
    if len(ordered) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(d, v) for d, v, _ in ordered))
        parts.append(
            f"<polyline points='{path}' fill='none' stroke='{ACCENT}' stroke-opacity='.45' stroke-width='1.5'/>"
        )
    for day, value, label in ordered:
        x, y = xy(day, value)
        parts.append(
            f"<circle cx='{x:.1f}' cy='{y:.1f}' r='3.5' fill='{ACCENT}'><title>{html.escape(label)}</title></circle>"
        )
    if marked:
        x, y = xy(marked[0], marked[1])
        anchor = "end" if x > left + plot_w * 0.7 else "start"
        dx = -9 if anchor == "end" else 9
        parts.append(
            f"<circle cx='{x:.1f}' cy='{y:.1f}' r='6.5' fill='{MARK}' stroke='white' stroke-width='2'>"
            f"<title>{html.escape(marked[2])}</title></circle>"
            f"<text x='{x + dx:.1f}' y='{max(y - 8, top + 10):.1f}' text-anchor='{anchor}' font-size='11.5' "
            f"font-weight='600' fill='{MARK}'>this invoice · {marked[1]:,.2f}</text>"
        )
    for day, anchor in ((first, "start"), (last, "end")):
        x = left if anchor == "start" else left + plot_w
        parts.append(
            f"<text x='{x}' y='{height - 8}' text-anchor='{anchor}' font-size='11' fill='{TEXT}'>{day:%b %Y}</text>"
        )
    return _frame(width, height, title, "".join(parts))


def bar_svg(
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    title: str,
    unit: str = "",
    width: int = 560,
    height: int = 240,
    empty_text: str = "No data yet.",
) -> str:
    """Grouped bars: one group per label, one bar per series; a legend when there are several series."""
    if not labels or not series:
        return _empty(title, empty_text, width, height)
    colours = [ACCENT, SECOND, "#10b981", "#ec4899", "#0ea5e9"]
    left, right, top = 46, 10, 14
    bottom = 40 if len(series) > 1 else 26
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = _axis_top(max((max(v) for v in series.values() if v), default=0))
    group_w = plot_w / len(labels)
    bar_w = max(2.0, min(36.0, group_w * 0.8 / len(series)))
    parts = [_y_axis(left, top, plot_w, plot_h, top_value)]
    every = max(1, math.ceil(len(labels) / max(1, plot_w // 60)))
    for i, label in enumerate(labels):
        group_x = left + group_w * i + (group_w - bar_w * len(series)) / 2
        for j, (name, values) in enumerate(series.items()):
            value = float(values[i]) if i < len(values) and values[i] is not None else 0.0
            h = plot_h * max(value, 0) / top_value
            x = group_x + j * bar_w
            parts.append(
                f"<rect x='{x:.1f}' y='{top + plot_h - h:.1f}' width='{bar_w - 1:.1f}' height='{h:.1f}' rx='2' "
                f"fill='{colours[j % len(colours)]}'><title>{html.escape(label)} · {html.escape(name)}: "
                f"{_short(value)}{html.escape(unit)}</title></rect>"
            )
        if i % every == 0:
            parts.append(
                f"<text x='{left + group_w * (i + 0.5):.1f}' y='{top + plot_h + 15}' text-anchor='middle' "
                f"font-size='11' fill='{TEXT}'>{html.escape(label)}</text>"
            )
    if len(series) > 1:
        x = left
        for j, name in enumerate(series):
            parts.append(
                f"<rect x='{x}' y='{height - 13}' width='10' height='10' rx='2' fill='{colours[j % len(colours)]}'/>"
                f"<text x='{x + 14}' y='{height - 4}' font-size='11' fill='{TEXT}'>{html.escape(name)}</text>"
            )
            x += 24 + 7 * len(name)
    return _frame(width, height, title, "".join(parts))
