"""Windows rules through the real ``roost`` on Linux (CLAUDE_LB_PLATFORM=win32): %APPDATA%\\claude-lb,
no chmod (doctor says the ACLs protect the file), claude's orphaned lock directories listed by doctor
and reclaimed by the next refresh, exec passing the child's exit code, update --apply's caveat.
The winerror 32 and PermissionError paths are driven in tests/unit/test_credstores.py."""

from __future__ import annotations

import json
import os
import time

from test_integ_update import checkout, push_upstream, roost as roost_in  # noqa: F401  (fixture)


def _account(world, name: str, **kwargs) -> None:
    world.make_account(name, **kwargs)


def _windows(world, tmp_path):
    appdata = tmp_path / "AppData" / "Roaming"
    world.extra.update({"CLAUDE_LB_PLATFORM": "win32", "APPDATA": str(appdata)})
    return appdata / "claude-lb"


def test_state_lives_under_appdata_and_refresh_works(world, tmp_path):
    config = _windows(world, tmp_path)
    _account(world, "a")
    rc, out = world.run_json("refresh", "a")
    assert rc == 0 and out["data"]["status"] == "refreshed", out
    assert world.credentials("a")["claudeAiOauth"]["refreshToken"] == world.fake.live_refresh_token("a")
    assert (config / "refreshes.json").is_file() and not world.config.exists()
    assert sorted(os.listdir(world.profiles / "a")) == [".credentials.json"]  # every lock released


def test_doctor_says_the_acls_protect_the_file_not_its_mode(world, tmp_path):
    _windows(world, tmp_path)
    _account(world, "a")
    os.chmod(world.profiles / "a" / ".credentials.json", 0o644)  # meaningless on Windows
    rc, out = world.run_json("doctor", "--skip-network")
    checks = {c["name"]: c for c in out["data"]}
    store = checks["credential-store:a"]
    assert store["level"] == "ok" and "ACLs" in store["message"] and store["details"]["live"] == "file"
    assert "readable by others" not in checks["profile:a"]["message"]
    os.chmod(world.profiles, 0o755)  # the tree and the config dir: no chmod advice either
    (tmp_path / "AppData" / "Roaming" / "claude-lb").mkdir(parents=True, exist_ok=True, mode=0o755)
    rc, out = world.run_json("doctor", "--skip-network")
    text = json.dumps(out["data"])
    assert "chmod 7" not in text and "chmod 6" not in text, [c for c in out["data"] if "chmod " in json.dumps(c)]


def test_doctor_lists_claudes_orphaned_locks_and_the_next_refresh_reclaims_them(world, tmp_path):
    _windows(world, tmp_path)
    _account(world, "a")
    orphan = world.profiles / "a" / ".oauth_refresh.lock"
    orphan.mkdir()
    old = time.time() - 600  # a killed claude's: never touched again, never removed by claude on Windows
    os.utime(orphan, (old, old))
    rc, out = world.run_json("doctor", "--skip-network")
    check = {c["name"]: c for c in out["data"]}["credential-store:a"]
    assert check["level"] == "warn" and "orphaned claude lock" in check["message"]
    assert [o["path"] for o in check["details"]["orphan_locks"]] == [str(orphan)]
    rc, out = world.run_json("refresh", "a")
    assert rc == 0 and out["data"]["status"] == "refreshed", out
    assert not orphan.exists()


def test_exec_stays_resident_and_passes_the_exit_code(world, tmp_path):
    _windows(world, tmp_path)
    _account(world, "a")
    proc = world.run("exec", "--no-lease", "--", "sh", "-c", "exit 7")
    assert proc.returncode == 7, proc.stderr


def test_update_apply_keeps_the_windows_caveat(checkout, tmp_path):  # noqa: F811
    env, installed, other = checkout
    push_upstream(other, env, 1)
    env = {**env, "CLAUDE_LB_PLATFORM": "win32", "APPDATA": str(tmp_path / "appdata")}
    env.pop("CLAUDE_LB_UPDATE_INSTALL_CMD", None)
    proc = roost_in(env, "update", "--apply", "--json")
    assert proc.returncode == 0, proc.stderr
    reinstall = json.loads(proc.stdout)["data"]["applied"]["reinstall"]
    assert reinstall["ran"] is False and reinstall["reason"] == "windows"
    assert "cannot reinstall itself while it runs" in proc.stderr
