"""Claude-style mkdir locks: which directories, waiting, staleness, takeover, heartbeat."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from roost_plugins.state_files.claudelock import (LOCK_DIR_NAME, ClaudeLocks, claude_owner_record, is_stale, lock_paths,
                                   pid_domain)
from roost_core.errors import Conflict


@pytest.fixture
def profile_dir(tmp_path):
    directory = tmp_path / "tree" / "work"
    directory.mkdir(parents=True)
    (directory / ".credentials.json").write_text("{}")
    return directory


def test_lock_paths_are_claudes_pair_in_claudes_order(profile_dir):
    assert lock_paths(profile_dir, profile_dir / ".credentials.json") == [
        profile_dir / LOCK_DIR_NAME, profile_dir.parent / "work.lock"]


def test_legacy_lock_uses_the_realpath_of_a_symlinked_profile_dir(tmp_path, profile_dir):
    link = tmp_path / "tree" / "alias"
    link.symlink_to(profile_dir)
    assert lock_paths(link)[1] == profile_dir.parent / "work.lock"


def test_symlinked_credentials_add_the_target_dirs_pair(tmp_path, profile_dir):
    home = tmp_path / "home" / ".claude"
    home.mkdir(parents=True)
    (home / ".credentials.json").write_text("{}")
    creds = profile_dir / ".credentials.json"
    creds.unlink()
    creds.symlink_to(home / ".credentials.json")
    assert lock_paths(profile_dir, creds)[2:] == [home / LOCK_DIR_NAME, home.parent / ".claude.lock"]


@pytest.mark.parametrize("age,stale", [(0, False), (59, False), (61, True), (-59, False), (-61, True)])
def test_staleness_rule(age, stale):
    assert is_stale(1000.0 - age, 1000.0, 60.0) is stale


def test_acquire_creates_and_release_removes(profile_dir):
    locks = ClaudeLocks(lock_paths(profile_dir))
    locks.acquire(time.monotonic() + 1)
    assert all(p.is_dir() for p in locks.paths)
    locks.release()
    assert not any(p.exists() for p in locks.paths)


def test_a_live_lock_is_never_taken(profile_dir):
    held = profile_dir / LOCK_DIR_NAME
    held.mkdir()
    locks = ClaudeLocks(lock_paths(profile_dir), stale_s=60)
    started = time.monotonic()
    with pytest.raises(Conflict) as info:
        locks.acquire(started + 0.4)
    assert 0.35 < time.monotonic() - started < 1.5
    assert str(held) in info.value.message
    assert held.is_dir() and not (profile_dir.parent / "work.lock").exists()  # nothing half-held


def test_waits_for_a_lock_released_within_the_deadline(profile_dir):
    import threading

    held = profile_dir.parent / "work.lock"
    held.mkdir()
    threading.Timer(0.3, held.rmdir).start()
    locks = ClaudeLocks(lock_paths(profile_dir))
    locks.acquire(time.monotonic() + 5)
    assert held.is_dir()
    locks.release()


@pytest.mark.parametrize("offset", [-120, +120])
def test_stale_or_future_lock_is_taken_over(profile_dir, offset):
    held = profile_dir / LOCK_DIR_NAME
    held.mkdir()
    os.utime(held, (time.time() + offset, time.time() + offset))
    warnings: list[str] = []
    locks = ClaudeLocks(lock_paths(profile_dir), stale_s=60, warn=warnings.append)
    locks.acquire(time.monotonic() + 1)
    assert abs(held.stat().st_mtime - time.time()) < 5
    assert warnings and "stale" in warnings[0]
    assert [p for p in profile_dir.iterdir() if "roost-stale" in p.name] == []
    locks.release()


def test_stale_window_comes_from_the_caller(profile_dir):
    held = profile_dir / LOCK_DIR_NAME
    held.mkdir()
    os.utime(held, (time.time() - 20, time.time() - 20))
    with pytest.raises(Conflict):
        ClaudeLocks(lock_paths(profile_dir), stale_s=60).acquire(time.monotonic() + 0.2)
    ClaudeLocks(lock_paths(profile_dir), stale_s=10).acquire(time.monotonic() + 0.2)


def test_heartbeat_keeps_our_lock_fresh(profile_dir):
    locks = ClaudeLocks(lock_paths(profile_dir), heartbeat_s=0.05)
    locks.acquire(time.monotonic() + 1)
    first = [p.stat().st_mtime_ns for p in locks.paths]
    deadline = time.monotonic() + 5  # beats every 0.05 s; a loaded box may delay the thread
    while not all(p.stat().st_mtime_ns > m for p, m in zip(locks.paths, first)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(p.stat().st_mtime_ns > m for p, m in zip(locks.paths, first))
    assert not locks.compromised
    locks.release()
    assert not any(p.exists() for p in locks.paths)


def test_a_lock_replaced_under_us_is_compromised_and_not_removed(profile_dir):
    locks = ClaudeLocks(lock_paths(profile_dir), heartbeat_s=60)
    locks.acquire(time.monotonic() + 1)
    first = locks.paths[0]
    first.rmdir()
    first.mkdir()  # someone else's now
    locks.touch()
    assert locks.compromised
    locks.release()
    assert first.is_dir()


def test_a_lock_left_by_a_killed_roost_is_reclaimed_at_once(profile_dir):
    import subprocess
    import sys

    script = ("import sys, time; from pathlib import Path; from roost_plugins.state_files.claudelock import ClaudeLocks, lock_paths;"
              "ClaudeLocks(lock_paths(Path(sys.argv[1]))).acquire(time.monotonic() + 1)")  # exits holding them
    subprocess.run([sys.executable, "-c", script, str(profile_dir)], check=True)
    assert all(p.is_dir() for p in lock_paths(profile_dir))
    started = time.monotonic()
    locks = ClaudeLocks(lock_paths(profile_dir), stale_s=60)
    locks.acquire(started + 5)
    assert time.monotonic() - started < 1
    locks.release()


def test_a_lock_of_a_live_roost_is_not_reclaimed(profile_dir):
    first = ClaudeLocks(lock_paths(profile_dir))
    first.acquire(time.monotonic() + 1)
    with pytest.raises(Conflict):
        ClaudeLocks(lock_paths(profile_dir)).acquire(time.monotonic() + 0.3)
    first.release()


def _claude_left_locks(profile_dir: Path, age_s: float, pid: int, domain: str | None) -> None:
    """Both lock dirs of a claude that held them ``age_s`` ago, and its owner record."""
    for path in lock_paths(profile_dir):
        path.mkdir()
        os.utime(path, (time.time() - age_s, time.time() - age_s))
    record = {"pid": pid, "procStart": "x", "pidDomain": domain, "pidSpace": "y",
              "lockBirthtimeMs": 1, "legacyLockBirthtimeMs": 1}
    claude_owner_record(profile_dir / LOCK_DIR_NAME).write_text(json.dumps(record))


def _dead_pid() -> int:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.skipif(pid_domain() is None, reason="no /etc/machine-id or pid namespace link here")
@pytest.mark.parametrize("age_s, pid, domain, reclaimed", [
    (20, "dead", "ours", True),      # no heartbeat for 2 periods, pid gone from our namespace
    (3, "dead", "ours", False),      # heartbeat still fresh: maybe a new holder not yet recorded
    (20, "live", "ours", False),     # the recorded pid runs
    (20, "dead", "other", False),    # another machine or container: proves nothing
    (20, "dead", None, False),       # a record without a domain
])
def test_claudes_owner_record_can_prove_its_holder_gone(profile_dir, age_s, pid, domain, reclaimed):
    pid = _dead_pid() if pid == "dead" else os.getpid()
    domain = {"ours": pid_domain(), "other": "linux:0000:pid:[1]", None: None}[domain]
    _claude_left_locks(profile_dir, age_s, pid, domain)
    locks = ClaudeLocks(lock_paths(profile_dir), stale_s=60)
    if reclaimed:
        locks.acquire(time.monotonic() + 2)  # both dirs, at once, not after the 60 s window
        locks.release()
    else:
        with pytest.raises(Conflict):
            locks.acquire(time.monotonic() + 0.3)


def test_claudes_owner_record_sits_beside_the_primary_lock(profile_dir):
    record = profile_dir / ".oauth_refresh.lock.owner"
    assert claude_owner_record(profile_dir / LOCK_DIR_NAME) == record
    assert claude_owner_record(profile_dir.parent / "work.lock") == record


def _refuse_mkdir(monkeypatch, refused: Path) -> None:
    real = os.mkdir

    def mkdir(path, mode=0o777):
        if Path(path) == refused:
            raise PermissionError(13, "Permission denied")
        return real(path, mode)

    monkeypatch.setattr(os, "mkdir", mkdir)


def test_an_unwritable_credentials_dir_fails_before_any_post(monkeypatch, profile_dir):
    from roost_core.errors import ValidationError

    _refuse_mkdir(monkeypatch, profile_dir / LOCK_DIR_NAME)
    with pytest.raises(ValidationError) as info:
        ClaudeLocks(lock_paths(profile_dir)).acquire(time.monotonic() + 1)
    assert "cannot write in" in info.value.message


def test_an_uncreatable_legacy_lock_is_skipped_with_a_warning(monkeypatch, profile_dir):
    _refuse_mkdir(monkeypatch, profile_dir.parent / "work.lock")
    warnings: list[str] = []
    locks = ClaudeLocks(lock_paths(profile_dir), warn=warnings.append)
    locks.acquire(time.monotonic() + 1)
    assert [h.path for h in locks.held] == [profile_dir / LOCK_DIR_NAME]
    assert "going on without it" in warnings[0]
    locks.release()
