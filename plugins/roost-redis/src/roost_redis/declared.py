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
        Setting("roost:", name="prefix", section="state.redis", env="CLAUDE_LB_REDIS_PREFIX",
                doc="Prefix of every key roost writes (an ACL can be limited to it)."),
        Setting(2.0, name="connect_timeout", section="state.redis", env="CLAUDE_LB_REDIS_CONNECT_TIMEOUT",
                type="duration", doc="Deadline of one connection attempt."),
        Setting(2.0, name="timeout", section="state.redis", env="CLAUDE_LB_REDIS_TIMEOUT", type="duration",
                doc="Deadline of one command (socket read/write)."),
        Setting(1, name="retries", section="state.redis", env="CLAUDE_LB_REDIS_RETRIES", type="int", minimum=0,
                maximum=5, doc="Extra tries after a connection error or timeout, no backoff."),
        Setting(60.0, name="lock_ttl", section="state.redis", env="CLAUDE_LB_REDIS_LOCK_TTL", type="duration",
                minimum=1, doc="Lock lifetime, extended every third of it; also the refresh hold after a failover."),
        Setting(900.0, name="intent_ttl", section="state.redis", env="CLAUDE_LB_REDIS_INTENT_TTL", type="duration",
                doc="How long a spend intent blocks the fleet if its holder vanishes."),
        Setting(120.0, name="restore_hold", section="state.redis", env="CLAUDE_LB_REDIS_RESTORE_HOLD",
                type="duration", doc="No refresh this long after a restore."),
        Setting(100_000, name="stream_maxlen", section="state.redis", env="CLAUDE_LB_REDIS_STREAM_MAXLEN",
                type="int", minimum=1, doc="Approximate length kept per log stream (audit and usage logs)."),
        Setting(None, name="tls_ca_file", section="state.redis", env="CLAUDE_LB_REDIS_TLS_CA_FILE",
                doc="CA file pinning the server's certificate (rediss://; the Sentinels' too)."),
        Setting(None, name="tls_cert_file", section="state.redis", doc="Client certificate for rediss:// (mutual TLS)."),
        Setting(None, name="tls_key_file", section="state.redis", doc="Client key for rediss:// (mutual TLS)."),
    ]


def _sentinels(raw: Any) -> list[str]:
    """["host:26379", ...] checked as the backend reads them (settings.py), kept as text for roost config."""
    from .settings import _sentinels as parse

    return [f"{host}:{port}" for host, port in parse(raw)]
