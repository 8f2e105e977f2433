"""G15 (issue 20, items 10-12): add --from, remove of a linked directory, bookkeeping after a move.

10. ``add --from /dev/zero`` grew without bound and ``--from FIFO`` blocked
    forever: only a regular file of at most 1 MiB is read.
11. ``remove`` of a profile whose directory is a symlink out of the tree
    exited 1 (rmtree refuses links): the link is unlinked, never its target.
12. ``rename``/``remove`` that moved the files and then could not write the
    health cache exited 1: the move stands, a warning, exit 0.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "directory", "oversized"])
def test_g15_add_from_reads_only_a_bounded_regular_file(rel, kind):
    source: Path
    if kind == "dev-zero":
        source = Path("/dev/zero")
    else:
        source = rel.root / f"source-{kind}"
        if kind == "fifo":
            os.mkfifo(source)
        elif kind == "directory":
            source.mkdir()
        else:
            with open(source, "wb") as handle:
                handle.truncate(64 << 20)  # sparse: 64 MiB of zeros
    started = time.monotonic()
    run = rel.run("add", "x", "--from", str(source), timeout=30)
    elapsed = time.monotonic() - started
    print(f"\nG15 add --from {kind}: rc={run.rc} in {elapsed:.2f}s")
    assert run.rc == 4, run
    assert elapsed < 10 and not (rel.profiles / "x").exists()


def test_g15_remove_of_a_linked_profile_directory_unlinks_only(rel):
    rel.profile("a")
    outside = rel.root / "kept-elsewhere" / "acct"
    outside.parent.mkdir()
    os.rename(rel.profiles / "a", outside)
    os.symlink(outside, rel.profiles / "a")
    (outside / "projects").mkdir(mode=0o700)
    run = rel.run("remove", "a")
    assert run.rc == 0, run
    assert "removed the link only" in run.stderr
    assert not os.path.lexists(rel.profiles / "a")
    assert (outside / ".credentials.json").exists() and (outside / "projects").is_dir()
    rel.credential_copies.add(outside / ".credentials.json")  # the user's own copy, left alone on purpose


@pytest.mark.parametrize("command", ["remove", "rename"])
def test_g15_bookkeeping_failure_after_the_move_is_a_warning(rel, command):
    rel.profile("a")
    health = rel.config / "health.json"
    rel.config.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(rel.config, 0o700)
    if health.exists():
        health.unlink()
    health.mkdir(mode=0o700)  # the cache cannot be rewritten any more
    run = rel.run(*([command, "a"] if command == "remove" else [command, "a", "b"]))
    assert run.rc == 0, run
    assert "could not update roost's state" in run.stderr
    assert not (rel.profiles / "a").exists()
    assert (rel.profiles / "b").exists() == (command == "rename")
    health.rmdir()  # the end-of-test checks parse every state file
