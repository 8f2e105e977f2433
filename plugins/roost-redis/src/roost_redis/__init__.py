"""roost-redis: the ``redis`` state backend (one pool of profiles for a fleet of machines).

Selected with ``[state] backend = "redis"`` (or CLAUDE_LB_STATE_BACKEND=redis)
and configured in ``[state.redis]`` (see settings.py and docs/SCALE-OUT.md).
This module imports only the standard library and roost_core: redis-py and
cryptography are imported when the backend is opened, so having the plugin
installed costs a ``files`` user nothing.
"""

from __future__ import annotations

from typing import Any

from roost_core.api import hookimpl

__version__ = "0.5.0"


class RedisBackendFactory:
    name = "redis"

    def open(self, ctx: Any) -> Any:
        from .backend import RedisBackend
        from .declared import roost_register_settings
        from .settings import RedisSettings

        for spec in roost_register_settings():  # a bad declared value: the resolver's error (plugin, source)
            ctx.settings.get(spec.key)
        table = ctx.settings.table("state.redis")  # [state.redis], a team's [teams.NAME.state.redis] over it
        settings = RedisSettings.resolve(table, ctx.env, ctx.paths.config_dir)
        backend = RedisBackend(settings, ctx.paths.config_dir, ctx.paths, ctx.warn, ctx.now)
        # A claude on this machine writes the local tree under its own lock directories:
        # take them as the files backend does (through the plugin host, not an import).
        backend.local.claude = ctx.host.get("state", "files", "state backend").open(ctx)
        return backend


@hookimpl
def roost_register_state_backends():
    return RedisBackendFactory()
