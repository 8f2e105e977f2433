"""``StoreOps``: what the backend's helper modules (logs, restore, rekey, fleet, failover)
may use of the backend. They type against this Protocol, not ``RedisBackend``, so
no helper imports the backend and the backend imports them only where it delegates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Protocol

if TYPE_CHECKING:
    from roost_core.api import RoostError

    from .conn import Conn
    from .creds import CredentialStore
    from .journal import Journal
    from .keys import Keyspace
    from .leasedoc import LeaseIndex
    from .localstate import LocalState
    from .locks import HeldLock
    from .settings import RedisSettings
    from .store import EpochGuard, StoreInfo


class StoreOps(Protocol):
    name: str
    settings: "RedisSettings"
    keys: "Keyspace"
    conn: "Conn"
    host: str
    local: "LocalState"
    journal: "Journal"
    creds: "CredentialStore"
    leases: "LeaseIndex"
    epoch: "EpochGuard"
    paths: Any
    now: Callable[[], float]
    warn: Callable[[str], None]

    def call(self, what: str, fn: Callable[[Any], Any]) -> Any:
        """One Redis command (``fn(client)``); UNAVAILABLE naming ``what`` when the store is down."""

    def script(self, name: str, what: str, keys: list[str], args: list[Any]) -> Any:
        """One of scripts.py's Lua scripts, atomically on the primary."""

    def sealer(self) -> Any: ...

    def store_info(self) -> "StoreInfo | None": ...

    def degrade(self, exc: "RoostError") -> None:
        """Answer from this machine's copy from now on (said once, marked degraded)."""

    def flush_spool(self) -> None:
        """Push log lines spooled while the store was down."""

    def ready_for_credentials(self) -> "StoreInfo":
        """The store epoch is known and this machine's credentials journal is flushed."""

    def held_refresh(self, profile: str) -> "HeldLock | None":
        """The refresh lock of ``profile`` this process holds, if any."""

    def intent_owner_for(self, profile: str) -> str: ...

    def append_line(self, log: str, line: str, max_bytes: int | None = None) -> None: ...

    def lock(self, name: str, timeout: float) -> Any: ...
