"""``StateBackendBase``: the documented defaults of every state-backend capability.

A state backend subclasses it, implements the required primitives (documents,
locks, logs, credentials: see ``roost_core.interfaces``) and overrides only
the optional capabilities it supports. The core calls every method directly;
a default here is what "not supported" means. docs/PLUGINS.md, "State
backends", describes each capability.
"""

from __future__ import annotations

import contextlib
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from .errors import Conflict, Unavailable

if TYPE_CHECKING:
    from .interfaces import PendingGrant
    from .records import Profile


class RefreshGuard:
    """What ``guard_refresh`` yields. ``compromised`` turns True when another
    party took a guarding lock back while it was held: the engine then refuses
    to spend the token."""

    compromised: bool = False


class StateBackendBase:
    """Defaults: a private (unshared) store with no journal and no extra guards."""

    name: str = "unnamed"

    # -- required: every backend implements these (see roost_core.interfaces) --------
    def read_doc(self, name: str) -> dict[str, Any]:
        raise NotImplementedError

    def update_doc(self, name: str, fn: Callable[[dict[str, Any]], dict[str, Any] | None]) -> dict[str, Any]:
        raise NotImplementedError

    def lock(self, name: str, timeout: float) -> AbstractContextManager[None]:
        raise NotImplementedError

    def append_line(self, log: str, line: str, max_bytes: int | None = None) -> None:
        raise NotImplementedError

    def iter_lines(self, log: str) -> Iterator[str]:
        raise NotImplementedError

    def read_credentials(self, profile: "Profile") -> bytes:
        raise NotImplementedError

    def write_credentials(self, profile: "Profile", data: bytes) -> None:
        raise NotImplementedError

    # -- documents ---------------------------------------------------------------
    def replace_doc(self, name: str, data: dict[str, Any]) -> None:
        """Replace ``name`` whole, whatever it held (a write that reads nothing needs no
        read-modify-write). Default: ``update_doc`` under the backend's lock."""
        self.update_doc(name, lambda _old: data)

    # -- locks -----------------------------------------------------------------
    @contextlib.contextmanager
    def claim(self, name: str, ttl_s: float) -> Iterator[bool]:
        """True to the one process that may do ``name`` now; never waits.

        Default: a non-blocking try of ``lock("claim:" + name)``. ``ttl_s``
        bounds how long a shared store may keep the claim of a dead holder.
        """
        try:
            held = self.lock(f"claim:{name}", timeout=0.0)
            held.__enter__()
        except Conflict:
            yield False
            return
        try:
            yield True
        finally:
            held.__exit__(None, None, None)

    # -- logs ------------------------------------------------------------------
    def log_path(self, log: str) -> Path | None:
        """The local file holding ``log``, or None when it lives elsewhere (default)."""
        return None

    def log_stats(self, log: str) -> dict[str, Any]:
        """``{location, records, bytes, backend, degraded}``; default: counts ``iter_lines``."""
        records = sum(1 for _ in self.iter_lines(log))
        return {"location": f"{self.name}:{log}", "records": records, "bytes": None,
                "backend": self.name, "degraded": False}

    def truncate_log(self, log: str) -> int:
        """Empty ``log``; returns what was dropped (bytes or entries). Default: UNAVAILABLE."""
        raise Unavailable(f"the {self.name} state backend cannot empty the {log} log")

    # -- credentials -------------------------------------------------------------
    @contextlib.contextmanager
    def guard_refresh(self, profile: "Profile", deadline: float) -> Iterator[RefreshGuard]:
        """Extra locks other writers of these credentials honour, taken after roost's
        refresh lock and before ``deadline`` (time.monotonic), else CONFLICT.
        Default: none."""
        yield RefreshGuard()

    def begin_spend(self, profile: "Profile") -> None:
        """Last check right before the refresh POST (refresh lock held); raise to stop it."""

    def reserve_grant(self, profile: "Profile", current: bytes) -> Any:
        """Journal step 1, before the POST: claim room for the coming grant and
        return a handle (OSError: no room, nothing is spent). Default: None, no journal."""
        return None

    def record_grant(self, handle: Any, document: dict[str, Any], replaces: str | None, now: float) -> None:
        """Journal step 2, after the POST: make the new document durable (``replaces``:
        the refresh token it supersedes) before the credentials are written."""

    def release_grant(self, handle: Any) -> None:
        """Journal step 3: the credentials hold the grant (or none came); forget it."""

    def pending_grant(self, profile: "Profile") -> "PendingGrant | None":
        """A grant a killed run journaled (called under the refresh locks). Default: None."""
        return None

    def child_credentials_dir(self, profile: "Profile", lease: Any = None) -> Path | None:
        """A directory whose credentials an exec child may use; None (default): the profile's own."""
        return None

    # -- fleet membership ----------------------------------------------------------
    shared: bool = False  # True when other machines see the same state

    def describe(self) -> dict[str, Any]:
        """For doctor and status; ``degraded``/``reason`` when answering from a local copy."""
        return {"backend": self.name, "shared": self.shared, "degraded": False}

    def sync_profiles(self) -> None:
        """Shared stores: bring the local profile tree in line (once per run, before discovery)."""

    def remove_profile(self, profile: "Profile") -> None:
        """Shared stores: drop ``profile`` (its refresh lock held); raise to stop ``remove``."""

    def rename_profile(self, profile: "Profile", new: str, replace: bool = False) -> None:
        """Shared stores: move ``profile`` to ``new`` (both refresh locks held); raise to stop."""

    def close(self) -> None:
        """Release connections and held locks at the end of a run."""


_OPTIONAL = ("claim", "log_path", "log_stats", "truncate_log", "guard_refresh", "begin_spend", "reserve_grant",
             "record_grant", "release_grant", "pending_grant", "child_credentials_dir", "describe",
             "sync_profiles", "remove_profile", "rename_profile", "close")


def adopt(backend: Any) -> Any:
    """Give a backend that does not subclass ``StateBackendBase`` the defaults it lacks."""
    if isinstance(backend, StateBackendBase):
        return backend
    import types

    for name in _OPTIONAL:
        if not hasattr(backend, name):
            setattr(backend, name, types.MethodType(getattr(StateBackendBase, name), backend))
    if not hasattr(backend, "shared"):
        backend.shared = False
    return backend
