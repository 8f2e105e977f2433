"""State-backend capabilities: the documented defaults of StateBackendBase, and the core
calling them directly (a minimal third-party backend refreshes a profile with no journal
and no extra guard; one that does not subclass the base gets the defaults grafted on)."""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Callable, Iterator

import pytest

from roost_core import refresh
from roost_core.api import (Conflict, ExitCode, RefreshGuard, RoostContext, StateBackendBase, TokenGrant,
                            Unavailable)
from roost_core.backend import adopt
from roostkit import get_profile
from roost_plugins.anthropic.refresh import AnthropicRefresher

NEW_ACCESS = "sk-ant-oat01-capabilityACCESS-0123456789abcdef"
NEW_REFRESH = "sk-ant-ort01-capabilityREFRESH-0123456789abcdef"


class MemoryBackend(StateBackendBase):
    """Only the required members; every optional one is the base class's default."""

    name = "memory"

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.logs: dict[str, list[str]] = {}
        self.held: set[str] = set()
        self.guard = threading.Lock()

    def read_doc(self, name: str) -> dict[str, Any]:
        return dict(self.docs.get(name, {}))

    def update_doc(self, name: str, fn: Callable[[dict[str, Any]], dict[str, Any] | None]) -> dict[str, Any]:
        with self.guard:
            doc = self.read_doc(name)
            new = fn(doc)
            self.docs[name] = doc if new is None else new
            return self.docs[name]

    @contextlib.contextmanager
    def lock(self, name: str, timeout: float) -> Iterator[None]:
        with self.guard:
            if name in self.held:
                raise Conflict(f"{name} is held")
            self.held.add(name)
        try:
            yield
        finally:
            self.held.discard(name)

    def append_line(self, log: str, line: str, max_bytes: int | None = None) -> None:
        self.logs.setdefault(log, []).append(line + "\n")

    def iter_lines(self, log: str) -> Iterator[str]:
        yield from self.logs.get(log, [])

    def read_credentials(self, profile: Any) -> bytes:
        return profile.credentials_path.read_bytes()

    def write_credentials(self, profile: Any, data: bytes) -> None:
        profile.credentials_path.write_bytes(data)


def test_the_defaults_are_the_documented_ones():
    backend = MemoryBackend()
    assert backend.shared is False and backend.log_path("picks") is None
    assert backend.describe() == {"backend": "memory", "shared": False, "degraded": False}
    backend.append_line("picks", "one")
    backend.append_line("picks", "two")
    stats = backend.log_stats("picks")
    assert stats["records"] == 2 and stats["bytes"] is None and stats["location"] == "memory:picks"
    with pytest.raises(Unavailable) as info:
        backend.truncate_log("picks")
    assert info.value.exit_code == ExitCode.UNAVAILABLE
    assert backend.reserve_grant(None, b"") is None and backend.pending_grant(None) is None  # type: ignore[arg-type]
    assert backend.child_credentials_dir(None) is None  # type: ignore[arg-type]
    with backend.guard_refresh(None, 0.0) as guard:  # type: ignore[arg-type]
        assert isinstance(guard, RefreshGuard) and guard.compromised is False


def test_default_claim_goes_to_one_holder_at_a_time():
    backend = MemoryBackend()
    with backend.claim("probe:a", 5) as first:
        with backend.claim("probe:a", 5) as second:
            assert (first, second) == (True, False)
    with backend.claim("probe:a", 5) as again:
        assert again is True


def test_a_backend_without_the_base_class_gets_the_defaults():
    class Bare:
        name = "bare"

        def describe(self) -> dict[str, Any]:
            return {"backend": "bare", "custom": True}

    bare = adopt(Bare())
    assert bare.describe() == {"backend": "bare", "custom": True}  # its own member is kept
    assert bare.shared is False and bare.pending_grant(None) is None and bare.log_path("x") is None
    subclassed = MemoryBackend()
    assert adopt(subclassed) is subclassed


def test_the_refresh_engine_runs_on_the_defaults(roost_env, monkeypatch):
    """No journal, no guard: the grant is written through write_credentials and nothing else."""
    roost_env.make_profile("a")
    ctx = RoostContext(env=roost_env.env())
    backend = MemoryBackend()
    ctx.__dict__["state"] = backend  # the backend the run would have opened
    calls: list[str] = []

    def refresh_token(self: Any, token: str, c: Any) -> TokenGrant:
        calls.append(token)
        return TokenGrant(NEW_ACCESS, NEW_REFRESH, 28800.0)

    monkeypatch.setattr(AnthropicRefresher, "refresh", refresh_token)
    profile = get_profile(ctx.paths, "a")
    result = refresh.refresh_profile(ctx, profile)
    assert result.status == "refreshed" and len(calls) == 1
    assert roost_env.credentials("a")["claudeAiOauth"]["refreshToken"] == NEW_REFRESH
    assert sorted(p.name for p in profile.directory.iterdir()) == [".credentials.json"]  # no pending file
    assert backend.held == set()  # roost's refresh lock was released
    assert "refreshes" in backend.docs  # roost's own bookkeeping went to the backend
