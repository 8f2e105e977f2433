"""Profile commands, the envelope and usage errors through the real roost executable."""

from __future__ import annotations

import json
import os
import stat

import pytest


def test_version(roost_env):
    proc = roost_env.run("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == "roost 0.5.0"


def test_list_empty_and_populated(roost_env):
    rc, out = roost_env.run_json("list")
    assert rc == 0 and out == {"data": [], "meta": {"count": 0, "profiles_dir": str(roost_env.profiles),
                                                     "profiles": []}}
    roost_env.make_profile("work")
    roost_env.make_profile("personal")
    (roost_env.profiles / "empty-dir").mkdir()
    (roost_env.profiles / "work.lock").mkdir()
    proc = roost_env.run("list")
    assert proc.stdout.splitlines() == ["personal", "work"]
    assert roost_env.run_json("list")[1]["meta"]["count"] == 2


def test_claude_config_dir_fallback_is_default(roost_env):
    single = roost_env.root / "single"
    single.mkdir()
    (single / ".credentials.json").write_text('{"claudeAiOauth": {"accessToken": "x"}}')
    proc = roost_env.run("list", CLAUDE_CONFIG_DIR=str(single))
    assert proc.stdout.split() == ["default"]


def test_add_copies_source_and_refuses_overwrite(roost_env):
    src = roost_env.make_profile("src")
    original = src.read_bytes()
    proc = roost_env.run("add", "personal", "--from", str(src))
    assert proc.returncode == 0 and proc.stdout.strip() == "personal"
    target = roost_env.profiles / "personal" / ".credentials.json"
    assert target.read_bytes() == original and src.read_bytes() == original
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    rc, out = roost_env.run_json("add", "personal", "--from", str(src))
    assert rc == 7 and out["error"]["code"] == "CONFLICT"
    assert roost_env.run("add", "personal", "--from", str(src), "--force").returncode == 0


def test_add_default_source_is_claude_home(roost_env):
    claude = roost_env.home / ".claude"
    claude.mkdir()
    (claude / ".credentials.json").write_text('{"claudeAiOauth": {"accessToken": "sk-ant-oat01-x"}}')
    assert roost_env.run("add", "me").returncode == 0
    assert (roost_env.profiles / "me" / ".credentials.json").exists()


@pytest.mark.parametrize("content,code", [(None, 3), ("not json", 4), ('{"mcpOAuth": {}}', 4)])
def test_add_bad_sources(roost_env, content, code):
    src = roost_env.root / "src.json"
    if content is not None:
        src.write_text(content)
    proc = roost_env.run("add", "x", "--from", str(src))
    assert proc.returncode == code and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("roost: error:")
    assert not (roost_env.profiles / "x").exists()


@pytest.mark.parametrize("name", ["../x", "a/b", ".hidden", "", "x.lock", "-x"])
def test_bad_names_change_nothing(roost_env, name):
    src = roost_env.make_profile("src")
    before = sorted(p.name for p in roost_env.root.rglob("*"))
    for args in (["add", name, "--from", str(src)], ["remove", name], ["rename", "src", name],
                 ["snapshot", name, str(roost_env.root / "s.json")]):
        if args[1] == "-x" and args[0] != "rename":
            args = [args[0], "--", *args[1:]]
        proc = roost_env.run(*args)
        assert proc.returncode == 4, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
    assert sorted(p.name for p in roost_env.root.rglob("*")) == before


def test_remove_and_rename(roost_env):
    roost_env.make_profile("a")
    roost_env.make_profile("b")
    roost_env.config.mkdir(parents=True)
    (roost_env.config / "last-pick.json").write_text(json.dumps({"name": "a", "at": "2026-01-01T00:00:00+00:00"}))
    rc, out = roost_env.run_json("rename", "a", "c")
    assert rc == 0 and out["data"]["new"] == "c"
    assert not (roost_env.profiles / "a").exists() and (roost_env.profiles / "c" / ".credentials.json").exists()
    assert json.loads((roost_env.config / "last-pick.json").read_text()) == {}
    assert roost_env.run("rename", "c", "b").returncode == 7
    assert roost_env.run("rename", "c", "b", "--force").returncode == 0
    assert roost_env.run("list").stdout.split() == ["b"]
    assert roost_env.run("remove", "b").returncode == 0
    assert roost_env.run("list").stdout.split() == []
    rc, out = roost_env.run_json("remove", "ghost")
    assert rc == 3 and out["error"]["code"] == "NOT_FOUND"


def test_remove_never_touches_claude_home(roost_env):
    claude = roost_env.home / ".claude"
    claude.mkdir()
    (claude / ".credentials.json").write_text('{"claudeAiOauth": {"accessToken": "sk-ant-oat01-x"}}')
    roost_env.run("add", "me")
    roost_env.run("remove", "me")
    assert (claude / ".credentials.json").exists()


def test_snapshot(roost_env):
    src = roost_env.make_profile("p")
    out_path = roost_env.root / "snap.json"
    proc = roost_env.run("snapshot", "p", str(out_path))
    assert proc.returncode == 0 and "Snapshot written. roost will NEVER touch this file." in proc.stderr
    assert out_path.read_bytes() == src.read_bytes()
    assert stat.S_IMODE(out_path.stat().st_mode) == 0o600
    assert roost_env.run("snapshot", "p", str(src)).returncode == 4
    assert roost_env.run("snapshot", "p", str(roost_env.root / "no" / "dir.json")).returncode == 3
    assert roost_env.run("snapshot", "ghost", str(out_path)).returncode == 3


def test_usage_errors_are_validation(roost_env):
    for args in (["list", "--nope"], ["nosuchcommand"], ["add"], ["rename", "a"]):
        proc = roost_env.run(*args)
        assert proc.returncode == 4, args
        assert "Traceback" not in proc.stderr and proc.stdout == ""
    rc, out = roost_env.run_json("list", "--nope")
    assert rc == 4 and out["error"]["code"] == "VALIDATION"


def test_malformed_config_is_validation_naming_the_line(roost_env):
    roost_env.config.mkdir(parents=True)
    (roost_env.config / "config.toml").write_text("strategy = 'x'\nbroken = \n")
    roost_env.make_profile("a")
    proc = roost_env.run("config")
    assert proc.returncode == 4 and "line 2" in proc.stderr


def test_plugins_lists_builtins(roost_env):
    rc, out = roost_env.run_json("plugins")
    assert rc == 0
    names = {row["name"] for row in out["data"]}
    assert {"files", "sticky", "least-used", "taxonomy", "anthropic"} <= names
    builtin = {"files", "sticky", "least-used", "taxonomy", "anthropic", "rich", "status-page"}
    assert all(row["dist"] == "roost" for row in out["data"] if row["name"] in builtin)
    assert out["meta"]["failures"] == 0


def test_disable_plugin(roost_env):
    rc, out = roost_env.run_json("--disable-plugin", "usage-log", "plugins")
    row = next(r for r in out["data"] if r["name"] == "usage-log")
    assert row["status"] == "disabled"


def test_corrupt_state_file_is_rebuilt_with_warning(roost_env):
    roost_env.make_profile("a")
    roost_env.config.mkdir(parents=True)
    (roost_env.config / "last-pick.json").write_text("{garbage")
    proc = roost_env.run("remove", "a")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
