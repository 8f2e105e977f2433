"""``roost config``: the resolved settings as TOML, each value's origin in a comment.

Every declared setting (the core's and each plugin's) is listed with where its
value came from (``# default``, ``# file``, ``# file (marker PATH)``, ``# env CLAUDE_LB_X``,
``# team ops``); ``--json`` gives ``{key: {value, origin, source, plugin}}``. A
per-name setting (``[profiles.NAME] isolated``) is listed as its default
(``profiles.*.isolated``, a commented line) and once for each NAME that sets it. Plugins attach
subcommands here (``config usage-log``): this plugin adds the group first
(``tryfirst``), so theirs find it when every command plugin is loaded.
"""

from __future__ import annotations

from typing import Any

import click

from roost_core.api import RoostContext, hookimpl, json_option, team_option

from .tomlout import document


class ConfigGroup(click.Group):
    """Plugins attach subcommands here (``config usage-log``): load them on a miss, and for help."""

    def _load_plugins(self, ctx: click.Context) -> None:
        root = ctx.find_root()
        loader = getattr(root.command, "_load_plugin_commands", None)
        if loader is not None:
            loader(root)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands:
            self._load_plugins(ctx)
        return super().get_command(ctx, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugins(ctx)
        return super().list_commands(ctx)


@click.group("config", cls=ConfigGroup, invoke_without_command=True)
@json_option
@team_option
@click.pass_context
def config_group(ctx: click.Context) -> None:
    """Show the resolved settings as TOML (flag > env > team > config.toml > default).

    Every declared setting, each value's origin in a comment; --json gives
    {value, origin, source, plugin} per key. A marker file written by a command
    (usage-log.enabled) counts as the file layer, over config.toml's value; a
    per-profile setting ([profiles.NAME] isolated) shows its default
    (profiles.*.isolated) and each profile that sets it.
    """
    if ctx.invoked_subcommand is not None:
        return
    rctx = ctx.ensure_object(RoostContext)
    settings = rctx.settings
    resolved = settings.resolve_all()
    path = rctx.paths.config_file
    meta = {"config_file": str(path), "exists": path.is_file(), "team": settings.team}
    data = {r.spec.key: {"value": r.shown(), "origin": r.origin, "source": r.source, "plugin": r.spec.plugin}
            for r in resolved}
    header = ["roost config: resolved settings (flag > env > team > config.toml > default)",
              f"config file: {path}" + ("" if meta["exists"] else " (absent: built-in defaults)")
              + (f"; team: {settings.team}" if settings.team else "")]
    rows = [(_section(r.spec), r.spec.name, r.shown(), r.describe() + _plugin_note(r)) for r in resolved]
    rctx.out.emit(data, meta, text=document(rows, header))


def _section(spec: Any) -> "tuple[str, ...] | None":
    """The table as path parts (a per-name instance's NAME is one part, dots and all)."""
    return spec.table or None


def _plugin_note(resolved: Any) -> str:
    return "" if resolved.spec.plugin == "core" else f" (plugin {resolved.spec.plugin})"


@hookimpl(tryfirst=True)  # before the plugins that attach to the group
def roost_register_commands(cli: click.Group) -> None:
    cli.add_command(config_group)
