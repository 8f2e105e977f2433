"""Issue #20 item 1: a double refresh through aliased credentials.

A profile whose ``.credentials.json`` is a symlink to another's: while a claude
running as one alias holds its refresh lock, ``roost refresh`` of any other
alias must not POST (before the fix it did at once, and one side then got
invalid_grant). The class, not only the instance: every kind of alias (a
symlinked file, a chain of them, a symlinked directory), every lock claude
takes (``.oauth_refresh.lock``, the legacy ``<dir>.lock``, the
``.storage-write.lock``), both directions, and each alias as the holder.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from relkit.world import HERE

FAKE_CLAUDE = HERE / "fakeclaude.py"
WAIT = "1.5"


def aliased_tree(rel) -> dict[str, Path]:
    """a (the file), a1 -> a (file symlink), a2 -> a1 (a chain), adir -> a (directory symlink)."""
    rel.profile("a")
    tree = rel.profiles
    for name, target in (("a1", tree / "a" / ".credentials.json"), ("a2", tree / "a1" / ".credentials.json")):
        (tree / name).mkdir(mode=0o700)
        (tree / name / ".credentials.json").symlink_to(target)
    (tree / "adir").symlink_to(tree / "a", target_is_directory=True)
    return {name: tree / name for name in ("a", "a1", "a2", "adir")}


def claude_locks(directory: Path, kind: str) -> list[Path]:
    if kind == "refresh":
        return [directory / ".oauth_refresh.lock"]
    if kind == "legacy":
        return [Path(os.path.realpath(directory) + ".lock")]
    return [directory / ".storage-write.lock"]


def hold(rel, paths: list[Path], seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, str(FAKE_CLAUDE), str(rel.trace_path), str(seconds),
                             *map(str, paths)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


CASES = [(holder, target, kind)
         for holder, target in (("a1", "a"), ("a", "a1"), ("a2", "a"), ("a", "a2"), ("a1", "a2"), ("adir", "a1"))
         for kind in ("refresh", "legacy", "storage")]


@pytest.mark.parametrize("holder, target, kind", CASES)
def test_a_claude_holding_any_alias_lock_stops_roost_refreshing_another(rel, holder, target, kind):
    dirs = aliased_tree(rel)
    before = rel.creds_bytes("a")
    # The storage-write lock guards claude's writes (not its refresh): roost POSTs, then waits for it
    # before writing; the refresh locks make roost wait before the POST (and give up: CONFLICT).
    helper = hold(rel, claude_locks(dirs[holder], kind), seconds=2.5 if kind == "storage" else 30)
    try:
        run = rel.run("refresh", target, "--json", CLAUDE_LB_LOCK_WAIT=WAIT)
    finally:
        helper.terminate()
        helper.wait(timeout=10)
        helper.stdout.close()
    posts = rel.fake.token_posts_for("a")
    if kind == "storage":
        assert (run.rc, posts) == (0, 1) and run.elapsed >= 2.0, f"wrote while {holder} held it: {run}"
        assert rel.stored_refresh("a") == rel.fake.live_refresh_token("a")
        return
    assert (run.rc, posts) == (7, 0), f"{holder} holds {kind}: roost refresh {target} -> rc={run.rc} posts={posts}"
    assert rel.creds_bytes("a") == before


def test_aliased_refreshes_never_double_spend(rel):
    """Every alias refreshed at once (roost only): one POST per rotation, never a reuse."""
    aliased_tree(rel)
    runs = rel.run_many([["refresh", name, "--json"] for name in ("a", "a1", "a2", "adir") * 3])
    print(f"\naliased credentials: 12 refreshers over 4 aliases -> {rel.fake.token_posts_for('a')} POST(s), "
          f"{rel.fake.reuse_count} reuse(s)")
    assert rel.fake.reuse_count == 0 and rel.fake.token_posts_for("a") == 1, [str(r) for r in runs]
    assert all(r.rc == 0 for r in runs), [str(r) for r in runs if r.rc]
