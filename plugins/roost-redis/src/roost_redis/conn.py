"""One connection to the store per roost run: lazy client, scripts, error memo.

After a failure the store is treated as down for ``DOWN_MEMO_S`` so one
command never waits out the timeout once per call (a status over 20
profiles against a paused server would otherwise take minutes); a later
call in a long run (the lease release at the end of ``exec``) tries again.

Durable writes (``script_durable``): the script and then ``WAIT n timeout``
run on one connection, so WAIT counts the replicas that have this very
write. ``n`` is ``min_replicas``, or by default 1 when a replica is known
(one the Sentinels list, even if down now, or one connected to the primary),
else 0.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

from .client import BackendDown, connect, connect_sentinel, translate
from .scripts import ALL
from .settings import RedisSettings

T = TypeVar("T")
DOWN_MEMO_S = 5.0


@dataclass(frozen=True)
class Durable:
    """A script's reply and how many replicas acknowledged its write (of ``needed``)."""

    result: Any
    acked: int
    needed: int

    @property
    def replicated(self) -> bool:
        return self.acked >= self.needed


class Conn:
    def __init__(self, settings: RedisSettings):
        self.settings = settings
        self._client: Any = None
        self._scripts: dict[str, Any] = {}
        self._down: tuple[float, BackendDown] | None = None
        self._guard = threading.Lock()
        self.sentinel: Any = None
        self._known_replicas: int | None = None

    @property
    def client(self) -> Any:
        with self._guard:
            if self._client is None:
                if self.settings.sentinels:
                    self._client, self.sentinel = connect_sentinel(self.settings)
                else:
                    self._client = connect(self.settings)
            return self._client

    def down_reason(self) -> BackendDown | None:
        memo = self._down
        if memo is not None and time.monotonic() - memo[0] < DOWN_MEMO_S:
            return memo[1]
        return None

    def call(self, what: str, fn: Callable[[Any], T]) -> T:
        """Run ``fn(client)``; any store failure becomes BackendDown (UNAVAILABLE, exit 9)."""
        recent = self.down_reason()
        if recent is not None:
            raise BackendDown(recent.message, details=recent.details)
        try:
            with translate(self.settings.display_url, what):
                return self._demoted_retry(fn)
        except BackendDown as exc:
            self._down = (time.monotonic(), exc)
            raise

    def _demoted_retry(self, fn: Callable[[Any], T]) -> T:
        """One more try, on fresh connections, when the primary was demoted under us.

        redis-py turns a READONLY answer from a demoted primary into a ConnectionError
        but its own retry reuses the pooled connection (the same old primary); a reset
        pool asks the Sentinels (or the managed endpoint's DNS) again.
        """
        import redis.exceptions as rx

        try:
            return fn(self.client)
        except (rx.ReadOnlyError, rx.ConnectionError) as exc:
            if not isinstance(exc, rx.ReadOnlyError) and "previous master is now a slave" not in str(exc):
                raise
            if self.settings.retries < 1:
                raise
            self.client.connection_pool.reset()
            time.sleep(max(self.settings.failover_pause, 0.1))
            return fn(self.client)

    def script(self, name: str, what: str, keys: list[str], args: list[Any]) -> Any:
        def run(client: Any) -> Any:
            with self._guard:
                script = self._scripts.get(name)
                if script is None:
                    script = self._scripts[name] = client.register_script(ALL[name])
            return script(keys=keys, args=args, client=client)

        return self.call(what, run)

    def info(self, section: str, what: str) -> dict[str, Any] | None:
        """INFO ``section``; None when the ACL does not grant INFO (not a store failure)."""
        import redis.exceptions as rx

        def run(client: Any) -> dict[str, Any] | None:
            try:
                return client.info(section)
            except rx.NoPermissionError:
                return None

        return self.call(what, run)

    # -- durable writes (WAIT) --------------------------------------------------
    def known_replicas(self) -> int:
        """Replicas a failover could promote: every one the Sentinels list, else the primary's connected ones.

        A replica that is down right now counts: it is the one a later failover promotes once it is
        back (a primary that was killed returns as a replica), so a rotation written while it was
        away, without WAIT, would be lost by that failover. Rotations fail closed meanwhile.
        """
        if self._known_replicas is None:
            if self.settings.sentinels:
                self._known_replicas = self.call("asking the Sentinels for replicas", lambda _c: self._listed_replicas())
            else:
                info = self.info("replication", "reading the replicas") or {}
                self._known_replicas = int(info.get("connected_slaves", 0))
        return self._known_replicas

    def _listed_replicas(self) -> int:
        """How many replicas the Sentinels list, down ones included (the first that lists any)."""
        import redis.exceptions as rx

        for node in self.sentinel.sentinels:
            try:
                listed = len(node.sentinel_slaves(self.settings.service))
            except (rx.ConnectionError, rx.ResponseError, rx.TimeoutError):
                continue
            if listed:
                return listed
        return 0

    def required_replicas(self) -> int:
        if self.settings.min_replicas is not None:
            return self.settings.min_replicas
        return 1 if self.known_replicas() else 0

    def script_durable(self, name: str, what: str, keys: list[str], args: list[Any]) -> Durable:
        """Run a script, then WAIT for ``required_replicas()`` on the same connection."""
        needed = self.required_replicas()
        if not needed:
            return Durable(self.script(name, what, keys, args), 0, 0)
        recent = self.down_reason()
        if recent is not None:
            raise BackendDown(recent.message, details=recent.details)
        try:
            with translate(self.settings.display_url, what):
                result, acked = self._run_and_wait(self.client, name, keys, args, needed)
        except BackendDown as exc:
            self._down = (time.monotonic(), exc)
            raise
        return Durable(result, acked, needed)

    def _run_and_wait(self, client: Any, name: str, keys: list[str], args: list[Any], needed: int) -> tuple[Any, int]:
        import redis.exceptions as rx

        source = ALL[name]
        sha = hashlib.sha1(source.encode("utf-8")).hexdigest()
        pool = client.connection_pool
        wait_ms = int(self.settings.wait_timeout * 1000)
        for attempt in range(self.settings.retries + 1):
            conn = None
            try:
                conn = pool.get_connection()
                try:
                    conn.send_command("EVALSHA", sha, len(keys), *keys, *args)
                    result = conn.read_response()
                except rx.NoScriptError:
                    conn.send_command("SCRIPT", "LOAD", source)
                    conn.read_response()
                    conn.send_command("EVALSHA", sha, len(keys), *keys, *args)
                    result = conn.read_response()
                conn.send_command("WAIT", needed, wait_ms)
                acked = int(conn.read_response(timeout=self.settings.timeout + self.settings.wait_timeout))
                return result, acked
            except (rx.ConnectionError, rx.TimeoutError, rx.ReadOnlyError, OSError) as exc:
                # A lost primary, or one that was demoted: every script is idempotent for its
                # caller, so one more try on a new connection is safe.
                if conn is not None:
                    conn.disconnect()
                if isinstance(exc, rx.ReadOnlyError) or "previous master is now a slave" in str(exc):
                    pool.reset()  # ask the Sentinels (or the endpoint) again
                if attempt >= self.settings.retries:
                    raise
                time.sleep(self.settings.failover_pause)
            finally:
                if conn is not None:
                    pool.release(conn)
        raise AssertionError("unreachable")

    def close(self) -> None:
        with self._guard:
            if self._client is not None:
                try:
                    self._client.close()
                except Exception:
                    pass
                self._client = None
            if self.sentinel is not None:
                try:
                    self.sentinel.close()
                except Exception:
                    pass
                self.sentinel = None
