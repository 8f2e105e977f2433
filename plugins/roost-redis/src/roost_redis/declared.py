"""The redis backend's settings, declared to roost's one resolver (``roost config`` lists them).

Its own module (``settings.redis``): declaring costs no import of redis-py.
A team may override them (``[teams.NAME.state.redis]``); settings.py still
checks the whole ``[state.redis]`` table when the backend opens.
"""

from __future__ import annotations

from typing import Any

from roost_core.api import Setting, hookimpl


@hookimpl
def roost_register_settings() -> list[Any]:
    return [
        Setting(None, name="url", section="state.redis", env="CLAUDE_LB_REDIS_URL", secret=True,
                doc="Redis URL of the shared store (rediss://user:password@host:port/db; password hidden in output)."),
        Setting(None, name="key_file", section="state.redis", env="CLAUDE_LB_REDIS_KEY_FILE",
                doc="File holding the fleet's encryption key (roost state keygen writes it)."),
    ]
