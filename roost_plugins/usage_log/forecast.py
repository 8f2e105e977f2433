"""Burn-rate forecast for ``roost report --project``: pure math, no I/O.

A usage window (the five-hour session, the seven-day week) only ever fills up
until it resets, so a straight line fitted across a reset is meaningless. The
forecast therefore fits a least-squares line to the samples of the *current*
window only, and never projects past that window's own reset either.

A new window starts at a sample when any of these holds against the sample
before it:

* the value dropped (usage within one window never goes down);
* the window's ``resets_at`` moved by more than ``RESET_SHIFT_TOLERANCE_S``
  (the API re-renders the same reset with jitter; a real new window moves it by
  hours);
* the sample was taken at or after the previous sample's ``resets_at``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from math import isfinite
from typing import Sequence

MIN_SAMPLES = 3
RESET_SHIFT_TOLERANCE_S = 600.0
FLAT_SLOPE_PER_S = 1e-9  # below this the line is treated as flat (an ETA of decades)
TARGET = 100.0

# Which window a metric lives in, as the usage-log record names its reset.
RESET_FIELD = {
    "session_pct": "session_resets_at",
    "weekly_pct": "weekly_resets_at",
    "sonnet_pct": "weekly_resets_at",
    "opus_pct": "weekly_resets_at",
    "overage_pct": None,  # monthly; no reset time is reported, so only drops split windows
}

# Projection.status values
PROJECTED = "projected"      # rising: eta_s / eta_at set
REACHED = "reached"          # the latest sample is already at or above 100
FLAT = "flat"                # flat within the current window: "—"
FALLING = "falling"          # the latest sample is below the one before (a reset or a decline): "—"
RESETS_FIRST = "resets_first"  # rising, but the window resets before it would reach 100
WINDOW_OVER = "window_over"  # the current window has already reset since the last sample
TOO_FEW = "too_few_samples"  # fewer than MIN_SAMPLES in the current window


@dataclass(frozen=True, slots=True)
class Point:
    """One sample: epoch seconds, the metric's value, and its window's reset (epoch) if known."""

    t: float
    value: float
    resets_at: float | None = None


@dataclass(frozen=True)
class Projection:
    status: str
    window_samples: int
    window_start: float | None = None
    slope_per_hour: float | None = None
    eta_s: float | None = None
    eta_at: float | None = None

    @property
    def label(self) -> str:
        """What the ETA column shows."""
        from roost_core.api import format_duration

        if self.status == PROJECTED:
            return format_duration(self.eta_s)
        if self.status == REACHED:
            return "reached"
        if self.status == TOO_FEW:
            return "too few samples"
        return "—"


def parse_epoch(value: str | float | None) -> float | None:
    """ISO 8601 (``Z`` or offset) or epoch seconds → epoch seconds; None when unreadable
    (NaN, ±inf and an int too big for a float included)."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            return None
        return number if isfinite(number) else None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def mean(values: Sequence[float]) -> float:
    """The mean of finite ``values``, finite even where their sum overflows (1e308 + 1e308)."""
    total = sum(values) / len(values)
    return total if isfinite(total) else sum(v / len(values) for v in values)


def starts_new_window(prev: Point, cur: Point) -> bool:
    if cur.value < prev.value:
        return True
    if prev.resets_at is not None and cur.resets_at is not None \
            and abs(cur.resets_at - prev.resets_at) > RESET_SHIFT_TOLERANCE_S:
        return True
    return prev.resets_at is not None and cur.t >= prev.resets_at


def window_starts(points: Sequence[Point]) -> list[int]:
    """Indexes (into time-ordered ``points``) where a window begins; always starts with 0."""
    if not points:
        return []
    return [0] + [i for i in range(1, len(points)) if starts_new_window(points[i - 1], points[i])]


def current_window(points: Sequence[Point]) -> list[Point]:
    """The samples since the last reset (``points`` ordered by time)."""
    starts = window_starts(points)
    return list(points[starts[-1]:]) if starts else []


def least_squares_slope(points: Sequence[Point]) -> float | None:
    """Slope (value per second) of the ordinary least-squares line; None if all times are equal
    or the arithmetic overflows (values near the ends of the float range)."""
    n = len(points)
    if n < 2:
        return None
    mean_t = sum(p.t for p in points) / n
    mean_v = sum(p.value for p in points) / n
    sxx = sum((p.t - mean_t) ** 2 for p in points)
    if sxx == 0:
        return None
    sxy = sum((p.t - mean_t) * (p.value - mean_v) for p in points)
    slope = sxy / sxx
    return slope if isfinite(slope) else None


def project(points: Sequence[Point], now: float | None = None, target: float = TARGET) -> Projection:
    """ETA of the current window's fitted burn rate to ``target`` (default 100 %).

    ``now`` (epoch seconds, default: the last sample's time) is where the ETA
    is counted from; an ETA already in the past is 0.
    """
    ordered = sorted(points, key=lambda p: p.t)
    window = current_window(ordered)
    if len(ordered) >= 2 and ordered[-1].value < ordered[-2].value:
        # Going down right now: nothing is burning towards 100 %, whatever the window holds.
        return Projection(FALLING, len(window), window[0].t)
    if len(window) < MIN_SAMPLES:
        return Projection(TOO_FEW, len(window), window[0].t if window else None)
    last = window[-1]
    now = last.t if now is None else now
    start = window[0].t
    slope = least_squares_slope(window)
    per_hour = None if slope is None else slope * 3600
    if last.resets_at is not None and now >= last.resets_at:
        return Projection(WINDOW_OVER, len(window), start, per_hour)
    if last.value >= target:
        return Projection(REACHED, len(window), start, per_hour, 0.0, last.t)
    if slope is None or slope <= FLAT_SLOPE_PER_S:
        return Projection(FLAT, len(window), start, per_hour)
    eta_at = last.t + (target - last.value) / slope
    if last.resets_at is not None and eta_at >= last.resets_at:
        return Projection(RESETS_FIRST, len(window), start, per_hour, None, None)
    return Projection(PROJECTED, len(window), start, per_hour, max(0.0, eta_at - now), eta_at)
