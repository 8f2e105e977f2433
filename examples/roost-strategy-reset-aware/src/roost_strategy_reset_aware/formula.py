"""The reset-aware score: headroom weighed against time to the window's reset.

For each usage window with data (session: 5 h, weekly: 7 d)::

    headroom  h = 100 - utilization                  (clamped to 0..100)
    before    b = min(time to reset, H) / H          (share of the horizon before the reset)
    value       = h * b + 100 * (1 - b)

``H`` is the planning horizon (default 5 h: about one task's session). The
value is the average headroom the window offers over the next ``H``: headroom
that resets in 20 minutes counts for only 20/300 of it (it is worth little as
a reserve, and the window is full again right after), while a window that
stays tight past the horizon is worth exactly its headroom. The profile's
score is the value of its binding (lowest) window; higher is better.

A window without utilization data is left out; a profile without any scores
``None`` and ranks after every scored one. An unknown reset time gives no
reset credit (the window is taken to stay as it is for the whole horizon); a
reset time in the past counts as reset now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from roost_core.api import parse_time  # the core's ISO reader: one rule for every reset time

DEFAULT_HORIZON_S = 5 * 3600.0


@dataclass(frozen=True)
class WindowValue:
    window: str  # "session" | "weekly"
    headroom: float
    reset_in_s: float | None
    value: float



def window_value(window: str, utilization: float | None, resets_at: str | None, now: datetime,
                 horizon_s: float) -> WindowValue | None:
    if utilization is None:
        return None
    headroom = min(100.0, max(0.0, 100.0 - float(utilization)))
    reset = parse_time(resets_at)
    reset_in = None if reset is None else max(0.0, (reset - now).total_seconds())
    before = 1.0 if reset_in is None else min(reset_in, horizon_s) / horizon_s
    return WindowValue(window, headroom, reset_in, headroom * before + 100.0 * (1.0 - before))


def binding_window(session: tuple[float | None, str | None], weekly: tuple[float | None, str | None],
                   now: datetime, horizon_s: float = DEFAULT_HORIZON_S) -> WindowValue | None:
    """The window that limits this profile over the horizon (lowest value), or None without data."""
    values = [v for v in (window_value("session", *session, now, horizon_s),
                          window_value("weekly", *weekly, now, horizon_s)) if v is not None]
    return min(values, key=lambda v: v.value) if values else None


def describe(value: WindowValue) -> str:
    """``binding: weekly 30% left, resets in 6d`` for explain notes."""
    from roost_core.api import format_duration

    when = "reset unknown" if value.reset_in_s is None else f"resets in {format_duration(value.reset_in_s)}"
    return f"binding: {value.window} {value.headroom:g}% left, {when}"
