"""`roost config` shows every setting roost acts on, with its origin, through the real roost.

The usage log's marker (`roost config usage-log on`) is the file layer of
`usage_log`; the `[profiles]` table (share, share_history, base and the
per-profile `[profiles.NAME] isolated`) is declared by the profiles plugin.
"""

from __future__ import annotations

import json
import tomllib

from roost_plugins.fakeserver import Scenario


def add(world, name: str, scenario: Scenario) -> None:
    world.make_account(name, usage=scenario)


def samples(world) -> int:
    path = world.config / "usage-log.ndjson"
    return len([line for line in path.read_text().splitlines() if line]) if path.exists() else 0


def config(world, *args: str, **env: str) -> tuple[dict, dict]:
    """(`roost config` as TOML, parsed; `roost config --json` data)."""
    text = world.run("config", *args, **env)
    assert text.returncode == 0 and "Traceback" not in text.stderr, text.stderr
    rc, out = world.run_json("config", *args, **env)
    assert rc == 0, out
    return tomllib.loads(text.stdout), out["data"], text.stdout


def line_of(text: str, start: str) -> str:
    [line] = [line for line in text.splitlines() if line.startswith(start)]
    return line


def test_usage_log_on_shows_in_config_with_the_marker_as_origin_and_probes_log(world):
    add(world, "a", Scenario.ok(session=5, weekly=10))
    parsed, data, text = config(world)
    assert parsed["usage_log"] is False and data["usage_log"]["origin"] == "default"
    assert world.run("config", "usage-log", "on").returncode == 0
    marker = world.config / "usage-log.enabled"
    parsed, data, text = config(world)
    assert parsed["usage_log"] is True
    assert data["usage_log"] == {"value": True, "origin": "file", "source": str(marker), "plugin": "usage-log"}
    assert line_of(text, "usage_log = ") == f"usage_log = true  # file (marker {marker}) (plugin usage-log)"
    assert world.run("probe").returncode == 0 and samples(world) == 1
    # The environment wins over the marker (flag > env > team > file > default): off for this process.
    parsed, data, _ = config(world, CLAUDE_LB_USAGE_LOG="0")
    assert parsed["usage_log"] is False and data["usage_log"]["origin"] == "env"
    assert world.run("probe", CLAUDE_LB_USAGE_LOG="0").returncode == 0 and samples(world) == 1
    rc, status = world.run_json("config", "usage-log", "status", CLAUDE_LB_USAGE_LOG="0")
    assert status["data"]["enabled"] is False and status["data"]["marker"] is True
    assert status["data"]["off_by"] == "environment"
    proc = world.run("config", "usage-log", "status", CLAUDE_LB_USAGE_LOG="0")  # names the switch that decided
    assert "CLAUDE_LB_USAGE_LOG turns it off over the marker" in proc.stderr, proc.stderr
    # Off again: the marker goes and config says default.
    assert world.run("config", "usage-log", "off").returncode == 0
    parsed, data, _ = config(world)
    assert parsed["usage_log"] is False and data["usage_log"]["origin"] == "default"
    assert world.run("probe").returncode == 0 and samples(world) == 1


def test_the_marker_is_the_file_layer_over_config_toml_and_under_a_team(world):
    world.config.mkdir(parents=True)
    (world.config / "config.toml").write_text('usage_log = false\n[teams.quiet]\nusage_log = false\n')
    parsed, data, _ = config(world)
    assert parsed["usage_log"] is False and data["usage_log"]["origin"] == "file"
    assert data["usage_log"]["source"] is None
    assert world.run("config", "usage-log", "on").returncode == 0
    parsed, data, _ = config(world)
    assert parsed["usage_log"] is True and data["usage_log"]["source"] == str(world.config / "usage-log.enabled")
    parsed, data, _ = config(world, "--team", "quiet")
    assert parsed["usage_log"] is False and (data["usage_log"]["origin"], data["usage_log"]["source"]) == (
        "team", "quiet")
    proc = world.run("config", "usage-log", "on", CLAUDE_LB_TEAM="quiet")
    assert proc.returncode == 0 and proc.stdout == "off\n" and "stays off through team quiet" in proc.stderr


def test_profiles_settings_show_with_their_origins(world):
    world.config.mkdir(parents=True)
    (world.config / "config.toml").write_text(
        '[profiles]\nshare = ["CLAUDE.md", "agents"]\nshare_history = true\n'
        '[profiles.work]\nisolated = true\n[profiles."ci.bot"]\nisolated = false\n'
        '[teams.ops.profiles.home]\nisolated = true\n')
    parsed, data, text = config(world)
    assert parsed["profiles"]["share"] == ["CLAUDE.md", "agents"] and parsed["profiles"]["share_history"] is True
    assert parsed["profiles"]["work"] == {"isolated": True} and parsed["profiles"]["ci.bot"] == {"isolated": False}
    assert "base" not in parsed["profiles"]  # unset: a commented line
    assert data["profiles.share"] == {"value": ["CLAUDE.md", "agents"], "origin": "file", "source": None,
                                      "plugin": "profiles"}
    assert data["profiles.share_history"]["origin"] == "file"
    assert data["profiles.base"] == {"value": None, "origin": "default", "source": None, "plugin": "profiles"}
    assert data["profiles.*.isolated"] == {"value": False, "origin": "default", "source": None, "plugin": "profiles"}
    assert data["profiles.work.isolated"]["value"] is True and data["profiles.work.isolated"]["origin"] == "file"
    assert data['profiles."ci.bot".isolated']["value"] is False
    assert "profiles.home.isolated" not in data
    assert line_of(text, "# [profiles.*] isolated") == "# [profiles.*] isolated = false  # default (plugin profiles)"
    assert line_of(text, "share = ") == 'share = ["CLAUDE.md", "agents"]  # file (plugin profiles)'
    # A team's table overrides per profile, and says so.
    parsed, data, _ = config(world, "--team", "ops")
    assert parsed["profiles"]["home"] == {"isolated": True}
    assert (data["profiles.home.isolated"]["origin"], data["profiles.home.isolated"]["source"]) == ("team", "ops")


def test_a_team_isolating_a_profile_is_what_exec_does(world):
    base = world.home / ".claude"
    base.mkdir(parents=True)
    (base / "CLAUDE.md").write_text("# rules\n")
    add(world, "work", Scenario.ok(session=5, weekly=10))
    world.config.mkdir(parents=True)
    (world.config / "config.toml").write_text('[teams.ops.profiles.work]\nisolated = true\n')
    assert world.run("exec", "--no-lease", "--", "true").returncode == 0
    assert (world.profiles / "work" / "CLAUDE.md").is_symlink()
    assert world.run("exec", "--no-lease", "--team", "ops", "--", "true").returncode == 0
    assert not (world.profiles / "work" / "CLAUDE.md").exists()  # the team's value is the one acted on
    assert (base / "CLAUDE.md").read_text() == "# rules\n"


def test_a_bad_profiles_value_is_validation_naming_key_plugin_and_source(world):
    world.config.mkdir(parents=True)
    (world.config / "config.toml").write_text('[profiles]\nshare_history = "yes"\n')
    rc, out = world.run_json("config")
    assert rc == 4 and out["error"]["code"] == "VALIDATION"
    assert out["error"]["details"]["key"] == "profiles.share_history"
    assert out["error"]["details"]["plugin"] == "profiles"
    assert "config.toml [profiles] share_history" in out["error"]["message"]
    (world.config / "config.toml").write_text('[profiles.work]\nisolated = 1\n')
    rc, out = world.run_json("config")
    assert rc == 4 and out["error"]["details"]["key"] == "profiles.work.isolated", json.dumps(out)


def config_check(world) -> dict:
    rc, out = world.run_json("doctor", "--skip-network")
    checks = out["data"] if "data" in out else out["error"]["details"]["checks"]
    [check] = [c for c in checks if c["name"] == "config-file"]
    return check


def test_doctor_checks_each_profiles_value(world):
    world.make_profile("work")
    world.config.mkdir(parents=True)
    (world.config / "config.toml").write_text('[profiles]\nshare = ["CLAUDE.md"]\n[profiles.work]\nisolated = "yes"\n')
    check = config_check(world)
    assert check["level"] == "fail" and "profiles.work.isolated (plugin profiles)" in check["message"], check
    (world.config / "config.toml").write_text('[profiles]\nshare = ["CLAUDE.md"]\n[profiles.work]\nisolated = true\n')
    check = config_check(world)
    assert check["level"] == "ok", check  # [profiles] is a declared table now: not an unknown key
