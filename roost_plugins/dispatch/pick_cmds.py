"""``roost pick`` and ``roost which``, and ``pick_options``: every pick flag as one decorator.

``exec`` reuses ``pick_options`` so its picking flags can never drift from
pick's. Strategy names for --help, completion and errors come from the plugin
host, so a third-party strategy shows up everywhere a built-in one does.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Callable

import click

from roost_core.api import (
    EXPORT_VAR,
    PickOptions,
    RoostContext,
    SettingType,
    ValidationError,
    complete_profiles,
    json_option,
    pass_roost,
    run_pick,
    team_option,
)

_SHELL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _strategies(ctx: click.Context) -> dict[str, Any]:
    """Every registered strategy by name; empty (never an error) for help and completion."""
    try:
        rctx = ctx.find_object(RoostContext) or RoostContext()
        return dict(rctx.host.registry("strategy"))
    except Exception:
        return {}


def complete_strategies(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    from click.shell_completion import CompletionItem

    return [CompletionItem(name, help=getattr(obj, "summary", None))
            for name, obj in sorted(_strategies(ctx).items()) if name.startswith(incomplete)]


class StrategyOption(click.Option):
    """--strategy, whose help lists the strategies installed right now."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        names = " | ".join(sorted(_strategies(ctx))) or "see 'roost plugins'"
        self.help = f"Pick strategy (default sticky, or config/team 'strategy'): {names}."
        return super().get_help_record(ctx)


class PickCommand(click.Command):
    """A command whose help ends with every installed strategy and its summary."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, str(getattr(obj, "summary", "") or "")) for name, obj in sorted(_strategies(ctx).items())]
        if rows:
            with formatter.section("Strategies"):
                formatter.write_dl(rows)
        super().format_epilog(ctx, formatter)


_COUNT_FLAG = click.option("--count", "-n", "pick_count", type=click.IntRange(min=1), default=1, show_default=True,
                           help="Return up to N profiles in strategy order (pick: only the first updates stickiness).")

_PICK_FLAGS: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
    click.option("--strategy", "pick_strategy", metavar="NAME", cls=StrategyOption,
                 shell_complete=complete_strategies, help="Pick strategy."),
    _COUNT_FLAG,
    click.option("--avoid", "pick_avoid", metavar="NAME", multiple=True, shell_complete=complete_profiles,
                 help="Exclude this profile (repeatable)."),
    click.option("--max-cost", "pick_max_cost", type=SettingType("max_cost"), metavar="PCT",
                 help="Skip profiles whose monthly overage utilization is >= PCT (no overage data: never skipped)."),
    click.option("--require-ok", "pick_require_ok", is_flag=True,
                 help="Only ok profiles; exit 5 (FORBIDDEN) when none is ok."),
    click.option("--fallback", "pick_fallback", metavar="NAME", shell_complete=complete_profiles,
                 help="When nothing can be picked, return this profile (with a warning) if it exists and is not avoided."),
    click.option("--warn-at", "pick_warn_at", type=SettingType("warn_at"), metavar="PCT",
                 help="Warn on stderr when the pick's session or weekly usage is >= PCT."),
    click.option("--stickiness", "pick_stickiness", type=SettingType("stickiness"), metavar="DURATION",
                 help="Sticky window (seconds or 30s/5m/1h; 0 disables). Default $CLAUDE_LB_STICKINESS or 300."),
    click.option("--model", "pick_model", metavar="NAME",
                 help="Also skip profiles whose weekly limit for this model (opus, sonnet, a display name) is spent."),
    click.option("--auto-refresh", "pick_auto_refresh", is_flag=True,
                 help="Refresh auth_expired profiles that have a refresh token before picking."),
    click.option("--explain", "pick_explain", is_flag=True,
                 help="Show the decision tree on stderr (in --json: data.explain / error.details.explain)."),
    click.option("--no-cache", "pick_no_cache", is_flag=True, help="Ignore cached health; probe every profile."),
    team_option,
]


def pick_options(func: Callable[..., Any] | None = None, *, count: bool = True) -> Any:
    """Add every pick flag to a click command and pass them as one ``pick_opts: PickOptions``
    (``count=False``: without -n/--count, for commands that use one profile)."""
    if func is None:
        return functools.partial(pick_options, count=count)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        opts = PickOptions(
            strategy=kwargs.pop("pick_strategy"), count=kwargs.pop("pick_count", 1),
            avoid=tuple(kwargs.pop("pick_avoid")), max_cost=kwargs.pop("pick_max_cost"),
            require_ok=kwargs.pop("pick_require_ok"), fallback=kwargs.pop("pick_fallback"),
            warn_at=kwargs.pop("pick_warn_at"), stickiness=kwargs.pop("pick_stickiness"),
            model=kwargs.pop("pick_model"), auto_refresh=kwargs.pop("pick_auto_refresh"),
            explain=kwargs.pop("pick_explain"), no_cache=kwargs.pop("pick_no_cache"))
        return func(*args, pick_opts=opts, **kwargs)

    for flag in reversed([f for f in _PICK_FLAGS if count or f is not _COUNT_FLAG]):
        wrapper = flag(wrapper)
    return wrapper


def _answer(rctx: RoostContext, opts: PickOptions, export: bool, var_name: str, *, side_effects: bool) -> None:
    if export and opts.count > 1:
        raise ValidationError("--export prints one variable and cannot be combined with --count > 1; "
                              "use --json to read several names")
    if not _SHELL_NAME.fullmatch(var_name):
        raise ValidationError(f"--var-name {var_name!r} is not a shell variable name")
    outcome = run_pick(rctx, opts, side_effects=side_effects)
    items = [r.to_dict() for r in outcome.results]
    meta: dict[str, Any] = {"count": len(items), "requested": opts.count, "strategy": outcome.strategy,
                            "side_effects": side_effects, "fallback_used": outcome.fallback_used,
                            "warnings": outcome.warnings}
    if rctx.settings.team:
        meta["team"] = rctx.settings.team
    if opts.count > 1:
        data: Any = items
        if opts.explain:
            meta["explain"] = outcome.explain
    else:
        data = items[0]
        if opts.explain:
            data["explain"] = outcome.explain
    names = [item["name"] for item in items]
    if export:
        import shlex  # --export only

        text = f"{var_name}={shlex.quote(names[0])}"
    else:
        text = "\n".join(names)
    rctx.out.emit(data, meta, text=text)


def _export_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--var-name", default=EXPORT_VAR, show_default=True, metavar="NAME",
                        help="Variable name for --export.")(func)
    return click.option("--export", is_flag=True,
                        help=f"Print {EXPORT_VAR}=name, shell-sourceable: eval \"$(roost pick --export)\".")(func)


@click.command("pick", cls=PickCommand)
@pick_options
@_export_options
@json_option
@pass_roost
def pick_cmd(rctx: RoostContext, pick_opts: PickOptions, export: bool, var_name: str) -> None:
    """Print the healthiest profile's name (exit 2/5/6/9 say why when none can be picked).

    Every pick is logged to picks.log; the first one updates last-pick.json
    (stickiness). Flags may also come from config.toml and [teams.NAME].
    """
    _answer(rctx, pick_opts, export, var_name, side_effects=True)


@click.command("which", cls=PickCommand)
@pick_options
@_export_options
@json_option
@pass_roost
def which_cmd(rctx: RoostContext, pick_opts: PickOptions, export: bool, var_name: str) -> None:
    """What pick WOULD return, with no write to picks.log or last-pick.json (probing is allowed)."""
    _answer(rctx, pick_opts, export, var_name, side_effects=False)
