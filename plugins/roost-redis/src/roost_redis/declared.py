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
        Setting(None, name="sentinels", section="state.redis", env="CLAUDE_LB_REDIS_SENTINELS",
                type="list", convert=_sentinels,  # a TOML list, or "h1:26379,h2:26379" from the environment
                doc='Redis Sentinels ["host:26379", ...]: find the primary through Sentinel (url then gives '
                    "only scheme, user, password and db)."),
        Setting("roost", name="service", section="state.redis", env="CLAUDE_LB_REDIS_SERVICE",
                doc="The Sentinels' name of the primary (sentinel monitor NAME ...)."),
        Setting(None, name="sentinel_password", section="state.redis", env="CLAUDE_LB_REDIS_SENTINEL_PASSWORD",
                secret=True, doc="Password of the Sentinels themselves, when they have a requirepass."),
        Setting(None, name="min_replicas", section="state.redis", env="CLAUDE_LB_REDIS_MIN_REPLICAS",
                type="int", minimum=0, maximum=16,
                doc="Replicas that must confirm a spend intent and a rotation (WAIT); default 1 when a "
                    "replica is known, else 0."),
        Setting(2.0, name="wait_timeout", section="state.redis", env="CLAUDE_LB_REDIS_WAIT_TIMEOUT",
                type="duration", maximum=60, doc="How long a WAIT for those replicas may take."),
    ]


def _sentinels(raw: Any) -> list[str]:
    """["host:26379", ...] checked as the backend reads them (settings.py), kept as text for roost config."""
    from .settings import _sentinels as parse

    return [f"{host}:{port}" for host, port in parse(raw)]
