"""Unicode sparklines for ``roost report --sparkline``: pure, no I/O."""

from __future__ import annotations

from math import isfinite
from typing import Sequence

from .forecast import mean

BARS = "▁▂▃▄▅▆▇█"
DEFAULT_WIDTH = 16


def bucket_means(values: Sequence[float], width: int) -> list[float]:
    """Shrink ``values`` to at most ``width`` points, each the mean of a contiguous run."""
    n = len(values)
    if n <= width:
        return list(values)
    out = []
    for i in range(width):
        lo, hi = i * n // width, (i + 1) * n // width
        out.append(mean(values[lo:hi]))
    return out


def sparkline(values: Sequence[float], width: int = DEFAULT_WIDTH) -> str:
    """Bars scaled between the series' own min and max (a flat series is a row of ▄)."""
    points = bucket_means([float(v) for v in values if isfinite(v)], max(1, width))  # NaN/inf: no bar
    if not points:
        return ""
    low, high = min(points), max(points)
    if high == low:
        return BARS[3] * len(points)
    if not isfinite(high - low):  # the ends of the float range (-1e308 to 1e308): halved, the same bars
        points, low, high = [v / 2 for v in points], low / 2, high / 2
    top = len(BARS) - 1
    return "".join(BARS[round((v - low) / (high - low) * top)] for v in points)
