"""Durations as the CLI accepts them: a bare number of seconds, or N with s/m/h/d/w."""

from __future__ import annotations

import math
import re

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.IGNORECASE)


MAX_DURATION_S = 100 * 365 * 86400.0  # longer than any history, lease or wait roost keeps


def parse_duration(text: str | float | int) -> float:
    """Seconds in ``text`` ("90", "30m", "1.5h"); ValueError when it is not a duration.

    NaN, infinities and anything over MAX_DURATION_S (100 years) are refused
    here, so no caller turns "99999999999999999999d" into an overflow.
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        try:
            seconds = float(text)
        except OverflowError:
            raise ValueError("duration too long (at most 100 years)") from None
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"not a duration: {text!r}")
    else:
        match = _PATTERN.match(str(text))
        if not match:
            raise ValueError(f"not a duration: {text!r} (use seconds, or a number with s, m, h, d or w)")
        number, unit = match.groups()
        seconds = float(number) * _UNITS[(unit or "s").lower()]
    if seconds > MAX_DURATION_S:
        raise ValueError(f"duration too long: {text!r} (at most 100 years)")
    return seconds


def format_duration(seconds: float | None) -> str:
    """Compact human form: 45s, 12m, 2h 14m, 3d 4h."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    seconds = int(round(seconds))
    if seconds < 0:
        return "-" + format_duration(-seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, _ = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h" if hours else f"{days}d"


def to_epoch(value: object) -> float | None:
    """An instant as epoch seconds: ISO 8601 text (no zone: UTC), epoch seconds or
    epoch milliseconds (above 1e11); anything else (bool, NaN, junk) is None."""
    from datetime import datetime, timezone

    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            seconds = float(value)
        except OverflowError:  # an int of 400 digits: no instant
            return None
        if not math.isfinite(seconds):
            return None
        return seconds / 1000 if seconds > 1e11 else seconds
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()
