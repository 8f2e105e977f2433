"""The redis-py client, configured explicitly, and the translation of its errors.

* Timeouts: connect and socket timeouts from settings on every connection.
* Retries: ``retries`` tries more on a connection error or timeout, no
  backoff, so one call takes at most ``(retries + 1) * (connect + timeout)``.
  Retried commands are safe here: every script is idempotent for its caller
  (acquire by owner, commit by rotation id, documents by version, log entries
  de-duplicated by their eid).
* No client-name/lib-info handshakes and no maintenance notifications: they
  cost round trips and need commands a tight ACL does not grant.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

from roost_core.api import RoostError, Unavailable

from .settings import RedisSettings


class BackendDown(Unavailable):
    """The store cannot be reached (or refused us): fail closed."""


def connect(settings: RedisSettings) -> Any:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    kwargs: dict[str, Any] = {
        "socket_timeout": settings.timeout,
        "socket_connect_timeout": settings.connect_timeout,
        "retry": Retry(NoBackoff(), settings.retries),
        "health_check_interval": 0,
        "max_connections": 8,
        "decode_responses": False,
        "protocol": 2,
        "client_name": None,
    }
    import inspect

    if "driver_info" in inspect.signature(redis.Redis.__init__).parameters:
        kwargs["driver_info"] = None  # explicit None: no CLIENT SETINFO round trips
    else:  # redis-py < 7
        kwargs.update(lib_name=None, lib_version=None)
    try:
        from redis.maint_notifications import MaintNotificationsConfig

        kwargs["maint_notifications_config"] = MaintNotificationsConfig(enabled=False)
    except ImportError:  # redis-py < 7
        pass
    if settings.url.startswith("rediss://"):
        if settings.tls_ca_file:
            kwargs["ssl_ca_certs"] = settings.tls_ca_file
        if settings.tls_cert_file:
            kwargs["ssl_certfile"] = settings.tls_cert_file
        if settings.tls_key_file:
            kwargs["ssl_keyfile"] = settings.tls_key_file
    try:
        return redis.Redis.from_url(settings.url, **kwargs)
    except (ValueError, TypeError) as exc:
        raise RoostError(f"bad redis URL {settings.display_url}: {exc}", exit_code=4) from None


def describe_error(exc: BaseException) -> str:
    """A short reason with no secret in it (redis-py messages hold no password)."""
    import redis.exceptions as rx

    if isinstance(exc, rx.AuthenticationError):
        return "authentication failed (check the user and password in the URL)"
    if isinstance(exc, rx.NoPermissionError):
        return "permission denied by the server's ACL (roost needs its key prefix and the commands in docs/SCALE-OUT.md)"
    if isinstance(exc, rx.TimeoutError):
        return "timed out"
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


@contextlib.contextmanager
def translate(display_url: str, what: str) -> Iterator[None]:
    """Turn any redis-py failure into one UNAVAILABLE error naming the backend."""
    import redis.exceptions as rx

    try:
        yield
    except (rx.ConnectionError, rx.TimeoutError, rx.AuthenticationError, rx.NoPermissionError,
            rx.BusyLoadingError, rx.ReadOnlyError, OSError) as exc:
        raise BackendDown(f"state backend 'redis' is unavailable ({display_url}: {describe_error(exc)}); "
                          f"{what} refused (fail closed)",
                          details={"backend": "redis", "url": display_url, "reason": describe_error(exc)}) from None
    except rx.ResponseError as exc:
        raise BackendDown(f"state backend 'redis' answered an error ({display_url}: {describe_error(exc)}); "
                          f"{what} refused", details={"backend": "redis", "url": display_url,
                                                      "reason": describe_error(exc)}) from None
