"""The store's identity (epoch) and what happens when it changes.

``roost state init`` writes a random epoch into ``meta`` once. Every machine
remembers the epoch it last saw. A store whose ``meta`` is gone while this
machine knows an epoch has lost its data (restarted empty, flushed, failed
over to an empty replica): credentials writes and refresh locks are refused
until ``roost state restore``. A store whose epoch differs from the one seen
was restored (or re-initialised) elsewhere: this machine joins by pushing its
mirrors, highest version winning, before it uses the store.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Callable

from roost_core.api import Unavailable


class StoreNotReady(Unavailable):
    """The store holds no roost epoch: never initialised, or reset."""


@dataclass(frozen=True)
class StoreInfo:
    epoch: str
    created_ms: int
    restored_ms: int

    @classmethod
    def from_hash(cls, raw: dict[bytes, bytes]) -> "StoreInfo | None":
        fields = {k.decode(): v.decode() for k, v in raw.items()}
        if not fields.get("epoch"):
            return None
        return cls(fields["epoch"], int(fields.get("created_ms") or 0), int(fields.get("restored_ms") or 0))


def new_epoch() -> str:
    return secrets.token_hex(12)


def not_ready(display_url: str, seen_epoch: str | None) -> StoreNotReady:
    if seen_epoch:
        return StoreNotReady(
            f"the redis store at {display_url} has lost roost's data (its epoch is gone: restarted "
            "empty or flushed); refresh and credential writes are refused until you run "
            "'roost state restore' on the machines that hold mirrors",
            details={"backend": "redis", "reason": "store_reset", "url": display_url})
    return StoreNotReady(
        f"the redis store at {display_url} is not initialised for roost; run 'roost state init' once "
        "(or 'roost state restore' if it was reset)",
        details={"backend": "redis", "reason": "not_initialised", "url": display_url})


class EpochGuard:
    """Checks the epoch once per run; joins a restore seen for the first time."""

    def __init__(self, read_info: Callable[[], StoreInfo | None], seen: Callable[[], str | None],
                 remember: Callable[[str], None], join: Callable[[], Any], display_url: str):
        self._read_info = read_info
        self._seen = seen
        self._remember = remember
        self._join = join
        self._display_url = display_url
        self._checked: StoreInfo | None = None

    def ensure(self) -> StoreInfo:
        if self._checked is not None:
            return self._checked
        info = self._read_info()
        seen = self._seen()
        if info is None:
            raise not_ready(self._display_url, seen)
        if seen != info.epoch:
            if seen is not None:
                self._join()
            self._remember(info.epoch)
        self._checked = info
        return info

    def forget(self) -> None:
        self._checked = None
