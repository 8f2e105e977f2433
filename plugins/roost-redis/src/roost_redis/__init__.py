"""roost-redis: the ``redis`` state backend (one pool of profiles for a fleet of machines).

Selected with ``[state] backend = "redis"`` (or CLAUDE_LB_STATE_BACKEND=redis)
and configured in ``[state.redis]`` (see settings.py and docs/SCALE-OUT.md).
This module imports only the standard library and roost_core: redis-py and
cryptography are imported when the backend is opened, so having the plugin
installed costs a ``files`` user nothing.
"""

from __future__ import annotations

from typing import Any

from roost_core import hookimpl

__version__ = "0.5.0"


class RedisBackendFactory:
    name = "redis"

    def open(self, ctx: Any) -> Any:
        from .backend import RedisBackend
        from .settings import RedisSettings

        table = ctx.settings.section("state").get("redis", {})
        settings = RedisSettings.resolve(table if isinstance(table, dict) else {}, ctx.env, ctx.paths.config_dir)
        return RedisBackend(settings, ctx.paths.config_dir, ctx.paths, ctx.warn, ctx.now)


@hookimpl
def roost_register_state_backends():
    return RedisBackendFactory()
