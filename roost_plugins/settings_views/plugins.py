"""``roost plugins``: what is loaded, from which distribution, providing what."""

from __future__ import annotations

import click

from roost_core.api import RoostContext, hookimpl, json_option, pass_roost


@click.command("plugins")
@json_option
@pass_roost
def plugins_cmd(rctx: RoostContext) -> None:
    """List every plugin, its distribution and version, and what it provides."""
    infos = rctx.host.plugin_infos()
    rows = [{"name": i.name, "dist": i.dist, "version": i.version, "kinds": sorted(set(i.kinds)),
             "provides": {k: sorted(v) for k, v in i.provides.items()}, "status": i.status, "error": i.error}
            for i in infos]
    lines = []
    for i in infos:
        provided = "; ".join(f"{k}: {', '.join(sorted(v))}" for k, v in sorted(i.provides.items()))
        what = provided or ", ".join(sorted(set(i.kinds)))
        dist = f"{i.dist} {i.version}" if i.dist else "-"
        extra = f"  [{i.status}: {i.error}]" if i.error else (f"  [{i.status}]" if i.status != "loaded" else "")
        lines.append(f"{i.name:<22} {dist:<18} {what}{extra}")
    rctx.out.emit(rows, {"count": len(rows), "failures": len(rctx.host.failures)}, text="\n".join(lines))


@hookimpl
def roost_register_commands(cli: click.Group) -> None:
    cli.add_command(plugins_cmd)
