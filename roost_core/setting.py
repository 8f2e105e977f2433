"""One declared setting: the record every plugin (and the core) hands the resolver.

A plugin declares its settings through ``roost_register_settings()``; the
core declares its own with the same record. Where a value can come from is
the same for all: flag > environment > ``[teams.NAME]`` > config.toml >
default. ``section`` is the setting's table in config.toml (``endpoints``,
``plugins.weighted``, ``state.redis``; None for the top level); inside a
team table the same path applies without the ``plugins.`` prefix, so
``[plugins.weighted] weights`` is overridden by ``[teams.ops.weighted] weights``.

A section part ``*`` declares a setting per name: ``section="profiles.*"``,
``name="isolated"`` is ``[profiles.NAME] isolated`` for every NAME;
``named(NAME)`` is that one instance (the name is a path part of its own,
dots and all). ``marker`` names a file in the config dir whose presence is
the file layer's ``true`` (``usage-log.enabled``, written by a command):
it wins over config.toml's value, and env, team and flag win over it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

TRUTHY = frozenset({"1", "true", "yes", "on"})
FALSY = frozenset({"", "0", "false", "no", "off"})
TYPES = ("str", "int", "float", "bool", "duration", "percent", "list", "table")


@dataclass(eq=False)  # not frozen: defined on every run's hot path, and frozen doubles that cost
class Setting:
    """A setting's declaration (treat it as read-only). ``convert`` replaces the converter of ``type``."""

    default: Any = None
    convert: Callable[[Any], Any] | None = None
    env: str | None = None
    section: str | None = None
    team: bool = True  # a [teams.NAME] table may override it
    name: str = ""
    type: str = "str"
    doc: str = ""
    choices: tuple[Any, ...] = ()
    plugin: str = "core"
    minimum: float | None = None
    maximum: float | None = None
    secret: bool = False  # shown with at most its last 4 characters (a URL: password hidden)
    marker: str | None = None  # a file in the config dir: present means true (the file layer, over config.toml)
    instance: str | None = None  # the NAME of a per-name setting's instance (section with a ``*``)

    @property
    def key(self) -> str:
        """The dotted config.toml path (``strategy``, ``endpoints.api_base``, ``plugins.weighted.weights``)."""
        if self.instance is None:
            return f"{self.section}.{self.name}" if self.section else self.name
        # A NAME with a dot is quoted, as in a TOML dotted key: profiles."a.b".isolated.
        return ".".join((*(f'"{p}"' if p == self.instance and "." in p else p for p in self.table), self.name))

    @property
    def table(self) -> tuple[str, ...]:
        """The section as path parts, an instance's NAME in place of ``*``."""
        parts = tuple(p for p in (self.section or "").split(".") if p)
        if self.instance is None:
            return parts
        return tuple(self.instance if p == "*" else p for p in parts)

    @property
    def per_name(self) -> bool:
        """Declared per name (``profiles.*``) and not one instance of it."""
        return self.instance is None and "*" in (self.section or "").split(".")

    def named(self, name: str) -> "Setting":
        from dataclasses import replace

        return replace(self, instance=name)

    @property
    def team_path(self) -> tuple[str, ...]:
        """Where a team table holds it: the section without a leading ``plugins.``, then the name."""
        table = self.table
        if table[:1] == ("plugins",):
            table = table[1:]
        return (*table, self.name)

    def parse(self, raw: Any) -> Any:
        """Convert and check ``raw`` (TOML value or environment string); ValueError says why."""
        value = self.convert(raw) if self.convert is not None else _CONVERTERS[self.type](raw)
        _check_finite(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if self.minimum is not None and value < self.minimum:
                raise ValueError(f"must be at least {self.minimum:g}")
            if self.maximum is not None and value > self.maximum:
                raise ValueError(f"must be at most {self.maximum:g}")
        if self.choices and value not in self.choices:
            raise ValueError(f"must be one of {', '.join(map(str, self.choices))}")
        return value


def masked(value: Any) -> Any:
    """A secret as it may be shown: a string keeps at most its last 4 characters (a URL with a user part:
    only its password hidden), anything else (a mistyped secret) is hidden whole."""
    if not isinstance(value, str):
        return "****"
    if not value:
        return value
    if "://" in value and "@" in value:
        from urllib.parse import urlsplit

        try:
            password = urlsplit(value).password
        except ValueError:
            return "****"
        return value.replace(f":{password}@", ":****@", 1) if password else value
    return "****" + value[-4:] if len(value) > 8 else "****"


def _check_finite(value: Any) -> None:
    """NaN and infinities are never a setting (TOML and float() both accept them)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("NaN and infinity are not allowed")
    if isinstance(value, dict):
        for item in value.values():
            _check_finite(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_finite(item)


def as_str(value: Any) -> str:
    if not isinstance(value, str):  # a TOML number, boolean, array or table where text belongs
        raise ValueError("expected a string")
    return value


def as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUTHY:
        return True
    if text in FALSY:
        return False
    raise ValueError("expected true/false (1/0, yes/no, on/off)")


def as_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("expected a whole number")
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise ValueError("expected a whole number")
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError("expected a whole number") from None


def as_float(value: Any) -> float:
    if isinstance(value, bool) or isinstance(value, (dict, list, tuple)):
        raise ValueError("expected a number")
    try:
        number = float(value)
    except OverflowError:
        raise ValueError("number too large") from None
    except (TypeError, ValueError):
        raise ValueError("expected a number") from None
    if not math.isfinite(number):
        raise ValueError("NaN and infinity are not allowed")
    return number


def as_duration(value: Any) -> float:
    from .durations import parse_duration

    if isinstance(value, bool):
        raise ValueError("expected a duration")
    return as_float(parse_duration(value))


def as_percent(value: Any) -> float:
    number = as_float(value)
    if not 0 <= number <= 1000:
        raise ValueError(f"{value!r} is not a percentage (0-1000)")
    return number


def as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [v for v in (p.strip() for p in value.split(",")) if v]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValueError("expected a list of names (strings) or a comma-separated string")
    return list(value)


def as_table(value: Any) -> dict[str, Any]:
    if isinstance(value, str):  # from the environment: a JSON object
        import json

        try:
            value = json.loads(value)
        except ValueError:
            raise ValueError("expected a table (in the environment: a JSON object)") from None
    if not isinstance(value, dict):
        raise ValueError("expected a table")
    return dict(value)


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "str": as_str, "int": as_int, "float": as_float, "bool": as_bool, "duration": as_duration,
    "percent": as_percent, "list": as_list, "table": as_table,
}
