"""The refresh engine in-process: locking decisions, writes, failure handling, pending recovery."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest

from roost_core import leases, refresh
from roost_core.context import RoostContext
from roost_core.errors import (AuthRequired, ExitCode, LeaseHeld, NotFound, RateLimited, RefreshAmbiguous,
                               RefreshNotAttempted, RefreshRejected, RoostError)
from roostkit import get_profile
from roost_core.records import TokenGrant
from roost_plugins.anthropic.refresh import AnthropicRefresher
from roost_plugins.state_files import journal

NEW_ACCESS = "sk-ant-oat01-newACCESStoken-0123456789abcdef"
NEW_REFRESH = "sk-ant-ort01-newREFRESHtoken-0123456789abcdef"


@dataclass
class Stub:
    """Stands in for the token endpoint: counts calls, answers or raises as told."""

    answer: Callable[[str], TokenGrant] | None = None
    calls: list[str] = field(default_factory=list)

    def refresh(self, refresh_token: str, ctx: Any) -> TokenGrant:
        self.calls.append(refresh_token)
        if self.answer is not None:
            return self.answer(refresh_token)
        return TokenGrant(NEW_ACCESS, NEW_REFRESH, 28800.0, "user:inference user:profile")


@pytest.fixture
def stub(monkeypatch) -> Stub:
    s = Stub()
    monkeypatch.setattr(AnthropicRefresher, "refresh", lambda self, token, ctx: s.refresh(token, ctx))
    return s


@pytest.fixture
def ctx(roost_env) -> RoostContext:
    warnings: list[str] = []
    c = RoostContext(env=roost_env.env())
    c.out.warn = warnings.append  # type: ignore[method-assign]
    c.warnings = warnings  # type: ignore[attr-defined]
    return c


def _profile(ctx, roost_env, name="a", **kwargs):
    roost_env.make_profile(name, **kwargs)
    return get_profile(ctx.paths, name)


def _raw(roost_env, name="a") -> bytes:
    return (roost_env.profiles / name / ".credentials.json").read_bytes()


def test_refresh_writes_the_grant_and_keeps_every_other_field(ctx, roost_env, stub):
    profile = _profile(ctx, roost_env, extra={"other": {"x": 1}})
    before = roost_env.credentials("a")
    ctx.state.update_doc("health", lambda d: {"version": 1, "profiles": {"a": {"health": "ok"}, "b": {}}})
    result = refresh.refresh_profile(ctx, profile)
    assert result.status == "refreshed" and result.expires_at
    after = roost_env.credentials("a")
    oauth = after["claudeAiOauth"]
    assert (oauth["accessToken"], oauth["refreshToken"]) == (NEW_ACCESS, NEW_REFRESH)
    assert oauth["scopes"] == ["user:inference", "user:profile"]
    assert oauth["subscriptionType"] == before["claudeAiOauth"]["subscriptionType"]
    assert oauth["rateLimitTier"] == before["claudeAiOauth"]["rateLimitTier"]
    assert after["mcpOAuth"] == {"keep": "me"} and after["other"] == {"x": 1}
    assert stat.S_IMODE(os.stat(profile.credentials_path).st_mode) == 0o600
    assert set(ctx.state.read_doc("health")["profiles"]) == {"b"}
    assert stub.calls == [before["claudeAiOauth"]["refreshToken"]]
    assert sorted(os.listdir(profile.directory)) == [".credentials.json"]
    assert not (roost_env.profiles / "a.lock").exists()


def test_old_refresh_token_kept_when_the_response_has_none(ctx, roost_env, stub):
    profile = _profile(ctx, roost_env)
    old = roost_env.credentials("a")["claudeAiOauth"]["refreshToken"]
    stub.answer = lambda token: TokenGrant(NEW_ACCESS, None, 3600.0)
    refresh.refresh_profile(ctx, profile)
    oauth = roost_env.credentials("a")["claudeAiOauth"]
    assert oauth["refreshToken"] == old and oauth["accessToken"] == NEW_ACCESS
    assert oauth["scopes"] == ["user:inference", "user:profile", "user:sessions:claude_code"]


def test_a_file_changed_while_waiting_for_the_lock_means_no_post(ctx, roost_env, stub, monkeypatch):
    profile = _profile(ctx, roost_env)
    real = refresh.hold_refresh_locks

    @contextlib.contextmanager
    def rotated_by_someone_else(c, p, deadline):
        roost_env.make_profile("a", access="sk-ant-oat01-other-xxxxxxxxxxxx", refresh="sk-ant-ort01-other-xxxxxx")
        with real(c, p, deadline) as locks:
            yield locks

    monkeypatch.setattr(refresh, "hold_refresh_locks", rotated_by_someone_else)
    result = refresh.refresh_profile(ctx, profile)
    assert result.status == "already_fresh" and stub.calls == []


def test_forced_refresh_right_after_our_own_is_already_fresh(ctx, roost_env, stub):
    profile = _profile(ctx, roost_env)
    assert refresh.refresh_profile(ctx, profile).status == "refreshed"
    again = refresh.refresh_profile(ctx, profile)
    assert again.status == "already_fresh" and "roost" in again.detail
    assert len(stub.calls) == 1


def test_min_interval_zero_allows_back_to_back_refreshes(roost_env, stub):
    c = RoostContext(env=roost_env.env(CLAUDE_LB_REFRESH_MIN_INTERVAL="0"))
    profile = _profile(c, roost_env)
    stub.answer = lambda token: TokenGrant(NEW_ACCESS + token[-3:], NEW_REFRESH + token[-3:], 100.0)
    refresh.refresh_profile(c, profile)
    assert refresh.refresh_profile(c, profile).status == "refreshed"
    assert len(stub.calls) == 2 and stub.calls[1] == NEW_REFRESH + stub.calls[0][-3:]


def test_not_due_is_skipped_without_locking(ctx, roost_env, stub, monkeypatch):
    profile = _profile(ctx, roost_env, expires_in=3600)
    monkeypatch.setattr(refresh, "hold_refresh_locks", None)  # would crash if used
    result = refresh.refresh_profile(ctx, profile, force=False, due_within_s=600)
    assert result.status == "skipped_not_due" and stub.calls == []


def test_due_within_window_is_refreshed(ctx, roost_env, stub):
    profile = _profile(ctx, roost_env, expires_in=300)
    assert refresh.refresh_profile(ctx, profile, force=False, due_within_s=600).status == "refreshed"


def test_expired_only_when_no_window(ctx, roost_env, stub):
    profile = _profile(ctx, roost_env, expires_in=-10)
    assert refresh.refresh_profile(ctx, profile, force=False).status == "refreshed"


def test_leased_profile_is_never_posted(ctx, roost_env, stub):
    profile = _profile(ctx, roost_env)
    raw = _raw(roost_env)
    leases.acquire(ctx, "a", 60)
    with pytest.raises(LeaseHeld) as info:
        refresh.refresh_profile(ctx, profile)
    assert info.value.exit_code == ExitCode.CONFLICT and info.value.code == "LEASE_HELD"
    assert stub.calls == [] and _raw(roost_env) == raw


def test_lease_taken_while_waiting_for_the_lock_is_honoured(ctx, roost_env, stub, monkeypatch):
    profile = _profile(ctx, roost_env)
    real = refresh.hold_refresh_locks

    @contextlib.contextmanager
    def lease_arrives(c, p, deadline):
        leases.acquire(c, "a", 60)
        with real(c, p, deadline) as locks:
            yield locks

    monkeypatch.setattr(refresh, "hold_refresh_locks", lease_arrives)
    with pytest.raises(LeaseHeld):
        refresh.refresh_profile(ctx, profile)
    assert stub.calls == []


def test_a_lease_on_a_symlinked_alias_protects_the_shared_file(ctx, roost_env, stub):
    profile = _profile(ctx, roost_env)
    (roost_env.profiles / "b").mkdir(mode=0o700)
    os.symlink(profile.credentials_path, roost_env.profiles / "b" / ".credentials.json")
    leases.acquire(ctx, "b", 60)
    with pytest.raises(LeaseHeld):
        refresh.refresh_profile(ctx, profile)
    assert refresh.refresh_lock_name(profile) == refresh.refresh_lock_name(get_profile(ctx.paths, "b"))


def test_symlinked_credentials_are_written_through_the_link(ctx, roost_env, stub):
    shared = roost_env.root / "shared"
    shared.mkdir()
    roost_env.make_profile("a")
    target = shared / ".credentials.json"
    os.replace(roost_env.profiles / "a" / ".credentials.json", target)
    os.symlink(target, roost_env.profiles / "a" / ".credentials.json")
    refresh.refresh_profile(ctx, get_profile(ctx.paths, "a"))
    assert os.path.islink(roost_env.profiles / "a" / ".credentials.json")
    assert json.loads(target.read_text())["claudeAiOauth"]["accessToken"] == NEW_ACCESS


def test_invalid_grant_with_the_token_still_on_disk_is_auth_dead(ctx, roost_env, stub):
    profile = _profile(ctx, roost_env)
    raw = _raw(roost_env)

    def reject(token):
        raise RefreshRejected("rejected", details={"reason": "invalid_grant"})

    stub.answer = reject
    with pytest.raises(AuthRequired) as info:
        refresh.refresh_profile(ctx, profile)
    assert info.value.exit_code == ExitCode.AUTH_REQUIRED
    assert info.value.details["health"] == "auth_dead"
    assert _raw(roost_env) == raw


def test_invalid_grant_after_someone_else_rotated_is_not_auth_dead(ctx, roost_env, stub):
    profile = _profile(ctx, roost_env)

    def rotated_elsewhere(token):
        roost_env.make_profile("a", access="sk-ant-oat01-elsewhere-xxxxxxxx", refresh="sk-ant-ort01-elsewhere-xxxx")
        raise RefreshRejected("rejected", details={"reason": "invalid_grant"})

    stub.answer = rotated_elsewhere
    result = refresh.refresh_profile(ctx, profile)
    assert result.status == "already_fresh"
    assert roost_env.credentials("a")["claudeAiOauth"]["refreshToken"] == "sk-ant-ort01-elsewhere-xxxx"


def test_ambiguous_leaves_the_file_and_needs_a_check(ctx, roost_env, stub):
    profile = _profile(ctx, roost_env)
    raw = _raw(roost_env)
    ctx.state.update_doc("health", lambda d: {"version": 1, "profiles": {"a": {"health": "ok"}}})

    def lost(token):
        raise RefreshAmbiguous("lost", details={"reason": "timeout"})

    stub.answer = lost
    with pytest.raises(RefreshAmbiguous) as info:
        refresh.refresh_profile(ctx, profile)
    assert info.value.exit_code == ExitCode.TIMEOUT and info.value.details["needs_check"] is True
    assert "needs a check" in info.value.message
    assert _raw(roost_env) == raw and len(stub.calls) == 1
    assert ctx.state.read_doc("health")["profiles"] == {}


def test_429_from_the_token_endpoint_is_rate_limited(ctx, roost_env, stub):
    profile = _profile(ctx, roost_env)

    def limited(token):
        raise RefreshNotAttempted("429", details={"reason": "rate_limited", "retry_after_s": 60.0})

    stub.answer = limited
    with pytest.raises(RateLimited) as info:
        refresh.refresh_profile(ctx, profile)
    assert info.value.details["retry_after_s"] == 60.0


def test_connect_failure_is_unavailable(ctx, roost_env, stub):
    profile = _profile(ctx, roost_env)

    def down(token):
        raise RefreshNotAttempted("down", details={"reason": "connect"})

    stub.answer = down
    with pytest.raises(RefreshNotAttempted) as info:
        refresh.refresh_profile(ctx, profile)
    assert info.value.exit_code == ExitCode.UNAVAILABLE


def test_no_refresh_token_is_auth_required_and_a_malformed_file_is_validation(ctx, roost_env, stub):
    # Issue #18 point 10: a missing refresh token is a login problem, AUTH_REQUIRED (2), not VALIDATION.
    profile = _profile(ctx, roost_env, document={"claudeAiOauth": {"accessToken": "sk-ant-oat01-x" * 3}})
    with pytest.raises(AuthRequired) as info:
        refresh.refresh_profile(ctx, profile)
    assert info.value.exit_code == ExitCode.AUTH_REQUIRED and info.value.details["reason"] == "no_refresh_token"
    assert "claude login" in info.value.message and "refresh --expired" not in info.value.message
    # A refresh token of the wrong type is a damaged file: VALIDATION, like unparsable JSON.
    profile.credentials_path.write_text('{"claudeAiOauth": {"accessToken": "sk-ant-oat01-y", "refreshToken": ["x"]}}')
    with pytest.raises(RoostError) as info:
        refresh.refresh_profile(ctx, profile)
    assert info.value.exit_code == ExitCode.VALIDATION
    profile.credentials_path.write_text("{not json")
    with pytest.raises(RoostError) as info:
        refresh.refresh_profile(ctx, profile)
    assert info.value.exit_code == ExitCode.VALIDATION
    assert profile.credentials_path.read_text() == "{not json"
    assert stub.calls == []


def test_missing_file_is_not_found(ctx, roost_env, stub):
    profile = _profile(ctx, roost_env)
    profile.credentials_path.unlink()
    with pytest.raises(NotFound):
        refresh.refresh_profile(ctx, profile)


def test_interrupt_during_the_post_lands_after_the_write(ctx, roost_env, stub):
    profile = _profile(ctx, roost_env)

    def interrupted(token):
        os.kill(os.getpid(), signal.SIGINT)
        return TokenGrant(NEW_ACCESS, NEW_REFRESH, 28800.0)

    stub.answer = interrupted
    # This process is the one signalled: give SIGINT Python's handler even when the suite was started
    # as a background job (SIGINT inherited as ignored, so no KeyboardInterrupt would ever come).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            refresh.refresh_profile(ctx, profile)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert roost_env.credentials("a")["claudeAiOauth"]["refreshToken"] == NEW_REFRESH
    assert not journal.pending_path(profile).exists()


def test_write_failure_keeps_the_grant_in_the_pending_file_and_the_next_run_finishes(ctx, roost_env, stub,
                                                                                      monkeypatch):
    profile = _profile(ctx, roost_env)
    raw = _raw(roost_env)
    backend = ctx.state

    def full(p, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(backend, "write_credentials", full)
    with pytest.raises(RefreshAmbiguous) as info:
        refresh.refresh_profile(ctx, profile)
    assert "kept in" in info.value.message
    assert _raw(roost_env) == raw and journal.pending_path(profile).exists()
    monkeypatch.undo()
    monkeypatch.setattr(AnthropicRefresher, "refresh", lambda self, token, c: stub.refresh(token, c))
    result = refresh.refresh_profile(ctx, profile)
    assert result.status == "already_fresh" and len(stub.calls) == 1
    assert roost_env.credentials("a")["claudeAiOauth"]["refreshToken"] == NEW_REFRESH
    assert journal.PENDING_KEY not in roost_env.credentials("a")
    assert not journal.pending_path(profile).exists()
    assert any("interrupted" in w for w in ctx.warnings)


def test_claude_holding_its_storage_lock_past_the_wait_says_the_grant_is_kept(ctx, roost_env, stub, monkeypatch):
    """The token is already spent when the write waits on claude's lock: the Conflict must say the
    refresh went through and where the new tokens are, and the next run writes them with no POST."""
    from roost_core.errors import Conflict

    profile = _profile(ctx, roost_env)
    raw = _raw(roost_env)

    def held(p, data):
        raise Conflict("claude is refreshing this profile (lock .storage-write.lock is held); retry later")

    monkeypatch.setattr(ctx.state, "write_credentials", held)
    with pytest.raises(Conflict) as info:
        refresh.refresh_profile(ctx, profile)
    assert "went through" in info.value.message and info.value.details["pending_grant"] is True
    assert _raw(roost_env) == raw and journal.pending_path(profile).exists()
    monkeypatch.undo()
    monkeypatch.setattr(AnthropicRefresher, "refresh", lambda self, token, c: stub.refresh(token, c))
    assert refresh.refresh_profile(ctx, profile).status == "already_fresh" and len(stub.calls) == 1
    assert roost_env.credentials("a")["claudeAiOauth"]["refreshToken"] == NEW_REFRESH


def _pending(profile, document: dict, replaces: str | None) -> None:
    document = dict(document, **{journal.PENDING_KEY: {"replaces": journal.digest(replaces), "at": 0}})
    journal.pending_path(profile).write_text(json.dumps(document))


def test_obsolete_pending_file_is_dropped_without_writing(ctx, roost_env, stub):
    profile = _profile(ctx, roost_env)
    raw = _raw(roost_env)
    _pending(profile, {"claudeAiOauth": {"accessToken": NEW_ACCESS, "refreshToken": NEW_REFRESH}}, "sk-other")
    assert refresh.recover_pending(ctx, profile) is False
    assert _raw(roost_env) == raw and not journal.pending_path(profile).exists()


def test_corrupt_pending_file_is_set_aside(ctx, roost_env, stub):
    profile = _profile(ctx, roost_env)
    journal.pending_path(profile).write_text("{torn")
    assert refresh.recover_pending(ctx, profile) is False
    bad = journal.pending_path(profile).with_name(journal.pending_path(profile).name + ".bad")
    assert bad.exists() and any("unusable" in w for w in ctx.warnings)


def test_stale_temp_files_are_removed_under_the_lock(ctx, roost_env, stub):
    profile = _profile(ctx, roost_env)
    leftover = profile.directory / "..credentials.json.abc123.roost-tmp"
    leftover.write_text("partial")
    refresh.refresh_profile(ctx, profile)
    assert not leftover.exists()


def test_compromised_claude_lock_before_the_post_is_conflict(ctx, roost_env, stub, monkeypatch):
    profile = _profile(ctx, roost_env)
    real = type(ctx.state).guard_refresh

    @contextlib.contextmanager
    def stolen(self, p, deadline):
        with real(self, p, deadline) as locks:
            locks.compromised = True
            yield locks

    monkeypatch.setattr(type(ctx.state), "guard_refresh", stolen)
    with pytest.raises(Exception) as info:
        refresh.refresh_profile(ctx, profile)
    assert getattr(info.value, "exit_code", None) == ExitCode.CONFLICT and stub.calls == []
