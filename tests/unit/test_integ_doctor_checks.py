"""Doctor checks one by one (profiles, config, state files, mounts, isolation of plugin checks)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time

import pytest

from roost_plugins.doctor import counts, run_check
from roost_core.context import RoostContext
from roost_core.mounts import Mount, mount_for, network_kind, parse_mountinfo
from roost_core.records import CheckResult, Profile
from roost_plugins import doctor_checks as dc

is_root = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.fixture
def ctx(roost_env):
    return RoostContext(env=roost_env.env())


def profile(roost_env, name, **kwargs) -> Profile:
    roost_env.make_profile(name, **kwargs)
    return Profile(name, roost_env.profiles / name)


def test_healthy_profile_is_ok(roost_env):
    result = dc.check_one_profile(profile(roost_env, "work"), time.time())
    assert result.level == "ok" and result.name == "profile:work"
    assert "max" in result.message and "refreshable" in result.message
    assert result.details["mode"] == "0600" and result.details["has_refresh_token"] is True
    assert "CANARY" not in json.dumps(result.to_dict())  # never a token, not even a slice of one


def test_loose_modes_warn_with_the_fix(roost_env):
    p = profile(roost_env, "loose")
    os.chmod(p.credentials_path, 0o644)
    os.chmod(p.directory, 0o755)
    result = dc.check_one_profile(p, time.time())
    assert result.level == "warn"
    assert f"chmod 600 {p.credentials_path}" in result.message and f"chmod 700 {p.directory}" in result.message


@pytest.mark.parametrize("doc,level,words", [
    ("not json", "fail", "not valid JSON"),
    ({"mcpOAuth": {}}, "fail", "no claudeAiOauth"),
    ({"claudeAiOauth": {"refreshToken": "sk-ant-ort01-x" * 3, "expiresAt": 0}}, "fail", "no access token"),
])
def test_broken_credentials_fail(roost_env, doc, level, words):
    p = profile(roost_env, "bad")
    p.credentials_path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    result = dc.check_one_profile(p, time.time())
    assert result.level == level and words in result.message


def test_expiry_and_refresh_token(roost_env):
    old = profile(roost_env, "old", expires_in=-7200)
    now = time.time()  # after writing: the file's expiry is at least 2h in the past
    expired = dc.check_one_profile(old, now)
    assert expired.level == "warn" and "expired 2h" in expired.message and "roost refresh old" in expired.message
    doc = roost_env.credentials("old")
    del doc["claudeAiOauth"]["refreshToken"]
    (roost_env.profiles / "old" / ".credentials.json").write_text(json.dumps(doc))
    dead = dc.check_one_profile(Profile("old", roost_env.profiles / "old"), now)
    assert dead.level == "fail" and "sign in again" in dead.message
    p = profile(roost_env, "norefresh")
    doc = roost_env.credentials("norefresh")
    del doc["claudeAiOauth"]["refreshToken"]
    p.credentials_path.write_text(json.dumps(doc))
    assert dc.check_one_profile(p, now).level == "warn"
    # A fleet machine's copy never holds the refresh token (the shared store does): no warning for it.
    fleet = dc.check_one_profile(p, now, fleet=True)
    assert fleet.level == "ok" and "fleet store holds its refresh token" in fleet.message


def test_scopes_without_inference_warn(roost_env):
    p = profile(roost_env, "scoped")
    doc = roost_env.credentials("scoped")
    doc["claudeAiOauth"]["scopes"] = ["user:profile"]
    p.credentials_path.write_text(json.dumps(doc))
    assert "user:inference" in dc.check_one_profile(p, time.time()).message


def test_keychain_service_name_is_claude_codes_hash(tmp_path):
    directory = tmp_path / "profiles" / "work"
    digest = hashlib.sha256(str(directory).encode()).hexdigest()[:8]
    assert dc.keychain_service(directory) == f"Claude Code-credentials-{digest}"


def test_missing_file_on_macos_explains_the_keychain_never_deletion(tmp_path):
    directory = tmp_path / "work"
    directory.mkdir()
    asked = []
    result = dc.check_orphan_dir(directory, platform="darwin", keychain=lambda s: asked.append(s) or True)
    assert asked == [dc.keychain_service(directory)]
    assert result.level == "warn" and asked[0] in result.message and "keep the directory" in result.message
    assert "rm " not in result.message and "delete" not in result.message.lower()
    # The fix it gives works: run as written, the directory is a profile again (read from the keychain).
    command = result.message.split("`")[1]
    subprocess.run(["sh", "-c", command], check=True)
    marker = directory / ".roost-keychain"
    assert marker.read_text() == asked[0] + "\n" and (marker.stat().st_mode & 0o777) == 0o600
    from roost_core.api import discover_profiles
    from roost_core.paths import Paths

    paths = Paths.from_env({"CLAUDE_LB_PROFILES_DIR": str(directory.parent), "HOME": str(directory.parent)})
    assert [p.name for p in discover_profiles(paths)] == ["work"]
    plain = dc.check_orphan_dir(directory, platform="linux", keychain=lambda s: pytest.fail("no keychain on linux"))
    assert plain.level == "warn" and f"CLAUDE_CONFIG_DIR={directory} claude login" in plain.message


def test_profiles_check_lists_orphans_but_not_lock_dirs(roost_env, ctx):
    roost_env.make_profile("a")
    (roost_env.profiles / "empty").mkdir()
    (roost_env.profiles / "a.lock").mkdir()
    names = [r.name for r in dc.check_profiles(ctx)]
    assert names == ["profile:a", "profile:empty"]


def test_no_profiles_fails_profiles_dir(ctx):
    result = dc.check_profiles_dir(ctx)
    assert result.level == "fail" and "roost add" in result.message


@pytest.mark.parametrize("text,level,words", [
    (None, "ok", "built-in defaults"),
    ('strategy = "least-used"\n[endpoints]\napi_base = "https://x.test"\n', "ok", "parses"),
    ("strategy = \n", "fail", "malformed"),
    ('stickiness = "soon"\n', "fail", "stickiness"),
    ('stratgey = "sticky"\n', "warn", "stratgey"),
])
def test_config_file(roost_env, ctx, text, level, words):
    if text is not None:
        roost_env.config.mkdir(parents=True)
        (roost_env.config / "config.toml").write_text(text)
    result = dc.check_config_file(ctx)
    assert result.level == level and words in result.message


def test_config_dir_modes(roost_env, ctx):
    assert dc.check_config_dir(ctx).level == "ok"  # not created yet
    roost_env.config.mkdir(parents=True, mode=0o755)
    os.chmod(roost_env.config, 0o755)
    assert dc.check_config_dir(ctx).level == "warn"
    os.chmod(roost_env.config, 0o700)
    assert dc.check_config_dir(ctx).level == "ok"


def test_state_files(roost_env, ctx):
    roost_env.config.mkdir(parents=True)
    (roost_env.config / "health.json").write_text('{"version": 1, "profiles": {}}')
    (roost_env.config / "leases.json").write_text('{"leases": ')
    (roost_env.config / "last-pick.json").write_text("[1, 2]")
    (roost_env.config / "picks.log").write_text("")
    results = {r.name: r for r in dc.check_state_files(ctx)}
    assert results["state:health.json"].level == "ok"
    assert results["state:leases.json"].level == "warn" and "rebuilt" in results["state:leases.json"].message
    assert results["state:last-pick.json"].level == "warn"
    assert json.loads((roost_env.config / "leases.json").read_text()) == {}  # rebuilt by the check's read
    assert results["state:platform-status.json"].message == "not created yet"
    assert results["state:picks.log"].level == "ok" and "state:usage-log.ndjson" not in results


@pytest.mark.skipif(is_root, reason="root writes through file modes")
def test_unwritable_state_fails(roost_env, ctx):
    roost_env.config.mkdir(parents=True)
    health = roost_env.config / "health.json"
    health.write_text("{}")
    os.chmod(health, 0o400)
    assert {r.name: r for r in dc.check_state_files(ctx)}["state:health.json"].level == "fail"


def test_filesystem_warns_on_network_and_fuse(ctx, monkeypatch):
    # The doctor plugin reads the mount table through roost_core.api, which keeps the function once
    # looked up: patch it there (patching roost_core.mounts would reach the plugin only the first time).
    import roost_core.api as mounts

    monkeypatch.setattr(mounts, "filesystem_of", lambda path: Mount("/net", "nfs4", "srv:/export"))
    results = dc.check_filesystem(ctx)
    assert [r.level for r in results] == ["warn", "warn"] and "ONE machine" in results[0].message
    monkeypatch.setattr(mounts, "filesystem_of", lambda path: Mount("/", "ext4", "/dev/sda1"))
    assert [r.level for r in dc.check_filesystem(ctx)] == ["ok", "ok"]
    monkeypatch.setattr(mounts, "filesystem_of", lambda path: None)
    assert [r.level for r in dc.check_filesystem(ctx)] == ["skip", "skip"]


MOUNTINFO = """\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
30 22 0:30 / /home/u/net\\040share rw,relatime shared:5 - nfs4 srv:/export rw,vers=4.2
31 22 0:31 / /home/u/net\\040share/inner rw shared:6 - tmpfs tmpfs rw
32 22 0:32 / /mnt/s rw,nosuid - fuse.sshfs u@h:/x rw
33 22 0:33 / /mnt/ntfs rw - fuseblk /dev/sdb1 rw
"""


def test_mountinfo_parsing_and_longest_prefix():
    mounts = parse_mountinfo(MOUNTINFO + "garbage line\n")
    assert [m.mount_point for m in mounts] == ["/", "/home/u/net share", "/home/u/net share/inner", "/mnt/s",
                                               "/mnt/ntfs"]
    assert mount_for("/home/u/net share/p/.claude-profiles", mounts).fstype == "nfs4"
    assert mount_for("/home/u/net share/inner/x", mounts).fstype == "tmpfs"
    assert mount_for("/home/u/net sharex", mounts).fstype == "ext4"
    assert mount_for("/mnt/s", mounts).fstype == "fuse.sshfs"


@pytest.mark.parametrize("fstype,kind", [("nfs", "network"), ("nfs4", "network"), ("cifs", "network"),
                                         ("smb3", "network"), ("fuse.sshfs", "fuse"), ("fuse", "fuse"),
                                         ("fuse.rclone", "fuse"), ("fuseblk", None), ("ext4", None),
                                         ("tmpfs", None), ("btrfs", None)])
def test_network_kind(fstype, kind):
    assert network_kind(fstype) == kind


class Boom:
    name = "boom"
    needs_network = False

    def run(self, ctx):
        raise KeyError("oops")


class WarnOnly:
    name = "soft"
    needs_network = False
    level = "warn"

    def run(self, ctx):
        return [CheckResult("soft", "fail", "down"), {"name": "soft:extra", "level": "ok", "message": "fine"}]


def test_run_check_isolates_crashes_and_caps_warn_level_checks(ctx):
    crashed = run_check(ctx, "boom", Boom())
    assert crashed[0].level == "fail" and "'boom' crashed: KeyError" in crashed[0].message
    soft = run_check(ctx, "soft", WarnOnly())
    assert [(r.name, r.level) for r in soft] == [("soft", "warn"), ("soft:extra", "ok")]
    assert counts(crashed + soft) == {"ok": 1, "warn": 1, "fail": 1, "skip": 0}


@pytest.mark.parametrize("text,level,words", [
    ('[plugins.weighted]\nwieghts = { weekly = 2.0 }\n', "warn", "plugins.weighted.wieghts"),
    ('[teams.ops]\nstrategyy = "weighted"\n', "warn", "teams.ops.strategyy"),
    ('[teams.ops.weighted]\nwieghts = { weekly = 2.0 }\n', "warn", "teams.ops.weighted.wieghts"),
    ('[plugins.not-installed]\nanything = 1\n[teams.ops.not-installed]\nx = 1\n', "ok", "parses"),  # read raw
    ('[teams.ops]\nstrategy = "weighted"\n[teams.ci]\ntimeout = "soon"\n', "fail", "from team ci"),  # any team
])
def test_config_file_judges_plugin_tables_and_every_team(roost_env, ctx, text, level, words):
    roost_env.config.mkdir(parents=True)
    (roost_env.config / "config.toml").write_text(text)
    result = dc.check_config_file(ctx)
    assert result.level == level and words in result.message, result
