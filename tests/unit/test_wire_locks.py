"""Claude Code's lock set for a profile (aliases, the third lock) and the rejected-token memory."""

from __future__ import annotations

import os
import time
from types import SimpleNamespace

import pytest

from roost_core import deadtoken
from roost_core.credentials import Credentials
from roost_plugins.state_files.claudelock import (STORAGE_STALE_S, ClaudeLocks, alias_dirs, lock_paths,
                                                  storage_lock_paths)


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "profiles"
    for name in ("a", "b", "a1", "a2"):
        (root / name).mkdir(parents=True)
    (root / "a" / ".credentials.json").write_text("{}")
    (root / "b" / ".credentials.json").write_text("{}")
    (root / "a1" / ".credentials.json").symlink_to(root / "a" / ".credentials.json")
    (root / "a2" / ".credentials.json").symlink_to(root / "a1" / ".credentials.json")  # a chain
    (root / "adir").symlink_to(root / "a")  # a symlinked directory: the same one, never locked twice
    (root / "a.lock").mkdir()  # claude's legacy lock dir is never a profile
    return root


def test_every_directory_whose_credentials_resolve_to_the_file(tree):
    for name in ("a", "a1", "a2", "adir"):
        dirs = alias_dirs(tree / name, tree / name / ".credentials.json", tree)
        assert dirs[0] == tree / name
        assert {os.path.realpath(d) for d in dirs} == {str(tree / n) for n in ("a", "a1", "a2")}, name
        assert len(dirs) == 3
    assert alias_dirs(tree / "b", tree / "b" / ".credentials.json", tree) == [tree / "b"]


def test_lock_paths_cover_the_aliases_and_their_legacy_locks(tree):
    paths = lock_paths(tree / "a", tree / "a" / ".credentials.json", tree)
    assert paths[:2] == [tree / "a" / ".oauth_refresh.lock", tree.with_name("profiles") / "a.lock"]
    for name in ("a1", "a2"):
        assert tree / name / ".oauth_refresh.lock" in paths and tree / f"{name}.lock" in paths
    assert storage_lock_paths(tree / "a1", tree / "a1" / ".credentials.json", tree) == [
        tree / "a1" / ".storage-write.lock", tree / "a" / ".storage-write.lock", tree / "a2" / ".storage-write.lock"]


def test_storage_write_lock_is_stale_after_15s_only(tmp_path):
    lock = tmp_path / ".storage-write.lock"
    lock.mkdir()
    os.utime(lock, (time.time() - 10, time.time() - 10))
    locks = ClaudeLocks([lock], stale_s=STORAGE_STALE_S)
    with pytest.raises(Exception) as caught:
        locks.acquire(time.monotonic() + 0.3)
    assert "CONFLICT" in type(caught.value).__name__.upper() or getattr(caught.value, "exit_code", 0) == 7
    os.utime(lock, (time.time() - 16, time.time() - 16))
    locks = ClaudeLocks([lock], stale_s=STORAGE_STALE_S)
    locks.acquire(time.monotonic() + 1)
    assert lock.is_dir() and locks.held
    locks.release()
    assert not lock.exists()


class Docs:
    def __init__(self):
        self.docs = {}

    def read_doc(self, name):
        return dict(self.docs.get(name, {}))

    def update_doc(self, name, fn):
        self.docs[name] = fn(self.read_doc(name))
        return self.docs[name]


def test_rejected_tokens_are_remembered_by_fingerprint_only():
    ctx = SimpleNamespace(state=Docs(), now=lambda: 1_000.0)
    token = "sk-ant-ort01-" + "z" * 40
    assert deadtoken.lookup(ctx, token) is None
    deadtoken.remember(ctx, token, "p", "refresh_token_expired")
    entry = deadtoken.lookup(ctx, token)
    assert entry["reason"] == "refresh_token_expired" and "idle too long" in deadtoken.describe(entry)
    assert token not in repr(ctx.state.docs) and token[-8:] not in repr(ctx.state.docs)
    assert deadtoken.lookup(ctx, token + "x") is None and deadtoken.lookup(ctx, None) is None
    later = SimpleNamespace(state=ctx.state, now=lambda: 1_000.0 + deadtoken.KEEP_S + 1)
    deadtoken.remember(later, "other", "q", "refresh_token_invalid")
    assert deadtoken.lookup(later, token) is None  # pruned after KEEP_S


@pytest.mark.parametrize("oauth, wiped", [
    ({"accessToken": "", "refreshToken": "", "expiresAt": 0}, True),
    ({"expiresAt": 0}, True),
    ({"accessToken": None, "refreshToken": None, "expiresAt": 0, "scopes": []}, True),
    ({"accessToken": "", "refreshToken": "sk-ant-ort01-x", "expiresAt": 0}, False),
    ({"accessToken": "", "refreshToken": "", "expiresAt": 1}, False),
    ({"accessToken": "", "refreshToken": "", "expiresAt": False}, False),
])
def test_logged_out_files(oauth, wiped):
    import json

    creds = Credentials.parse(json.dumps({"claudeAiOauth": oauth}).encode())
    assert deadtoken.is_logged_out(creds) is wiped
