"""The objects plugins hand to the core through the registry hooks.

Protocols, not base classes: a plugin only needs the attributes named here.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .context import RoostContext
    from .records import (CheckResult, Candidate, PickRequest, PlatformStatus, ProbeOutcome,
                          Profile, Ranking, TokenGrant)


@runtime_checkable
class Strategy(Protocol):
    """A pick strategy. ``rank`` is pure: no I/O, no clock but ``request.now``."""

    name: str
    summary: str

    def rank(self, candidates: list["Candidate"], request: "PickRequest") -> "Ranking": ...


@runtime_checkable
class ProbeSource(Protocol):
    """Asks an endpoint how a profile is doing. Never refreshes a token."""

    name: str

    async def probe(self, profile: "Profile", access_token: str, client: Any,
                    ctx: "RoostContext") -> "ProbeOutcome": ...


@runtime_checkable
class TokenRefresher(Protocol):
    """Trades a refresh token for a new grant (one POST).

    Raises roost_core.errors.RefreshRejected (the grant is spent or revoked),
    RefreshNotAttempted (nothing was consumed: 429, request-format 400, connect
    failure) or RefreshAmbiguous (sent, but no answer was read).
    """

    name: str

    def refresh(self, refresh_token: str, ctx: "RoostContext") -> "TokenGrant": ...


@runtime_checkable
class StatusFeed(Protocol):
    """A platform status page folded into ``status`` and ``doctor``."""

    name: str
    ttl_s: float

    def fetch(self, ctx: "RoostContext", timeout: float) -> "PlatformStatus": ...


@runtime_checkable
class Renderer(Protocol):
    """Draws a view for people (or another format) from the same data --json gives.

    ``views`` names what it can draw ("status", "show", "explain", "trace",
    "report", "history", "stats", "plugins", "doctor", ...); ``formats`` the
    --format values it answers to ("text" is the default human format).
    """

    name: str
    formats: frozenset[str]
    views: frozenset[str]

    def render(self, view: str, data: Any, meta: dict[str, Any], ctx: "RoostContext") -> None: ...


@runtime_checkable
class DoctorCheck(Protocol):
    name: str
    needs_network: bool

    def run(self, ctx: "RoostContext") -> "CheckResult | list[CheckResult]": ...


class StateBackend(Protocol):
    """Where roost keeps everything shared between processes.

    Four primitives, enough for the health cache, last pick, leases, the probe
    budget, platform-status cache, the audit log and the credentials:

    * JSON documents by name ("health", "last-pick", "leases", ...): read, and
      read-modify-write under the backend's lock. A corrupt document is
      reported through ``warn`` and treated as empty, then rebuilt.
    * Named cross-process locks (the refresh lock).
    * Append-only line logs ("picks"): whole lines, safe with many writers.
    * Credentials of a profile: read the raw file bytes, and replace them
      atomically. ``write_credentials`` raises Conflict unless the stored
      credentials are still the ones this backend instance last read for that
      profile (optimistic concurrency; a write with no earlier read imports).

    Optional, looked up with ``getattr`` (the files backend has them all):
    ``shared`` (True when other machines see the same state),
    ``begin_spend(profile)`` (called right before a refresh POST while the
    refresh lock is held; raises to stop it), ``child_credentials_dir(profile,
    lease) -> Path | None`` (a directory whose credentials an exec child may
    use; None: the profile's own), ``claim(name, ttl_s)`` (a context manager
    yielding True to the one process that may do ``name`` now),
    ``describe() -> dict`` (for doctor and status), ``log_stats(log) -> dict``
    (at least ``location`` str, ``records`` int, ``bytes`` int | None; None
    where unknown, e.g. a store that is down, with ``degraded`` True) and
    ``truncate_log(log) -> int`` (empty the log; files: bytes dropped, redis:
    stream entries dropped; raises UNAVAILABLE rather than pretend).

    A shared backend (``shared`` True) may also keep the local profile tree in
    line with the store: ``sync_profiles()`` (called once per run before
    discovery: create the store's profiles locally, retire removed ones),
    ``remove_profile(profile)`` and ``rename_profile(profile, new, replace)``
    (called by ``remove``/``rename`` with the refresh locks held, before the
    local tree changes; raise to stop it). With a shared backend the
    $CLAUDE_CONFIG_DIR ``default`` fallback is not discovered.
    """

    name: str

    def read_doc(self, name: str) -> dict[str, Any]: ...

    def update_doc(self, name: str, fn: Callable[[dict[str, Any]], dict[str, Any] | None]) -> dict[str, Any]: ...

    def lock(self, name: str, timeout: float) -> AbstractContextManager[None]: ...

    def append_line(self, log: str, line: str) -> None: ...

    def iter_lines(self, log: str) -> Iterator[str]: ...

    def read_credentials(self, profile: "Profile") -> bytes: ...

    def write_credentials(self, profile: "Profile", data: bytes) -> None: ...


Registry = Iterable[Any]
