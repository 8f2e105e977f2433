"""The objects plugins hand to the core through the registry hooks.

Protocols, not base classes: a plugin only needs the attributes named here.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Callable, Iterator, Protocol, runtime_checkable

if TYPE_CHECKING:
    from pathlib import Path

    from .backend import RefreshGuard
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


@runtime_checkable
class PassiveSource(Protocol):
    """Turns what a running claude reported (a status line document, a hook event, a
    stream-json line, ...) into a passive reading dict, or None. Pure: no I/O."""

    name: str
    kinds: frozenset[str]

    def read(self, kind: str, observation: Any, now: float) -> "dict[str, Any] | None": ...


class Documents(Protocol):
    """JSON documents by name ("health", "last-pick", "leases", ...).

    ``update_doc`` is a read-modify-write under the backend's lock; ``fn``
    returns the new document (None: keep the mutated one). ``replace_doc``
    writes a whole document that depends on nothing read (default: through
    ``update_doc``). A corrupt document is reported through ``warn`` and
    treated as empty, then rebuilt.
    """

    def read_doc(self, name: str) -> dict[str, Any]: ...

    def update_doc(self, name: str, fn: Callable[[dict[str, Any]], dict[str, Any] | None]) -> dict[str, Any]: ...

    def replace_doc(self, name: str, data: dict[str, Any]) -> None: ...


class Locks(Protocol):
    """Named cross-process locks (the refresh lock); CONFLICT past ``timeout``.

    ``claim(name, ttl_s)`` yields True to the one process that may do ``name``
    now, never waiting (default: a non-blocking ``lock``).
    """

    def lock(self, name: str, timeout: float) -> AbstractContextManager[None]: ...

    def claim(self, name: str, ttl_s: float) -> AbstractContextManager[bool]: ...


class Logs(Protocol):
    """Append-only line logs ("picks"): whole lines, safe with many writers.

    Defaults: ``log_path`` None (not a local file), ``log_stats`` counts
    ``iter_lines``, ``truncate_log`` is UNAVAILABLE.
    """

    def append_line(self, log: str, line: str, max_bytes: int | None = None) -> None: ...

    def iter_lines(self, log: str) -> Iterator[str]: ...

    def log_path(self, log: str) -> "Path | None": ...

    def log_stats(self, log: str) -> dict[str, Any]: ...

    def truncate_log(self, log: str) -> int: ...


class PendingGrant(Protocol):
    """A refreshed grant a killed run journaled but maybe never wrote."""

    document: dict[str, Any]  # the credentials document to write
    handle: Any  # what ``release_grant`` takes

    def replaces(self, refresh_token: str | None) -> bool: ...


class CredentialStore(Protocol):
    """The credentials of a profile, and the refresh protocol's hooks into them.

    ``write_credentials`` raises CONFLICT unless the stored credentials are
    still the ones this instance last read for that profile (optimistic
    concurrency; a write with no earlier read imports). The refresh engine
    calls, in order: ``guard_refresh`` (extra locks, after roost's refresh
    lock), ``reserve_grant``, ``begin_spend``, the POST, ``record_grant``,
    ``write_credentials``, ``release_grant``; and ``pending_grant`` under the
    locks to finish a refresh a killed run completed. Defaults: no guard, no
    journal, no spend check, children use the profile's own directory.
    """

    def read_credentials(self, profile: "Profile") -> bytes: ...

    def write_credentials(self, profile: "Profile", data: bytes) -> None: ...

    def guard_refresh(self, profile: "Profile", deadline: float) -> "AbstractContextManager[RefreshGuard]": ...

    def begin_spend(self, profile: "Profile") -> None: ...

    def reserve_grant(self, profile: "Profile", current: bytes) -> Any: ...

    def record_grant(self, handle: Any, document: dict[str, Any], replaces: str | None, now: float) -> None: ...

    def release_grant(self, handle: Any) -> None: ...

    def pending_grant(self, profile: "Profile") -> "PendingGrant | None": ...

    def child_credentials_dir(self, profile: "Profile", lease: Any = None) -> "Path | None": ...


class FleetMembership(Protocol):
    """Whether other machines share this state, and keeping the local tree in line.

    Defaults: ``shared`` False, and the rest do nothing. With a shared
    backend the $CLAUDE_CONFIG_DIR ``default`` fallback is not discovered.
    """

    shared: bool

    def describe(self) -> dict[str, Any]: ...

    def sync_profiles(self) -> None: ...

    def remove_profile(self, profile: "Profile") -> None: ...

    def rename_profile(self, profile: "Profile", new: str, replace: bool = False) -> None: ...

    def close(self) -> None: ...


class StateBackend(Documents, Locks, Logs, CredentialStore, FleetMembership, Protocol):
    """Where roost keeps everything shared between processes (and maybe machines).

    Implement it by subclassing ``StateBackendBase`` (roost_core.api), which
    supplies the documented default of every optional member; the required
    ones are ``name``, ``read_doc``, ``update_doc``, ``lock``, ``append_line``,
    ``iter_lines``, ``read_credentials`` and ``write_credentials``.
    """

    name: str


class StateBackendFactory(Protocol):
    """What ``roost_register_state_backends`` returns: opened once per run, lazily."""

    name: str

    def open(self, ctx: "RoostContext") -> StateBackend: ...
