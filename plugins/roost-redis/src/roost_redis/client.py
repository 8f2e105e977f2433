"""The redis-py client, configured explicitly, and the translation of its errors.

* Timeouts: connect and socket timeouts from settings on every connection.
* Retries: ``retries`` tries more on a connection error or timeout, no
  backoff, so one call takes at most ``(retries + 1) * (connect + timeout)``.
  Retried commands are safe here: every script is idempotent for its caller
  (acquire by owner, commit by rotation id, documents by version, log entries
  de-duplicated by their eid).
* Sentinel (``sentinels`` set): redis-py's own ``Sentinel.master_for``
  finds the primary on every new connection; a connection to a primary that
  was demoted (READONLY) or lost turns into a ConnectionError, so the one
  retry goes to the primary the Sentinels name then, after a short pause
  (``failover_pause``) that gives a ``SENTINEL FAILOVER`` time to finish.
* No client-name/lib-info handshakes and no maintenance notifications: they
  cost round trips and need commands a tight ACL does not grant.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

from roost_core.api import Unavailable, ValidationError

from .settings import RedisSettings


class BackendDown(Unavailable):
    """The store cannot be reached (or refused us): fail closed."""


def _client_kwargs(settings: RedisSettings) -> dict[str, Any]:
    import redis
    from redis.backoff import ConstantBackoff, NoBackoff
    from redis.retry import Retry

    backoff = ConstantBackoff(settings.failover_pause) if settings.failover_pause else NoBackoff()
    kwargs: dict[str, Any] = {
        "socket_timeout": settings.timeout,
        "socket_connect_timeout": settings.connect_timeout,
        "retry": Retry(backoff, settings.retries),
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
    kwargs.update(_tls(settings))
    return kwargs


def _tls(settings: RedisSettings) -> dict[str, Any]:
    if not settings.url.startswith("rediss://"):
        return {}
    tls: dict[str, Any] = {}
    if settings.tls_ca_file:
        tls["ssl_ca_certs"] = settings.tls_ca_file
    if settings.tls_cert_file:
        tls["ssl_certfile"] = settings.tls_cert_file
    if settings.tls_key_file:
        tls["ssl_keyfile"] = settings.tls_key_file
    return tls


def connect(settings: RedisSettings) -> Any:
    import redis

    if settings.sentinels:
        return connect_sentinel(settings)[0]
    try:
        return redis.Redis.from_url(settings.url, **_client_kwargs(settings))
    except (ValueError, TypeError) as exc:
        raise ValidationError(f"bad redis URL {settings.display_url}: {exc}") from None


def connect_sentinel(settings: RedisSettings) -> tuple[Any, Any]:
    """(client of the primary, the Sentinel) with the url's user, password, db and TLS."""
    from urllib.parse import unquote, urlsplit

    from redis.sentinel import Sentinel

    parts = urlsplit(settings.url)
    try:
        db = int((parts.path or "/0").strip("/") or 0)
    except ValueError:
        raise ValidationError(f"bad redis URL {settings.display_url}: the database must be a number") \
            from None
    kwargs = _client_kwargs(settings)  # TLS material included; each connection retries once
    kwargs.update(username=unquote(parts.username) if parts.username else None,
                  password=unquote(parts.password) if parts.password else None)
    tls = {"ssl": True, **_tls(settings)} if parts.scheme == "rediss" else {}
    kwargs.update(tls)
    sentinel_kwargs = {"socket_timeout": settings.timeout, "socket_connect_timeout": settings.connect_timeout,
                       "password": settings.sentinel_password, **tls}
    sentinel = Sentinel(list(settings.sentinels), sentinel_kwargs=sentinel_kwargs, **kwargs)
    client = sentinel.master_for(settings.service, db=db)
    return client, sentinel


def describe_error(exc: BaseException) -> str:
    """A short reason with no secret in it (redis-py messages hold no password)."""
    import redis.exceptions as rx
    from redis.sentinel import MasterNotFoundError

    if isinstance(exc, MasterNotFoundError):
        return ("no Sentinel names a primary for the service right now (a failover in progress, or the "
                "Sentinels are unreachable); retry in a few seconds")
    if "previous master is now a slave" in str(exc):
        return "the primary was demoted during the command (a failover in progress); retry in a few seconds"
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
