"""Credentials behind links: one that leads out of the user's ownership is never written (a refresh is refused
before its token is spent, exit 5); a login others may read or own is named, like ssh does; a symlink
loop is named (exit 4), not an unknown profile."""

from __future__ import annotations

import os

import pytest

from roost_plugins.fakeserver import Scenario

NOBODY = 65534


def _linked_to_anothers_file(world):
    world.make_profile("p")
    oauth = world.credentials("p")["claudeAiOauth"]
    world.fake.add_account("p", access_token=oauth["accessToken"], refresh_token=oauth["refreshToken"],
                           usage=Scenario.ok())
    other = world.root / "other"
    other.mkdir()
    target = other / "c.json"
    os.replace(world.profiles / "p" / ".credentials.json", target)
    os.symlink(target, world.profiles / "p" / ".credentials.json")
    os.chown(target, NOBODY, NOBODY)
    os.chown(other, NOBODY, NOBODY)
    return target


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="giving a file to another uid needs root")
def test_a_refresh_through_a_link_to_another_users_file_is_refused_before_the_post(world):
    target = _linked_to_anothers_file(world)
    before = target.read_bytes()
    rc, out = world.run_json("refresh", "p")
    assert rc == 5 and out["error"]["code"] == "FORBIDDEN", out
    assert "another user's file" in out["error"]["message"] and "nothing was spent" in out["error"]["message"]
    assert world.fake.token_posts == 0
    assert target.read_bytes() == before and os.stat(target).st_uid == NOBODY
    assert (world.profiles / "p" / ".credentials.json").is_symlink()
    proc = world.run("status")  # read, and named
    assert proc.returncode == 0 and "owned by uid 65534, not yours" in proc.stderr


def test_a_login_others_may_read_is_named(world):
    world.make_profile("p")
    os.chmod(world.profiles / "p" / ".credentials.json", 0o644)
    proc = world.run("list")
    assert proc.returncode == 0
    proc = world.run("status", "--no-platform-status")
    assert "its credentials file is mode 0644, readable by others (chmod 600" in proc.stderr


def test_a_symlink_loop_is_named_not_an_unknown_profile(world):
    (world.profiles / "loop").mkdir(parents=True)
    os.symlink(world.profiles / "loop" / ".credentials.json", world.profiles / "loop" / ".credentials.json")
    os.symlink(world.profiles / "lp", world.profiles / "lp")
    for name in ("loop", "lp"):
        for args in (["show", name], ["refresh", name]):
            proc = world.run(*args)
            assert proc.returncode == 4, (args, proc.stderr)
            assert "is a symlink loop (ELOOP)" in proc.stderr and "Traceback" not in proc.stderr
    assert world.run("show", "nope").returncode == 3  # absent stays NOT_FOUND


def test_an_expiry_in_seconds_is_read_and_named_without_a_refresh(world):
    """A unit mix-up (expiresAt in seconds) gives a warning, not a refresh storm."""
    import json
    import time

    path = world.make_profile("s")
    doc = json.loads(path.read_text())
    doc["claudeAiOauth"]["expiresAt"] = int(time.time() + 3600)  # seconds
    path.write_text(json.dumps(doc))
    oauth = doc["claudeAiOauth"]
    world.fake.add_account("s", access_token=oauth["accessToken"], refresh_token=oauth["refreshToken"],
                           usage=Scenario.ok())
    for args in (["status", "--no-platform-status"], ["refresh", "--expired"], ["show", "s"]):
        proc = world.run(*args)
        assert proc.returncode == 0, (args, proc.stderr)
        assert "expiresAt" in proc.stderr and "looks like seconds, not milliseconds" in proc.stderr, args
    assert world.run("pick", "--auto-refresh").returncode == 0  # warm cache: the file is not even read
    rc, out = world.run_json("doctor", "--skip-network")
    assert "looks like seconds" in {c["name"]: c for c in out["data"]}["profile:s"]["message"]
    assert world.fake.token_posts == 0  # no refresh, let alone a storm
