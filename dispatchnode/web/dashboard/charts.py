"""Small server-rendered SVG charts for the Today page: geometry computed here, drawn by the
template (`dashboard/_bar_chart.html`, `dashboard/_sparkline.html`). No JavaScript, no library.
"""

from __future__ import annotations

import datetime as dt
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
