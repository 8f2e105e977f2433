"""Leases: acquire/release, expiry at read time, proof of death, malformed entries."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from roost_core import leases
from roost_core.context import RoostContext
from roost_core.errors import LeaseHeld


class Clock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ctx(roost_env, clock) -> RoostContext:
    warnings: list[str] = []
    c = RoostContext(env=roost_env.env(), clock=clock)
    c.out.warn = warnings.append  # type: ignore[method-assign]
    c.warnings = warnings  # type: ignore[attr-defined]
    return c


def _doc(roost_env) -> dict:
    return json.loads((roost_env.config / "leases.json").read_text())


def test_acquire_release_round_trip(ctx, roost_env):
    lease = leases.acquire(ctx, "a", 60, command="claude")
    assert [l.id for l in leases.active(ctx, "a")] == [lease.id] and leases.active(ctx, "b") == []
    entry = _doc(roost_env)["leases"][lease.id]
    assert entry["pid"] == os.getpid() and entry["command"] == "claude" and entry["child_pid"] is None
    with pytest.raises(LeaseHeld) as info:
        leases.ensure_not_leased(ctx, "a")
    assert info.value.code == "LEASE_HELD" and info.value.details["profile"] == "a"
    leases.ensure_none_leased(ctx, ["b", "c"])
    leases.release(ctx, lease.id)
    assert leases.active(ctx) == [] and _doc(roost_env) == {"leases": {}}


def test_expired_at_read_time_and_pruned_on_write(ctx, roost_env, clock):
    old = leases.acquire(ctx, "a", 10)
    clock.now += 11
    assert leases.active(ctx) == []
    leases.ensure_not_leased(ctx, "a")
    new = leases.acquire(ctx, "b", 10)
    assert set(_doc(roost_env)["leases"]) == {new.id} and old.id != new.id


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_provably_dead_holder_frees_the_lease_early(ctx):
    leases.acquire(ctx, "a", 3600, pid=_dead_pid())
    assert leases.active(ctx) == []


def test_a_reused_pid_does_not_keep_a_lease_alive(ctx):
    lease = leases.acquire(ctx, "a", 3600)
    entry = dict(ctx.state.read_doc("leases")["leases"][lease.id], proc_start="1")  # our pid, other start
    ctx.state.update_doc("leases", lambda d: {"leases": {lease.id: entry}})
    assert leases.active(ctx) == []


def test_a_running_child_keeps_the_lease_of_a_dead_roost(ctx):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        lease = leases.acquire(ctx, "a", 3600)
        lease_doc = ctx.state.read_doc("leases")["leases"][lease.id]
        lease_doc.update(pid=_dead_pid(), proc_start="1")  # the roost holder is gone
        ctx.state.update_doc("leases", lambda d: {"leases": {lease.id: lease_doc}})
        assert leases.active(ctx) == []
        leases.set_child(ctx, lease.id, child.pid)
        assert [l.child_pid for l in leases.active(ctx)] == [child.pid]
    finally:
        child.kill()
        child.wait()
    assert leases.active(ctx) == []


def test_a_lease_from_another_host_lives_until_its_ttl(ctx, clock):
    lease = leases.acquire(ctx, "a", 60)
    entry = dict(ctx.state.read_doc("leases")["leases"][lease.id], host="elsewhere", pid=_dead_pid())
    ctx.state.update_doc("leases", lambda d: {"leases": {lease.id: entry}})
    assert len(leases.active(ctx)) == 1
    clock.now += 61
    assert leases.active(ctx) == []


@pytest.mark.parametrize("entry", [
    "x", 5, None, {}, {"id": "k"},
    {"id": "k", "profile": "a", "pid": "1", "host": "h", "boot_id": None, "proc_start": None,
     "acquired_at": 0, "expires_at": 2e9},
    {"id": "k", "profile": "a", "pid": 1, "host": "h", "boot_id": None, "proc_start": None,
     "acquired_at": 0, "expires_at": "later"},
    {"id": "k", "profile": "a", "pid": True, "host": "h", "boot_id": None, "proc_start": None,
     "acquired_at": 0, "expires_at": 2e9},
    {"id": "other", "profile": "a", "pid": 1, "host": "h", "boot_id": None, "proc_start": None,
     "acquired_at": 0, "expires_at": 2e9},
])
def test_malformed_entries_are_dropped_with_a_warning(ctx, roost_env, entry):
    roost_env.config.mkdir(parents=True)
    (roost_env.config / "leases.json").write_text(json.dumps({"leases": {"k": entry}}))
    assert leases.active(ctx) == []
    assert any("malformed" in w for w in ctx.warnings)
    lease = leases.acquire(ctx, "a", 60)
    assert set(_doc(roost_env)["leases"]) == {lease.id}


def test_corrupt_file_is_rebuilt(ctx, roost_env):
    roost_env.config.mkdir(parents=True)
    (roost_env.config / "leases.json").write_text('{"leases": [')
    assert leases.active(ctx) == []
    assert any("leases.json" in w for w in ctx.warnings)
    leases.acquire(ctx, "a", 60)
    assert len(_doc(roost_env)["leases"]) == 1


def test_unknown_extra_keys_are_tolerated(ctx, roost_env):
    lease = leases.acquire(ctx, "a", 60)
    entry = dict(ctx.state.read_doc("leases")["leases"][lease.id], future_field=1)
    ctx.state.update_doc("leases", lambda d: {"leases": {lease.id: entry}})
    assert [l.id for l in leases.active(ctx)] == [lease.id]
