"""Pure chart geometry for server-rendered SVG: numbers in, coordinates out (the templates draw them).

The CSP allows no inline styles, so bars and lines are sized with SVG attributes: percentages across,
pixels down, and an inner viewBox stretched to fit for the line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

ROW = 46  # px per funnel stage: a label line and a bar
BAR_TOP = 24


@dataclass(frozen=True)
class Bar:
    key: str
    label: str
    value: int
    percent: int  # of the first stage, for the table
    width: float  # % of the chart's width
    label_y: int
    bar_y: int


def funnel_bars(stages: Sequence[tuple[str, str]], values: dict[str, int]) -> tuple[list[Bar], int]:
    """Horizontal bars scaled to the first stage; returns the bars and the SVG's height in px."""
    base = values.get(stages[0][0], 0) if stages else 0
    bars = []
    for index, (key, label) in enumerate(stages):
        value = values.get(key, 0)
        share = 100 * value / base if base else 0.0
        width = 0.0 if value == 0 else max(round(share, 2), 0.6)  # a sliver, so a small stage still shows
        bars.append(Bar(key, label, value, int(round(share)), width, index * ROW + 16, index * ROW + BAR_TOP))
    return bars, len(stages) * ROW


PLOT_TOP = 12  # px: where the plotting area starts in the outer SVG
PLOT_HEIGHT = 160  # px: its height
CHART_HEIGHT = 210  # px: the outer SVG, with room for the dates underneath
VIEW_W, VIEW_H = 1000, 400  # the inner viewBox, stretched to the plotting area


@dataclass(frozen=True)
class LineChart:
    points: str  # for <polyline points=...> in the inner viewBox
    target_y: float | None  # the target's height in the inner viewBox, None without a target
    target_label_y: float  # px in the outer SVG, just above the target's rule
    y_max: int
    first: object
    last: object
    single: bool  # one day only: draw a dot, not a line
    height: int = CHART_HEIGHT
    plot_top: int = PLOT_TOP
    plot_height: int = PLOT_HEIGHT
    view_w: int = VIEW_W
    view_h: int = VIEW_H


def line_chart(values: list[int], first, last, target: int | None = None) -> LineChart | None:
    """A running total as a line, with the target as a dashed rule when there is one."""
    if not values:
        return None
    y_max = _nice_ceiling(max(max(values), target or 0))
    n = len(values)
    points = []
    for i, value in enumerate(values):
        x = VIEW_W / 2 if n == 1 else i * VIEW_W / (n - 1)
        points.append(f"{x:.1f},{VIEW_H - (value / y_max) * VIEW_H:.1f}")
    target_y = VIEW_H - (target / y_max) * VIEW_H if target else None
    label_y = PLOT_TOP + (target_y / VIEW_H) * PLOT_HEIGHT - 5 if target_y is not None else 0
    return LineChart(
        points=" ".join(points),
        target_y=target_y,
        target_label_y=round(max(label_y, 11), 1),
        y_max=y_max,
        first=first,
        last=last,
        single=n == 1,
    )


def _nice_ceiling(value: int) -> int:
    """A round number at or above value, for the top of the axis."""
    if value <= 0:
        return 1
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if value <= step * 10:
            return -(-value // step) * step
    return value
