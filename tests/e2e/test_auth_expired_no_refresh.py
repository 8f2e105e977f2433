"""An expired profile with no refresh token through the real ``roost``: still ``auth_expired`` (its stored
expiresAt is past), but every hint says to sign in again, never ``roost refresh`` (which cannot help)."""

from __future__ import annotations

import json


def _expired_without_refresh(world, name: str) -> None:
    path = world.make_profile(name, expires_in=-600)
    document = json.loads(path.read_text())
    del document["claudeAiOauth"]["refreshToken"]
    path.write_text(json.dumps(document))


def test_status_show_and_pick_say_sign_in_again(roost_env):
    _expired_without_refresh(roost_env, "solo")
    login = f"CLAUDE_CONFIG_DIR={roost_env.profiles / 'solo'} claude login"
    rc, out = roost_env.run_json("status")
    assert rc == 0
    (row,) = out["data"]
    assert row["health"] == "auth_expired" and row["source"] == "local"
    assert login in row["error"] and "roost add solo --force" in row["error"]
    proc = roost_env.run("status")
    assert "claude login" in proc.stderr and "roost refresh" not in proc.stderr
    proc = roost_env.run("show", "solo")
    shown = " ".join(proc.stderr.split())  # the Error row wraps at spaces
    assert proc.returncode == 0 and proc.stdout.strip() == "auth_expired"
    assert login in shown and "roost add solo --force" in shown and "roost refresh" not in shown
    proc = roost_env.run("pick")
    assert proc.returncode == 2
    assert "refresh" not in proc.stderr and login in proc.stderr and "roost add solo --force" in proc.stderr
    proc = roost_env.run("refresh", "solo")  # the hint refresh would have been: it cannot help
    assert proc.returncode == 2 and "has no refresh token" in proc.stderr


def test_a_refreshable_expired_profile_still_says_refresh(roost_env):
    roost_env.make_profile("old", expires_in=-600)
    _expired_without_refresh(roost_env, "solo")
    proc = roost_env.run("pick")
    assert proc.returncode == 2
    assert "run 'roost refresh --expired'" in proc.stderr and "sign solo in again" in proc.stderr
    assert "sign old" not in proc.stderr
    proc = roost_env.run("status")
    lines = {line.split("│")[1].strip(): line for line in proc.stderr.splitlines() if line.count("│") > 3}
    assert "roost refresh" in lines["old"] and "claude login" in lines["solo"]
