"""One connection to the store per roost run: lazy client, scripts, error memo.

After a failure the store is treated as down for ``DOWN_MEMO_S`` so one
command never waits out the timeout once per call (a status over 20
profiles against a paused server would otherwise take minutes); a later
call in a long run (the lease release at the end of ``exec``) tries again.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, TypeVar

from .client import BackendDown, connect, translate
from .scripts import ALL
from .settings import RedisSettings

T = TypeVar("T")
DOWN_MEMO_S = 5.0


class Conn:
    def __init__(self, settings: RedisSettings):
        self.settings = settings
        self._client: Any = None
        self._scripts: dict[str, Any] = {}
        self._down: tuple[float, BackendDown] | None = None
        self._guard = threading.Lock()

    @property
    def client(self) -> Any:
        with self._guard:
            if self._client is None:
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
                return fn(self.client)
        except BackendDown as exc:
            self._down = (time.monotonic(), exc)
            raise

    def script(self, name: str, what: str, keys: list[str], args: list[Any]) -> Any:
        def run(client: Any) -> Any:
            with self._guard:
                script = self._scripts.get(name)
                if script is None:
                    script = self._scripts[name] = client.register_script(ALL[name])
            return script(keys=keys, args=args, client=client)

        return self.call(what, run)

    def close(self) -> None:
        with self._guard:
            if self._client is not None:
                try:
                    self._client.close()
                except Exception:
                    pass
                self._client = None
