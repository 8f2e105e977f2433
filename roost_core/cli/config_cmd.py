"""``roost config``: show resolved settings; plugins attach subcommands (usage-log)."""

from __future__ import annotations

import click

from ..config import SETTINGS
from ..context import RoostContext
from .common import json_option


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
@click.pass_context
def config_group(ctx: click.Context) -> None:
    """Show the resolved configuration (flag > env > team > config.toml > default)."""
    if ctx.invoked_subcommand is not None:
        return
    rctx = ctx.ensure_object(RoostContext)
    values = {key: rctx.settings.get(key) for key in SETTINGS}
    meta = {"config_file": str(rctx.paths.config_file), "exists": rctx.paths.config_file.is_file(),
            "team": rctx.settings.team}
    text = "\n".join(f"{k} = {v!r}" for k, v in values.items())
    rctx.out.emit(values, meta, text=text)


