"""A small server-side SVG line chart of events over time (no JavaScript needed)."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from .metrics import Timeline

SERIES_STYLE = {  # label and colour of each event kind, colours distinct for colour-blind readers
    "open": ("Opens", "#2563eb"),
    "view": ("Page views", "#7c3aed"),
    "download": ("Downloads", "#059669"),
    "click": ("Clicks", "#d97706"),
    "share": ("Shares", "#db2777"),
    "conversion": ("Conversions", "#0f172a"),
}
_W, _H = 720, 240
_LEFT, _RIGHT, _TOP, _BOTTOM = 40, 12, 12, 28


@dataclass(frozen=True)
class Chart:
    svg: Markup
    legend: list[tuple[str, str, int]]  # label, colour, total
    empty: bool


def timeline_svg(timeline: Timeline) -> Chart:
    if not timeline.buckets:
        return Chart(Markup(""), [], True)
    peak = max(max(values) for values in timeline.series.values())
    top = _nice_ceiling(peak)
    count = len(timeline.buckets)
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM

    def x(i: int) -> float:
        return _LEFT + (plot_w * i / (count - 1) if count > 1 else plot_w / 2)

    def y(value: int) -> float:
        return _TOP + plot_h * (1 - value / top)

    parts = [
        f'<svg class="chart" viewBox="0 0 {_W} {_H}" role="img" aria-labelledby="chart-title">',
        f'<title id="chart-title">Human events per {timeline.unit}</title>',
    ]
    for step in range(5):
        value = top * step / 4
        parts.append(
            f'<line class="grid" x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}"/>'
            f'<text class="axis" x="{_LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end">{value:g}</text>'
        )
    fmt = "%d %b %H:00" if timeline.unit == "hour" else "%d %b"
    for i in sorted({0, count // 2, count - 1}):
        label = escape(timeline.buckets[i].strftime(fmt))
        parts.append(
            f'<text class="axis" x="{x(i):.1f}" y="{_H - 8}" text-anchor="middle">{label}</text>'
        )
    legend = []
    for kind, values in timeline.series.items():
        label, colour = SERIES_STYLE[kind]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2.5" points="{points}"/>'
        )
        if count == 1:
            parts.append(f'<circle cx="{x(0):.1f}" cy="{y(values[0]):.1f}" r="4" fill="{colour}"/>')
        legend.append((label, colour, sum(values)))
    parts.append("</svg>")
    return Chart(Markup("".join(parts)), legend, False)


def _nice_ceiling(value: int) -> int:
    """The smallest of 4, 8, 12, 20, 40, 80… at or above `value`: four grid steps of round size."""
    scale = 1
    while True:
        for base in (4, 8, 12, 20):
            if base * scale >= value:
                return base * scale
        scale *= 10
