"""The ``[state.redis]`` table (and its CLAUDE_LB_REDIS_* variables), resolved once per run.

Every timeout and the retry count are explicit: redis-py's defaults retry a
command many times with backoff, which can stall one call for 15 s against a
paused server (docs/SCALE-OUT.md).

With ``sentinels`` the primary is found through Redis Sentinel (redis-py's
own ``redis.sentinel.Sentinel``); ``url`` then only carries the scheme (TLS),
the user, the password and the database (``rediss://roost:PASSWORD@/0``; a
host in it is ignored).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit, urlunsplit

from roost_core.api import parse_duration
from roost_core.api import ValidationError

# name in [state.redis] -> (environment variable, default, converter)
_FIELDS: dict[str, tuple[str | None, Any, Any]] = {
    "url": ("CLAUDE_LB_REDIS_URL", None, str),
    "key_file": ("CLAUDE_LB_REDIS_KEY_FILE", None, str),
    "prefix": ("CLAUDE_LB_REDIS_PREFIX", "roost:", str),
    "connect_timeout": ("CLAUDE_LB_REDIS_CONNECT_TIMEOUT", 2.0, parse_duration),
    "timeout": ("CLAUDE_LB_REDIS_TIMEOUT", 2.0, parse_duration),
    "retries": ("CLAUDE_LB_REDIS_RETRIES", 1, int),
    "lock_ttl": ("CLAUDE_LB_REDIS_LOCK_TTL", 60.0, parse_duration),
    "intent_ttl": ("CLAUDE_LB_REDIS_INTENT_TTL", 900.0, parse_duration),
    "restore_hold": ("CLAUDE_LB_REDIS_RESTORE_HOLD", 120.0, parse_duration),
    "stream_maxlen": ("CLAUDE_LB_REDIS_STREAM_MAXLEN", 100_000, int),
    "tls_ca_file": ("CLAUDE_LB_REDIS_TLS_CA_FILE", None, str),
    "sentinels": ("CLAUDE_LB_REDIS_SENTINELS", None, lambda raw: _sentinels(raw)),
    "service": ("CLAUDE_LB_REDIS_SERVICE", "roost", str),
    "sentinel_password": ("CLAUDE_LB_REDIS_SENTINEL_PASSWORD", None, str),
    "min_replicas": ("CLAUDE_LB_REDIS_MIN_REPLICAS", None, int),
    "wait_timeout": ("CLAUDE_LB_REDIS_WAIT_TIMEOUT", 2.0, parse_duration),
    "tls_cert_file": (None, None, str),
    "tls_key_file": (None, None, str),
}


@dataclass(frozen=True)
class RedisSettings:
    url: str
    key_file: Path
    prefix: str = "roost:"
    connect_timeout: float = 2.0
    timeout: float = 2.0
    retries: int = 1
    lock_ttl: float = 60.0
    intent_ttl: float = 900.0
    restore_hold: float = 120.0
    stream_maxlen: int = 100_000
    tls_ca_file: str | None = None
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    sentinels: tuple[tuple[str, int], ...] = ()
    service: str = "roost"
    sentinel_password: str | None = None
    min_replicas: int | None = None  # None: 1 when a replica is known, else 0
    wait_timeout: float = 2.0

    @classmethod
    def resolve(cls, table: Mapping[str, Any], env: Mapping[str, str], config_dir: Path) -> "RedisSettings":
        """Environment over ``[state.redis]`` over defaults; bad values are VALIDATION."""
        values: dict[str, Any] = {}
        for key, (var, default, convert) in _FIELDS.items():
            raw, origin = default, "default"
            if key in table:
                raw, origin = table[key], f"config.toml [state.redis] {key}"
            if var and env.get(var, "") != "":
                raw, origin = env[var], f"environment {var}"
            if raw is None:
                continue
            try:
                values[key] = convert(raw)
            except (TypeError, ValueError) as exc:
                raise ValidationError(f"bad value for {key} from {origin}: {raw!r} ({exc})") from None
        if values.get("sentinels") and not values.get("url"):
            values["url"] = "redis://"  # no TLS, no password: the Sentinels name the host
        if not values.get("url"):
            raise ValidationError('the redis state backend needs a URL: [state.redis] url = "rediss://..." '
                                  "in config.toml, or CLAUDE_LB_REDIS_URL")
        scheme = urlsplit(values["url"]).scheme
        if scheme not in ("redis", "rediss", "unix"):
            raise ValidationError(f"redis URL must start with redis://, rediss:// or unix:// "
                                  f"(got {scheme or 'no scheme'}://)")
        key_file = values.pop("key_file", None)
        if not key_file:
            raise ValidationError("the redis state backend encrypts credentials and needs a key file: "
                                  "create one with 'roost state keygen PATH', then set [state.redis] "
                                  "key_file = PATH (or CLAUDE_LB_REDIS_KEY_FILE)")
        path = Path(key_file).expanduser()
        if not path.is_absolute():
            path = config_dir / path
        if values["retries"] < 0 or values["retries"] > 5:
            raise ValidationError("[state.redis] retries must be between 0 and 5")
        if min(values["timeout"], values["connect_timeout"]) <= 0:
            raise ValidationError("[state.redis] timeouts must be positive")
        if values["lock_ttl"] < 1:
            raise ValidationError("[state.redis] lock_ttl must be at least 1s")
        if values.get("sentinels") and scheme == "unix":
            raise ValidationError("[state.redis] sentinels need a redis:// or rediss:// url (user, password, db)")
        if values.get("min_replicas") is not None and not 0 <= values["min_replicas"] <= 16:
            raise ValidationError("[state.redis] min_replicas must be between 0 and 16")
        if values["wait_timeout"] <= 0 or values["wait_timeout"] > 60:
            raise ValidationError("[state.redis] wait_timeout must be more than 0s and at most 60s")
        return cls(key_file=path, **values)

    @property
    def display_url(self) -> str:
        """The URL without its password (safe for messages and doctor)."""
        if self.sentinels:
            user = urlsplit(self.url).username
            where = ",".join(f"{host}:{port}" for host, port in self.sentinels)
            tls = "s" if self.url.startswith("rediss://") else ""
            return f"sentinel{tls}://{f'{user}@' if user else ''}{where}/{self.service}"
        return redact_url(self.url)

    @property
    def failover_pause(self) -> float:
        """How long a retry after a lost primary waits for the Sentinels to name the next one."""
        return min(self.timeout, 0.5) if self.sentinels else 0.0

    @property
    def call_deadline(self) -> float:
        """The longest one command can take: each try may connect and then read."""
        return (self.retries + 1) * (self.connect_timeout + self.timeout) + self.retries * self.failover_pause


def _sentinels(raw: Any) -> tuple[tuple[str, int], ...]:
    """``["host:26379", ...]`` or ``"host:26379,host2:26379"`` (the environment's form)."""
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, (list, tuple)):
        raise TypeError("expected a list of host:port")
    out = []
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        host, sep, port = text.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{text!r} is not host:port")
        out.append((host.strip("[]"), int(port)))
    return tuple(out)


def redact_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, f"{user}:***@{host}", parts.path, parts.query, parts.fragment))
