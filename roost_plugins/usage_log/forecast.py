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

from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from math import isfinite
from typing import Iterator, overload

MIN_SAMPLES = 3
RESET_SHIFT_TOLERANCE_S = 600.0
FLAT_SLOPE_PER_S = 1e-9  # below this the line is treated as flat (an ETA of decades)
TARGET = 100.0
NAN = float("nan")  # Samples.resets: no reset time known

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


class Samples(Sequence[Point]):
    """One profile's points as ``array('d')`` columns: 16 or 24 bytes a sample, not a Point object.

    A Sequence of Points (each made when it is read) that ``project`` and the
    plot take like a list; ``roost report`` keeps one per profile while it
    streams the log (docs/performance.md). A reset time not known is NaN in
    ``resets`` (``parse_epoch`` never returns NaN); ``resets`` is None when
    not kept at all (every point's ``resets_at`` is then None).
    ``sort()`` orders by time as ``sorted(points, key=t)`` does (stable).
    """

    __slots__ = ("times", "values", "resets", "_ordered")

    def __init__(self, times: array | None = None, values: array | None = None, resets: array | None = None,
                 *, keep_resets: bool = False) -> None:
        self.times = array("d") if times is None else times
        self.values = array("d") if values is None else values
        self.resets = array("d") if resets is None and keep_resets else resets
        self._ordered = True

    def append(self, t: float, value: float, resets_at: float | None = None) -> None:
        if self._ordered and self.times and t < self.times[-1]:
            self._ordered = False
        self.times.append(t)
        self.values.append(value)
        if self.resets is not None:
            self.resets.append(NAN if resets_at is None else resets_at)

    def sort(self) -> None:
        """Order by time; samples with the same time keep the order they came in."""
        if self._ordered:
            return
        order = sorted(range(len(self.times)), key=self.times.__getitem__)
        self.times = array("d", map(self.times.__getitem__, order))  # no list of floats on the way
        self.values = array("d", map(self.values.__getitem__, order))
        if self.resets is not None:
            self.resets = array("d", map(self.resets.__getitem__, order))
        self._ordered = True

    def __len__(self) -> int:
        return len(self.times)

    @overload
    def __getitem__(self, index: int) -> Point: ...

    @overload
    def __getitem__(self, index: slice) -> "Samples": ...

    def __getitem__(self, index: int | slice) -> "Point | Samples":
        resets = self.resets
        if isinstance(index, slice):
            return Samples(self.times[index], self.values[index], None if resets is None else resets[index])
        reset = None if resets is None else resets[index]
        return Point(self.times[index], self.values[index], None if reset is None or reset != reset else reset)

    def __iter__(self) -> Iterator[Point]:
        if self.resets is None:
            for t, value in zip(self.times, self.values):
                yield Point(t, value)
        else:
            for t, value, reset in zip(self.times, self.values, self.resets):
                yield Point(t, value, None if reset != reset else reset)


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
    starts = []
    prev = None
    for i, cur in enumerate(points):
        if prev is None or starts_new_window(prev, cur):
            starts.append(i)
        prev = cur
    return starts


def last_window_start(points: Sequence[Point]) -> int:
    """``window_starts(points)[-1]`` (0 when empty), found walking back from the newest sample."""
    cur = None
    for i in range(len(points) - 1, 0, -1):
        prev = points[i - 1]
        if starts_new_window(prev, points[i] if cur is None else cur):
            return i
        cur = prev
    return 0


def current_window(points: Sequence[Point]) -> Sequence[Point]:
    """The samples since the last reset (``points`` ordered by time): a list, or Samples from Samples."""
    if not points:
        return []
    window = points[last_window_start(points):]
    return window if isinstance(window, Samples) else list(window)


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
    is counted from; an ETA already in the past is 0. ``points`` as Samples
    must be sorted (``Samples.sort``); only the current window is then copied.
    """
    ordered = points if isinstance(points, Samples) else sorted(points, key=lambda p: p.t)
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
