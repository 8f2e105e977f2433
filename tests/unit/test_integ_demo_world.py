"""The demo's fleet and environment, without running its subprocesses."""

from __future__ import annotations

import json
import stat
import time

from roost_plugins.fakeserver import demo


def test_json_flag_goes_before_the_child_command():
    assert demo._with_json(("exec", "--dry-run", "--", "claude", "--help")) == [
        "exec", "--dry-run", "--json", "--", "claude", "--help"]
    assert demo._with_json(("status",)) == ["status", "--json"]


def test_steps_cover_what_the_issue_lists():
    commands = [" ".join(step.args) for step in demo.steps()]
    assert commands[:4] == ["status", "pick --explain", "exec --dry-run -- claude --help", "refresh max-expired"]
    assert commands.count("probe") == demo.PROBE_ROUNDS and commands[-1] == "report --sparkline"


def test_world_is_confined_to_its_root(tmp_path, monkeypatch):
    from roost_plugins.fakeserver import FakeAnthropic

    monkeypatch.setenv("CLAUDE_LB_PROFILES_DIR", "/somewhere/real")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", "/somewhere/else")
    monkeypatch.setenv("XDG_CONFIG_HOME", "/real/config")
    with FakeAnthropic() as fake:
        world = demo.build_world(tmp_path, fake, time.time())
        env = world.env
        assert env["HOME"] == str(tmp_path / "home") and env["XDG_CONFIG_HOME"] == str(tmp_path / "config")
        assert env["CLAUDE_LB_PROFILES_DIR"] == str(tmp_path / "profiles") and "CLAUDE_CONFIG_DIR" not in env
        assert env["CLAUDE_LB_API_BASE"] == fake.base_url and env["CLAUDE_LB_USAGE_LOG"] == "1"
        names = sorted(p.name for p in (tmp_path / "profiles").iterdir())
        assert names == sorted(p.name for p in demo.FLEET)
        for profile in demo.FLEET:
            path = tmp_path / "profiles" / profile.name / ".credentials.json"
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            oauth = json.loads(path.read_text())["claudeAiOauth"]
            assert fake.live_access_token(profile.name) == oauth["accessToken"]
            assert (oauth["expiresAt"] < time.time() * 1000) == (profile.name == "max-expired")
