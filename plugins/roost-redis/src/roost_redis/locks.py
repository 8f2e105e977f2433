"""A held Redis lock and its watchdog.

Acquired with ``SET NX PX`` (inside the acquire script) under a random owner;
a daemon thread extends it every ttl/3 by compare-and-expire. If an extension
is refused, or cannot reach the server before the lock would lapse, the lock
is marked lost: the holder checks ``lost`` before anything irreversible and
aborts (a lock that silently expired is how peers double-spent).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class HeldLock:
    name: str
    key: str
    owner: str
    ttl_s: float
    fence: int
    profile: str | None = None  # set for refresh:<profile> locks
    acquired_at: float = field(default_factory=time.monotonic)
    _lost: threading.Event = field(default_factory=threading.Event)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    last_extended: float = field(default_factory=time.monotonic)

    @property
    def lost(self) -> bool:
        return self._lost.is_set() or time.monotonic() - self.last_extended >= self.ttl_s

    def mark_lost(self) -> None:
        self._lost.set()

    def start_watchdog(self, extend: Callable[["HeldLock"], bool]) -> None:
        """Run ``extend(lock)`` every ttl/3 until stopped; False or lapse means lost."""

        def run() -> None:
            interval = max(self.ttl_s / 3, 0.05)
            while not self._stop.wait(interval):
                started = time.monotonic()  # the lock is good for ttl from the request, not the reply
                try:
                    ok = extend(self)
                except Exception:  # unreachable right now: try again until the TTL lapses
                    ok = None
                if ok:
                    self.last_extended = started
                elif ok is False or time.monotonic() - self.last_extended >= self.ttl_s:
                    self._lost.set()
                    return

        self._thread = threading.Thread(target=run, name=f"roost-redis-lock:{self.name}", daemon=True)
        self._thread.start()

    def stop_watchdog(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def backoff_delays(first: float = 0.02, cap: float = 0.25) -> Any:
    """Polling delays for a busy lock: quick at first, then capped, with jitter."""
    import random

    delay = first
    while True:
        yield delay * (0.5 + random.random())
        delay = min(cap, delay * 1.6)
