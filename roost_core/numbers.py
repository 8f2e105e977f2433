"""Numbers from outside roost (config, environment, flags, servers, files), checked once.

Python reads ``nan``, ``inf`` and ``1e400`` as floats and ints of any size,
and each of those has crashed a command somewhere (``int(inf)``,
``datetime.fromtimestamp(1e30)``, ``time.sleep(1e12)``). Config, environment
and flag values go through ``check_number``/``parse_number`` (a VALIDATION
error naming the key); what servers and files say goes through
``server_duration``/``epoch_seconds`` (bounded, or None when unusable).
"""

from __future__ import annotations

import math
from typing import Any, Callable

from .errors import ValidationError

MAX_SERVER_DURATION_S = 7 * 86400.0  # a Retry-After, expires_in or backoff a server gives: one week at most
MAX_EPOCH_S = 253402300799.0  # 9999-12-31T23:59:59Z, the last second datetime can show


def finite(value: Any) -> float | None:
    """``value`` as a float when it is a real, finite number (not a bool, NaN, ±inf or an int too big)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def check_number(value: Any, key: str, *, integer: bool = False, minimum: float | None = None,
                 maximum: float | None = None) -> int | float:
    """``value`` when it is a finite number in range, else ValidationError naming ``key``."""
    number = finite(value)
    if number is None:
        raise ValidationError(f"{key}: expected a finite number, got {value!r}", details={"key": key})
    if integer and (isinstance(value, float) and not value.is_integer()):
        raise ValidationError(f"{key}: expected a whole number, got {value!r}", details={"key": key})
    if minimum is not None and number < minimum:
        raise ValidationError(f"{key}: must be at least {minimum:g}, got {value!r}", details={"key": key})
    if maximum is not None and number > maximum:
        raise ValidationError(f"{key}: must be at most {maximum:g}, got {value!r}", details={"key": key})
    return int(number) if integer else number


def parse_number(text: Any, key: str, **limits: Any) -> int | float:
    """A number given as text (environment, flag): ``check_number`` after parsing; NaN/inf refused."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return check_number(text, key, **limits)
    raw = str(text).strip()
    try:
        value: int | float = int(raw)
    except ValueError:
        try:
            value = float(raw)
        except ValueError:
            raise ValidationError(f"{key}: expected a number, got {text!r}", details={"key": key}) from None
    return check_number(value, key, **limits)


def server_duration(value: Any, cap: float = MAX_SERVER_DURATION_S) -> float | None:
    """A server-given number of seconds, bounded to [0, cap]; None when it is not a finite number."""
    number = finite(value)
    if number is None:
        return None
    return min(max(number, 0.0), cap)


def epoch_seconds(value: Any) -> float | None:
    """A Unix time in seconds datetime can show (0 to year 9999); None otherwise."""
    number = finite(value)
    if number is None or not 0 <= number <= MAX_EPOCH_S:
        return None
    return number


def number_setting(*, integer: bool = False, minimum: float | None = None,
                   maximum: float | None = None) -> Callable[[Any], int | float]:
    """A settings converter (config.toml, environment): a finite number in range, else ValueError.

    The resolver names the key and where the value came from; NaN, ±inf and
    ``1e400`` are refused whatever the range.
    """

    def convert(value: Any) -> int | float:
        try:
            return parse_number(value, "value", integer=integer, minimum=minimum, maximum=maximum)
        except ValidationError as err:
            raise ValueError(err.message.removeprefix("value: ")) from None

    return convert
