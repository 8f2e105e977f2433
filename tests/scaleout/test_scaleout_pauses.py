"""A refresh holder stopped or killed at chosen points, with the rest of the fleet carrying on.

Stop points (fleetkit/hooks/sitecustomize.py): ``grant`` (the refresh lock was
just granted), ``spend`` (the spend intent was just recorded, the POST is
next), ``journal`` (the POST answered and the new pair is journalled, the
commit is next). Each machine has a hostname of its own, so "same host, dead
pid" rules apply only where they should.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from fleetkit.fixtures import fleet, key_file, needs_redis, redis_server  # noqa: F401 (fixtures)
from fleetkit.machines import check
from roost_plugins.fakeserver import TokenBehaviour

pytestmark = needs_redis

LOCK_TTL_S = 1.5


def _fleet(fleet):
    for machine in (fleet.a, fleet.b):
        machine.redis_options.update(lock_ttl=f"{LOCK_TTL_S}s")
        machine.write_config()
    fleet.seed(fleet.a, "p")
    return fleet.a, fleet.b, fleet.fake


def _wait_mark(mark: Path, proc, timeout: float = 30.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if mark.exists() and mark.read_text().strip():
            return int(mark.read_text().split()[1])
        assert proc.poll() is None or proc.returncode == -signal.SIGKILL, proc.communicate()
        time.sleep(0.02)
    raise AssertionError("the stop point was never reached")


def _wait_stopped(pid: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with open(f"/proc/{pid}/stat") as handle:
            if handle.read().rsplit(")", 1)[1].split()[0] == "T":
                return
        time.sleep(0.01)
    raise AssertionError("process did not stop")


def _stored(machine, name="p"):
    return json.loads(machine.backend().creds.read(machine.profile(name)))["claudeAiOauth"]


def _refresh_held_at(machine, point: str, *, kill: bool = False):
    """``machine``'s refresh of p, SIGSTOPped (or SIGKILLed, and reaped) at ``point``."""
    mark = machine.root / f"{point}.mark"
    holder = machine.popen("refresh", "p", "--json", **machine.hooks(point, kill=kill, mark=mark))
    pid = _wait_mark(mark, holder)
    if kill:
        holder.wait(timeout=30)
    else:
        _wait_stopped(pid)
    return holder


def _finish(proc) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=60)
    assert "Traceback" not in err, err
    return proc.returncode, out, err


def test_holder_paused_after_the_grant_past_the_lock_ttl_never_posts(fleet):
    a, b, fake = _fleet(fleet)
    holder = _refresh_held_at(a, "grant")
    time.sleep(LOCK_TTL_S + 0.3)  # its lock lapses; the watchdog is frozen with it
    check(b.run("refresh", "p", **b.hooks()))
    assert fake.token_posts == 1
    os.kill(holder.pid, signal.SIGCONT)
    rc, out, err = _finish(holder)
    assert rc in (0, 7), (out, err)  # already fresh, or "lost the refresh lock": never a POST
    print(f"\n[scale-out] POSTs by a holder paused past its lock TTL after the grant: {fake.token_posts - 1}")
    assert fake.token_posts == 1 and fake.reuse_count == 0
    assert _stored(b)["refreshToken"] == fake.live_refresh_token("p")


def test_holder_paused_after_its_post_blocks_peers_until_it_commits(fleet):
    a, b, fake = _fleet(fleet)
    holder = _refresh_held_at(a, "journal")
    time.sleep(LOCK_TTL_S + 0.3)  # the lock lapses, the spend intent does not
    rc, out = b.run_json("refresh", "p", CLAUDE_LB_LOCK_WAIT="1", **b.hooks())
    assert rc == 7 and "in flight" in out["error"]["message"], out
    os.kill(holder.pid, signal.SIGCONT)
    rc, out, err = _finish(holder)
    assert rc == 0, (out, err)
    assert (fake.token_posts, fake.reuse_count) == (1, 0)
    assert _stored(b)["refreshToken"] == fake.live_refresh_token("p")
    check(b.run("refresh", "p", **b.hooks()))  # the intent went with the commit
    assert (fake.token_posts, fake.reuse_count) == (2, 0)


def test_holder_killed_after_recording_its_intent_is_settled_by_its_own_host(fleet):
    a, b, fake = _fleet(fleet)
    _refresh_held_at(a, "spend", kill=True)
    time.sleep(LOCK_TTL_S + 0.3)
    rc, out = b.run_json("refresh", "p", CLAUDE_LB_LOCK_WAIT="1", **b.hooks())
    assert rc == 7, out  # another host must respect the intent until its TTL
    assert fake.token_posts == 0
    check(a.run("refresh", "p", **a.hooks()))  # same host: the owner is provably dead, no journal
    assert (fake.token_posts, fake.reuse_count) == (1, 0)


def test_holder_killed_between_post_and_commit_loses_nothing(fleet):
    a, b, fake = _fleet(fleet)
    _refresh_held_at(a, "journal", kill=True)
    assert fake.token_posts == 1
    assert _stored(b)["refreshToken"] != fake.live_refresh_token("p")  # only a's journal has it
    rc, out = b.run_json("refresh", "p", CLAUDE_LB_LOCK_WAIT="1", **b.hooks())
    assert rc == 7, out
    check(a.run("refresh", "--expired", **a.hooks()))  # a's next run commits the journal first
    assert _stored(b)["refreshToken"] == fake.live_refresh_token("p")
    assert (fake.token_posts, fake.reuse_count) == (1, 0)
    assert not list((a.config / "redis" / "journal").glob("*.journal"))


def test_redis_paused_mid_refresh_exits_unavailable_and_the_journal_lands_later(fleet):
    a, b, fake = _fleet(fleet)
    a.redis_options.update(timeout="1s", connect_timeout="1s")
    a.write_config()
    holder = _refresh_held_at(a, "journal")
    fleet.redis.pause()
    try:
        start = time.monotonic()
        os.kill(holder.pid, signal.SIGCONT)
        rc, out, err = _finish(holder)
        assert rc == 9 and "journal" in out, (out, err)
        assert time.monotonic() - start < 10
    finally:
        fleet.redis.resume()
    check(a.run("refresh", "--expired", **a.hooks()))
    assert _stored(b)["refreshToken"] == fake.live_refresh_token("p")
    assert (fake.token_posts, fake.reuse_count) == (1, 0)


def test_a_killed_exec_s_lease_lapses_with_its_ttl(fleet):
    a, b, fake = _fleet(fleet)
    # A TTL long enough that b's first refresh (a fresh process on a loaded box) starts inside it.
    exec_proc = a.popen("exec", "--lease-for", "6", "--", "sleep", "20", **a.hooks())
    store, deadline = fleet.redis.client(), time.monotonic() + 20
    while not store.zcard("roost:leases"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    exec_proc.kill()  # SIGKILL roost itself: no release
    exec_proc.wait()
    killed_at = time.monotonic()
    rc, out = b.run_json("refresh", "p", **b.hooks())
    assert rc == 7 and out["error"]["code"] == "LEASE_HELD"
    while True:
        rc, out = b.run_json("refresh", "p", **b.hooks())
        if rc == 0:
            break
        assert time.monotonic() - killed_at < 6 + 4, out  # TTL + slack for the subprocess
        time.sleep(0.2)
    assert (fake.token_posts, fake.reuse_count) == (1, 0)


@pytest.mark.stress
def test_eight_machines_two_hundred_rounds_one_post_per_token(fleet):
    fake = fleet.fake
    machines = [fleet.a, fleet.b, *(fleet.add(f"m{i}") for i in range(6))]
    fleet.seed(fleet.a, "p")
    fake.set_token_behaviour("p", TokenBehaviour(delay_s=0.05))
    for round_ in range(200):
        procs = [m.popen("refresh", "p", "--json", **m.hooks()) for m in machines]
        codes = [p.wait(timeout=120) for p in procs]
        for p in procs:
            p.stdout.close()
            p.stderr.close()
        assert all(c in (0, 7) for c in codes), codes
    print(f"\n[scale-out] 8 machines x 200 rounds: {fake.token_posts} POSTs, {fake.reuse_count} reused")
    assert fake.reuse_count == 0
