"""Pieces every command shares: the --json flag, the RoostContext, profile completion."""

from __future__ import annotations

from typing import Any, Callable

import click

from ..context import RoostContext


def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    from . import json_flag

    return click.option("--json", "json_mode", is_flag=True, expose_value=False, callback=json_flag,
                        help="Print the {data, meta} envelope on stdout.")(func)


pass_roost = click.make_pass_decorator(RoostContext, ensure=True)


def team_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--team NAME`` on a command, as on the root group: apply ``[teams.NAME]`` from config.toml."""
    from . import _set_team

    return click.option("--team", metavar="NAME", expose_value=False, callback=_set_team,
                        help="Apply [teams.NAME] from config.toml (or $CLAUDE_LB_TEAM).")(func)


def complete_profiles(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Profile names for shell completion (never fails: completion must stay quiet)."""
    from click.shell_completion import CompletionItem

    from ..profiles import discover

    try:
        rctx = ctx.find_object(RoostContext) or RoostContext()
        return [CompletionItem(p.name) for p in discover(rctx.paths) if p.name.startswith(incomplete)]
    except Exception:
        return []


class DurationType(click.ParamType):
    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        from ..durations import parse_duration

        try:
            return parse_duration(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


DURATION = DurationType()


class PercentType(click.ParamType):
    name = "pct"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not 0 <= number <= 1000:
            self.fail(f"{value!r} is not a percentage (0-1000)", param, ctx)
        return number


PERCENT = PercentType()


class SettingType(click.ParamType):
    """A flag that sets a declared setting (``--stickiness``, or a plugin's ``plugins.NAME.KEY``): parsed
    by the setting's declaration, so a bad value is refused as one from config.toml is, naming setting,
    plugin and source (the flag), exit 4. Pass the parsed value on as ``settings.get(key, flag)``."""

    name = "setting"

    def __init__(self, key: str) -> None:
        self.key = key

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        spec = _setting(self.key, ctx)
        try:
            return spec.parse(value)
        except (TypeError, ValueError, OverflowError) as exc:
            from ..config import bad_value

            flag = param.opts[0] if param is not None and param.opts else None
            raise bad_value(spec, value, exc, "flag", flag) from None


def _setting(key: str, ctx: click.Context | None) -> Any:
    from ..config import SETTINGS

    if key in SETTINGS:  # the core's: no plugin loaded to find it
        return SETTINGS[key]
    rctx = ctx.find_object(RoostContext) if ctx is not None else None
    return (rctx or RoostContext()).settings.spec(key)
