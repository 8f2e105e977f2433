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
    proc = roost_env.run("show", "solo", COLUMNS="1000")  # a long tmp path must not fold inside the hint
    shown = " ".join(proc.stderr.split())
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


def test_a_401_token_expired_without_a_refresh_token_says_sign_in_too(world):
    """The server says the token expired (clock skew) but the file holds no refresh token."""
    from roost_plugins.fakeserver import Scenario

    path = world.make_profile("skew")
    oauth = world.credentials("skew")["claudeAiOauth"]
    world.fake.add_account("skew", access_token=oauth["accessToken"], refresh_token=oauth["refreshToken"],
                           usage=Scenario.token_expired())
    document = json.loads(path.read_text())
    del document["claudeAiOauth"]["refreshToken"]
    path.write_text(json.dumps(document))
    rc, out = world.run_json("probe")
    assert rc == 0
    (row,) = out["data"]
    assert row["health"] == "auth_expired" and "claude login" in row["error"] and "roost add skew --force" in row["error"]
    rc, out = world.run_json("status")  # from the cache now
    assert out["data"][0]["error"] == row["error"]
    proc = world.run("pick")
    assert proc.returncode == 2 and "refresh" not in proc.stderr and "sign skew in again" in proc.stderr
