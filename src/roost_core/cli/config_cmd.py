"""``roost config``: show resolved settings; plugins attach subcommands (usage-log)."""

from __future__ import annotations

import click

from ..config import SETTINGS
from ..context import RoostContext
from .common import json_option, pass_roost


@click.group("config", invoke_without_command=True)
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


