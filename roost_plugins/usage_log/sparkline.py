"""Unicode sparklines for ``roost report --sparkline``: pure, no I/O."""

from __future__ import annotations

from typing import Sequence

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
        chunk = values[lo:hi]
        out.append(sum(chunk) / len(chunk))
    return out


def sparkline(values: Sequence[float], width: int = DEFAULT_WIDTH) -> str:
    """Bars scaled between the series' own min and max (a flat series is a row of ▄)."""
    points = bucket_means([float(v) for v in values], max(1, width))
    if not points:
        return ""
    low, high = min(points), max(points)
    if high == low:
        return BARS[3] * len(points)
    top = len(BARS) - 1
    return "".join(BARS[round((v - low) / (high - low) * top)] for v in points)
