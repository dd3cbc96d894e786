"""Small server-rendered SVG charts for the Today page: geometry computed here, drawn by the
template (`dashboard/_bar_chart.html`, `dashboard/_sparkline.html`). No JavaScript, no library.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

WIDTH, HEIGHT = 480, 150
TOP, BOTTOM, LEFT, RIGHT = 12, 22, 8, 8


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int
    show_label: bool

    @property
    def cx(self) -> float:
        return round(self.x + self.width / 2, 1)

    @property
    def value_y(self) -> float:
        return round(self.y - 3, 1)


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    baseline: float
    bars: list[Bar]
    peak: int
    total: int
    description: str


def _hour_label(hour: int) -> str:
    suffix = "a" if hour < 12 else "p"
    return f"{(hour % 12) or 12}{suffix}"


def hourly_bar_chart(
    counts: dict[int, int], *, first_hour: int = 6, last_hour: int = 21
) -> BarChart:
    """Calls per local hour; the business hours always shown, other hours only when calls came
    in then."""
    hours = sorted(set(range(first_hour, last_hour + 1)) | {h for h, n in counts.items() if n})
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(hours)
    peak = max(counts.values(), default=0)
    bars = []
    for i, hour in enumerate(hours):
        value = counts.get(hour, 0)
        h = plot_h * value / peak if peak else 0
        bars.append(
            Bar(
                x=round(LEFT + i * slot + slot * 0.15, 1),
                y=round(TOP + plot_h - h, 1),
                width=round(slot * 0.7, 1),
                height=round(h, 1),
                label=_hour_label(hour),
                value=value,
                show_label=i % 2 == 0,
            )
        )
    busiest = max(hours, key=lambda h: counts.get(h, 0))
    total = sum(counts.values())
    description = (
        f"{total} call{'s' if total != 1 else ''} today; busiest hour {_hour_label(busiest)} "
        f"with {counts.get(busiest, 0)}."
        if total
        else "No calls yet today."
    )
    return BarChart(WIDTH, HEIGHT, TOP + plot_h, bars, peak, total, description)


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    day: dt.date
    value: int


@dataclass(frozen=True)
class Sparkline:
    width: int
    height: int
    baseline: float
    points: list[Point]
    polyline: str
    total: int
    description: str


def sparkline(
    series: list[tuple[dt.date, int]], *, width: int = 480, height: int = 80
) -> Sparkline:
    """Jobs booked per day, oldest first, as a line with a dot per day."""
    top, bottom, side = 10, 18, 8
    plot_w, plot_h = width - 2 * side, height - top - bottom
    peak = max((v for _, v in series), default=0)
    step = plot_w / max(len(series) - 1, 1)
    points = [
        Point(
            x=round(side + i * step, 1),
            y=round(top + plot_h - (plot_h * value / peak if peak else 0), 1),
            day=day,
            value=value,
        )
        for i, (day, value) in enumerate(series)
    ]
    total = sum(v for _, v in series)
    if series:
        description = (
            f"{total} job{'s' if total != 1 else ''} booked from {series[0][0]:%b %-d} to "
            f"{series[-1][0]:%b %-d}; most in a day: {peak}."
        )
    else:
        description = "No days to show."
    return Sparkline(
        width,
        height,
        top + plot_h,
        points,
        " ".join(f"{p.x},{p.y}" for p in points),
        total,
        description,
    )


# --- Reports: revenue by source as stacked bars, receivables by age as horizontal bars ----------


def short_money(value) -> str:
    """$950, $1.2k, $12k, $1.5M: for axis labels, where cents are noise."""
    amount = float(value)
    for limit, suffix in ((1_000_000, "M"), (1_000, "k")):
        if abs(amount) >= limit:
            scaled = amount / limit
            return f"${scaled:.1f}{suffix}" if abs(scaled) < 10 else f"${scaled:.0f}{suffix}"
    return f"${amount:.0f}"


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10ⁿ at or above `value`, so axis lines fall on round sums."""
    if value <= 0:
        return 0
    magnitude = 10 ** math.floor(math.log10(value))
    return next(f * magnitude for f in (1, 2, 2.5, 5, 10) if f * magnitude >= value)


@dataclass(frozen=True)
class Segment:
    x: float
    y: float
    width: float
    height: float
    series: str  # the series key, also the CSS class suffix
    title: str


@dataclass(frozen=True)
class Column:
    label: str
    show_label: bool
    cx: float
    segments: list[Segment]
    total_title: str
    note: str  # a short figure over the column ("48%"), "" for none
    note_y: float


@dataclass(frozen=True)
class GridLine:
    y: float
    label: str


@dataclass(frozen=True)
class LegendItem:
    series: str
    label: str


@dataclass(frozen=True)
class StackedBarChart:
    width: int
    height: int
    left: int
    baseline: float
    columns: list[Column]
    grid: list[GridLine]
    legend: list[LegendItem]
    description: str


def stacked_bar_chart(
    columns: list[tuple[str, dict[str, object]]],
    *,
    series: list[tuple[str, str]],
    highlight: str,
    description: str,
    width: int = 640,
    height: int = 220,
) -> StackedBarChart:
    """One column per bucket (`(label, {series key: amount})`), the series stacked bottom-up in
    `series` order. Over each column with money in it, the `highlight` series' share of it."""
    top, bottom, left, right = 16, 22, 46, 8
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(float(values.get(key, 0)) for key, _ in series) for _, values in columns]
    peak = nice_ceiling(max(totals, default=0))
    slot = plot_w / max(len(columns), 1)
    every = max(1, -(-len(columns) // 12))  # at most 12 labels
    names = dict(series)
    drawn = []
    for i, ((label, values), total) in enumerate(zip(columns, totals, strict=True)):
        x, y = round(left + i * slot + slot * 0.15, 1), top + plot_h
        segments = []
        for key, name in series:
            amount = float(values.get(key, 0))
            if not amount or not peak:
                continue
            h = plot_h * amount / peak
            y -= h
            segments.append(
                Segment(
                    x=x,
                    y=round(y, 1),
                    width=round(slot * 0.7, 1),
                    height=round(h, 1),
                    series=key,
                    title=f"{label} · {name}: {short_money(amount)}",
                )
            )
        share = float(values.get(highlight, 0)) / total if total else None
        drawn.append(
            Column(
                label=label,
                show_label=i % every == 0,
                cx=round(left + i * slot + slot / 2, 1),
                segments=segments,
                total_title=f"{label}: {short_money(total)}",
                note=f"{share:.0%}" if share is not None and len(columns) <= 16 else "",
                note_y=round(y - 4, 1),
            )
        )
    grid = (
        [
            GridLine(y=round(top + plot_h * (1 - f), 1), label=short_money(peak * f))
            for f in (0.5, 1.0)
        ]
        if peak
        else []
    )
    legend = [LegendItem(series=key, label=names[key]) for key, _ in series]
    return StackedBarChart(width, height, left, top + plot_h, drawn, grid, legend, description)


@dataclass(frozen=True)
class HBar:
    y: float
    width: float
    label: str
    value: str
    tone: str  # CSS class suffix
    text_y: float


@dataclass(frozen=True)
class HBarChart:
    width: int
    height: int
    left: int
    bars: list[HBar]
    description: str


def horizontal_bar_chart(
    rows: list[tuple[str, object, str, str]], *, description: str, width: int = 480
) -> HBarChart:
    """One bar per `(label, amount, shown value, tone)`, longest for the largest amount."""
    left, right, row_h = 92, 96, 28
    plot_w = width - left - right
    peak = max((float(amount) for _, amount, _, _ in rows), default=0)
    bars = [
        HBar(
            y=i * row_h + 4,
            width=round(plot_w * float(amount) / peak, 1) if peak else 0,
            label=label,
            value=value,
            tone=tone,
            text_y=i * row_h + 18,
        )
        for i, (label, amount, value, tone) in enumerate(rows)
    ]
    return HBarChart(width, len(rows) * row_h + 4, left, bars, description)
