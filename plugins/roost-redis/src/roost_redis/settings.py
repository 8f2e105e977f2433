"""The ``[state.redis]`` table (and its CLAUDE_LB_REDIS_* variables), resolved once per run.

Every timeout and the retry count are explicit: redis-py's defaults retry a
command many times with backoff, which can stall one call for 15 s against a
paused server (docs/SCALE-OUT.md).
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
        return cls(key_file=path, **values)

    @property
    def display_url(self) -> str:
        """The URL without its password (safe for messages and doctor)."""
        return redact_url(self.url)

    @property
    def call_deadline(self) -> float:
        """The longest one command can take: each try may connect and then read."""
        return (self.retries + 1) * (self.connect_timeout + self.timeout)


def redact_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, f"{user}:***@{host}", parts.path, parts.query, parts.fragment))
