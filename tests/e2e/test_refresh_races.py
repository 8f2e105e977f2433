"""Races through the real executable: N refreshers, claude's own lock dirs, SIGKILL mid-refresh."""

from __future__ import annotations

import json
import os
import random
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

from roost_plugins.fakeserver import TokenBehaviour

ROOST = str(Path(sys.executable).parent / "roost")


def _account(world, name: str, **kwargs) -> None:
    world.make_account(name, **kwargs)


def _spawn(world, *args: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen([ROOST, *args], env=world.env(**env), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _token_post_times(world) -> list[float]:
    return [r["t"] for r in world.fake.requests if r["path"] == "/v1/oauth/token"]


def test_twenty_concurrent_refreshes_make_one_post(world):
    _account(world, "p", expires_in=-60)
    world.fake.set_token_behaviour("p", TokenBehaviour(delay_s=0.5))
    procs = [_spawn(world, "refresh", "p", "--json") for _ in range(10)]
    procs += [_spawn(world, "refresh", "--expired", "--json") for _ in range(10)]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0] * 20, [o[1] for o in outputs]
    assert all("Traceback" not in err for _, err in outputs)
    assert world.fake.token_posts == 1 and world.fake.reuse_count == 0
    statuses = []
    for out, _ in outputs:
        data = json.loads(out)["data"]
        statuses += [d["status"] for d in (data if isinstance(data, list) else [data])]
    assert statuses.count("refreshed") == 1
    assert set(statuses) <= {"refreshed", "already_fresh", "skipped_not_due"}
    creds = world.credentials("p")["claudeAiOauth"]
    assert creds["refreshToken"] == world.fake.live_refresh_token("p")
    assert creds["accessToken"] == world.fake.live_access_token("p")


class ClaudeHolder:
    """Plays a running claude: holds a lock directory and touches it every 0.2 s."""

    def __init__(self, path, hold_s: float):
        self.path, self.hold_s = path, hold_s
        self.released_at: float | None = None
        os.mkdir(path)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        end = time.monotonic() + self.hold_s
        while time.monotonic() < end:
            os.utime(self.path)
            time.sleep(0.2)
        self.released_at = time.monotonic()
        os.rmdir(self.path)

    def join(self) -> None:
        self._thread.join()


def test_a_live_claude_lock_past_the_wait_is_conflict_without_a_post(world):
    _account(world, "p")
    before = (world.profiles / "p" / ".credentials.json").read_bytes()
    holder = ClaudeHolder(world.profiles / "p" / ".oauth_refresh.lock", hold_s=3)
    started = time.monotonic()
    proc = world.run("refresh", "p", "--json", CLAUDE_LB_LOCK_WAIT="1")
    assert proc.returncode == 7 and json.loads(proc.stdout)["error"]["code"] == "CONFLICT"
    assert time.monotonic() - started < 3
    assert world.fake.token_posts == 0
    assert (world.profiles / "p" / ".credentials.json").read_bytes() == before
    assert not (world.profiles / "p.lock").exists()  # the second lock was never taken
    holder.join()


def test_refresh_waits_for_either_claude_lock(world):
    _account(world, "p")
    for lock in (world.profiles / "p" / ".oauth_refresh.lock", world.profiles / "p.lock"):
        holder = ClaudeHolder(lock, hold_s=1.0)
        proc = world.run("refresh", "p", CLAUDE_LB_REFRESH_MIN_INTERVAL="0")
        holder.join()
        assert proc.returncode == 0, proc.stderr
        assert holder.released_at is not None and _token_post_times(world)[-1] > holder.released_at
    assert world.fake.token_posts == 2 and world.fake.reuse_count == 0


def test_stale_and_future_claude_locks_are_taken_over(world):
    _account(world, "p")
    stale = world.profiles / "p" / ".oauth_refresh.lock"
    future = world.profiles / "p.lock"
    stale.mkdir()
    future.mkdir()
    os.utime(stale, (time.time() - 90, time.time() - 90))
    os.utime(future, (time.time() + 3600, time.time() + 3600))
    proc = world.run("refresh", "p")
    assert proc.returncode == 0, proc.stderr
    assert "stale" in proc.stderr
    assert not stale.exists() and not future.exists()


def test_stale_window_is_configurable(world):
    _account(world, "p")
    lock = world.profiles / "p.lock"
    lock.mkdir()
    os.utime(lock, (time.time() - 20, time.time() - 20))
    assert world.run("refresh", "p", CLAUDE_LB_LOCK_WAIT="0.5").returncode == 7  # 20 s old: live under 60 s
    assert world.run("refresh", "p", CLAUDE_LB_LOCK_STALE="10").returncode == 0
    assert world.fake.token_posts == 1


def _parses_to_a_known_pair(world, path, known: set[str]) -> str:
    raw = path.read_bytes()
    creds = json.loads(raw)  # never truncated, never missing
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = creds["claudeAiOauth"]["refreshToken"]
    assert token in known
    assert creds["mcpOAuth"] == {"keep": "me"}
    return token


def test_sigkill_at_any_point_never_damages_the_file(world):
    rng = random.Random(7)
    _account(world, "p")
    path = world.profiles / "p" / ".credentials.json"
    env = {"CLAUDE_LB_REFRESH_MIN_INTERVAL": "0"}
    for _ in range(6):
        delay = rng.choice([0.0, 0.05, 0.2])
        world.fake.set_token_behaviour("p", TokenBehaviour(delay_s=delay))
        proc = _spawn(world, "refresh", "p", **env)
        time.sleep(rng.uniform(0.05, 0.6 + delay))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        known = {r["old_refresh"] for r in world.fake.rotations} | {r["new_refresh"] for r in world.fake.rotations}
        known.add(world.fake.live_refresh_token("p"))
        token = _parses_to_a_known_pair(world, path, known | {world.credentials("p")["claudeAiOauth"]["refreshToken"]})
        # The next unkilled run finishes what it can: recovers a pending grant, or refreshes.
        follow = world.run("refresh", "p", **env)
        assert follow.returncode in (0, 2), follow.stderr  # never stuck behind our own dead lock
        leftovers = [n for n in os.listdir(path.parent) if n != ".credentials.json"]
        assert leftovers == [], leftovers
        assert "Traceback" not in follow.stderr
        if follow.returncode == 2:
            # Killed after the server rotated but before the answer was read: the one window
            # no client can close. Start a fresh chain from what is on disk.
            oauth = world.credentials("p")["claudeAiOauth"]
            world.fake.add_account("p", access_token=oauth["accessToken"], refresh_token=oauth["refreshToken"])
        else:
            assert follow.returncode == 0, follow.stderr
            assert world.credentials("p")["claudeAiOauth"]["refreshToken"] == world.fake.live_refresh_token("p")
        assert token  # the file was always one whole version
    assert not (world.profiles / "p.lock").exists()
    assert world.fake.reuse_count <= sum(1 for r in world.fake.rotations if r["source"] == "endpoint")


def test_a_stopped_refresher_still_persists_its_answer(world):
    _account(world, "p")
    world.fake.set_token_behaviour("p", TokenBehaviour(delay_s=1.0))
    proc = _spawn(world, "refresh", "p", CLAUDE_LB_LOCK_STALE="10")  # the least roost accepts (claude's own)
    deadline = time.monotonic() + 20
    while not _token_post_times(world) and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGSTOP)  # laptop sleep mid-POST: its claude locks go stale meanwhile
    for lock in (world.profiles / "p" / ".oauth_refresh.lock", world.profiles / "p.lock"):
        if lock.exists():  # aged as a long sleep would (no 10 s wait in the test)
            os.utime(lock, (time.time() - 90, time.time() - 90))
    time.sleep(1)
    proc.send_signal(signal.SIGCONT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert world.fake.token_posts == 1
    assert world.credentials("p")["claudeAiOauth"]["refreshToken"] == world.fake.live_refresh_token("p")
