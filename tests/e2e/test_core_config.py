"""``roost config`` through the real executable: valid TOML with each value's origin, ``--json``
with value and origin per key, team plugin tables, secrets hidden, bad values exit 4."""

from __future__ import annotations

import tomllib

CONFIG = """\
strategy = "least-used"
stickiness = "2m"
avoid = ["b"]
[endpoints]
status_url = "https://status.example/summary.json"
[plugins.weighted]
weights = { weekly = 2.0 }
[state.redis]
url = "rediss://roost:hunter2secret@redis.example:6380/0"
[teams.ops]
strategy = "weighted"
warn_at = 80
[teams.ops.weighted]
weights = { session = 3.0 }
"""


def _write(roost_env, text: str) -> None:
    roost_env.config.mkdir(parents=True, exist_ok=True)
    (roost_env.config / "config.toml").write_text(text)


def test_defaults_are_valid_toml_with_origins(roost_env):
    proc = roost_env.run("config")
    assert proc.returncode == 0, proc.stderr
    doc = tomllib.loads(proc.stdout)
    assert doc["strategy"] == "sticky" and doc["avoid"] == [] and doc["require_ok"] is False
    assert doc["plugins"]["weighted"]["weights"] == {"weekly": 1.0, "session": 1.0}
    assert "warn_at" not in doc and "# warn_at = (unset)  # default" in proc.stdout  # unset: a comment
    assert "None" not in proc.stdout and "()" not in proc.stdout
    assert 'strategy = "sticky"  # default\n' in proc.stdout
    assert "usage_log = false  # default (plugin usage-log)" in proc.stdout
    # roost_env points the endpoints at 127.0.0.1 through the environment
    assert doc["endpoints"]["api_base"] == "http://127.0.0.1:9"
    assert '# env CLAUDE_LB_API_BASE (plugin anthropic)' in proc.stdout


def test_file_env_and_team_origins(roost_env):
    _write(roost_env, CONFIG)
    proc = roost_env.run("--team", "ops", "config", CLAUDE_LB_STICKINESS="45")
    assert proc.returncode == 0, proc.stderr
    doc = tomllib.loads(proc.stdout)
    assert (doc["strategy"], doc["stickiness"], doc["warn_at"], doc["avoid"]) == ("weighted", 45.0, 80.0, ["b"])
    lines = proc.stdout.splitlines()
    assert 'strategy = "weighted"  # team ops' in lines and "stickiness = 45.0  # env CLAUDE_LB_STICKINESS" in lines
    assert 'avoid = ["b"]  # file' in lines
    assert "weights = { weekly = 1.0, session = 3.0 }  # team ops (plugin weighted)" in lines
    assert "hunter2secret" not in proc.stdout
    assert doc["state"]["redis"]["url"] == "rediss://roost:****@redis.example:6380/0"

    rc, out = roost_env.run_json("--team", "ops", "config", CLAUDE_LB_STICKINESS="45")
    data = out["data"]
    assert rc == 0 and out["meta"]["team"] == "ops" and out["meta"]["exists"] is True
    keys = ("strategy", "stickiness", "avoid", "timeout")
    picked = {k: (v["value"], v["origin"]) for k, v in data.items() if k in keys}
    assert picked == {"strategy": ("weighted", "team"), "stickiness": (45.0, "env"), "avoid": (["b"], "file"),
                      "timeout": (5.0, "default")}
    assert data["endpoints.status_url"]["origin"] == "env"  # the environment beats the file
    assert data["plugins.weighted.weights"] == {"value": {"weekly": 1.0, "session": 3.0}, "origin": "team",
                                                "source": "ops", "plugin": "weighted"}
    assert "hunter2secret" not in str(out)
    rc, out = roost_env.run_json("config", env=roost_env.env(**{"CLAUDE_LB_STATUS_URL": ""}))
    assert out["data"]["endpoints.status_url"] == {"value": "https://status.example/summary.json",
                                                   "origin": "file", "source": None, "plugin": "status-page"}


def test_bad_values_exit_4_naming_setting_plugin_and_source(roost_env):
    _write(roost_env, '[plugins.weighted]\nweights = { weekly = nan }\n[teams.ci]\ntimeout = inf\n')
    proc = roost_env.run("config")
    assert proc.returncode == 4 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("roost: error: bad value for plugins.weighted.weights (plugin weighted) from file")
    rc, out = roost_env.run_json("--team", "ci", "config")
    assert rc == 4 and out["error"]["details"] == {"key": "timeout", "plugin": "core", "origin": "team", "source": "ci"}
    proc = roost_env.run("config", CLAUDE_LB_PROBE_BUDGET="nan")
    assert proc.returncode == 4 and "probe_budget (plugin core) from env CLAUDE_LB_PROBE_BUDGET" in proc.stderr


def test_team_strategy_and_weights_reach_the_pick(world):
    """[teams.ops] strategy = "weighted" plus [teams.ops.weighted] weights: a per-team strategy override."""
    from roostkit import canary

    from roost_plugins.fakeserver import Scenario

    for name, scenario in {"a": Scenario.ok(session=0, weekly=20), "b": Scenario.ok(session=50, weekly=40)}.items():
        world.make_profile(name)
        world.fake.add_account(name, access_token=canary("access", name), refresh_token=canary("refresh", name),
                               usage=scenario)
    _write(world, '[teams.plain]\nstrategy = "weighted"\n'
                  '[teams.ops]\nstrategy = "weighted"\n[teams.ops.weighted]\nweights = { session = 0.0 }\n')
    rc, out = world.run_json("--team", "plain", "which", "--stickiness", "0")  # 20/(0+1) vs 40/(50+1): b
    assert rc == 0 and (out["data"]["name"], out["data"]["strategy"]) == ("b", "weighted")
    rc, out = world.run_json("--team", "ops", "which", "--stickiness", "0")  # session weight 0: 20 vs 40: a
    assert rc == 0 and out["data"]["name"] == "a", out
    assert "0 x session_pct" in out["data"]["rationale"]


def test_config_prints_valid_toml_for_any_value(roost_env):
    """Quotes, backslashes, unicode past the BMP, control characters, empty lists, nested and quoted
    tables, weights; an undecodable byte in the environment (a path: a User-Agent must be ASCII);
    an odd team name in the comments."""
    _write(roost_env, 'strategy = "we\\"ird\\\\name \u00fcn\u00ef \U0001f426"\navoid = []\n'
                      'fallback = "tab\\there\\u0001\\u007f"\n[plugins.weighted]\nweights = { weekly = 2.5, session = 0 }\n'
                      '[state.redis]\nkey_file = "C:\\\\keys\\\\k ey"\nsentinels = []\n'
                      '[teams."o\\"p s\\nx"]\navoid = ["a b", "c\\"d", "\u00e9"]\n'
                      '[teams."o\\"p s\\nx".weighted]\nweights = { weekly = 1e-3, session = 1e300 }\n')
    env = roost_env.env()
    env["CLAUDE_LB_REDIS_KEY_FILE"] = "bad\udcffbyte"  # subprocess writes it back as the byte 0xff
    proc = roost_env.run("--team", 'o"p s\nx', "config", env=env)
    assert proc.returncode == 0, proc.stderr
    doc = tomllib.loads(proc.stdout)
    assert doc["strategy"] == 'we"ird\\name \u00fcn\u00ef \U0001f426' and doc["fallback"] == "tab\there\x01\x7f"
    assert doc["avoid"] == ["a b", 'c"d', "\u00e9"] and doc["state"]["redis"]["sentinels"] == []
    assert doc["state"]["redis"]["key_file"] == "bad\ufffdbyte"  # the environment's undecodable byte
    assert doc["plugins"]["weighted"]["weights"] == {"weekly": 1e-3, "session": 1e300}
    assert 'avoid = ["a b", "c\\"d", "\\u00e9"]  # team o"p s\\nx' in proc.stdout.splitlines()


def test_a_bad_flag_value_names_setting_plugin_and_source(roost_env):
    """A flag that sets a setting is refused as a bad config.toml value is: setting, plugin, the flag."""
    for args, key, shown in [(("pick", "--stickiness", "nan"), "stickiness", "'nan'"),
                             (("which", "--max-cost", "2000"), "max_cost", "'2000'"),
                             (("exec", "--warn-at", "abc", "--", "true"), "warn_at", "'abc'")]:
        flag = args[1]
        proc = roost_env.run(*args)
        assert proc.returncode == 4 and "Traceback" not in proc.stderr, proc.stderr
        assert proc.stderr.startswith(f"roost: error: bad value for {key} (plugin core) from flag {flag}: {shown}")
        rc, out = roost_env.run_json(args[0], "--json", *args[1:])
        assert rc == 4 and out["error"]["details"] == {"key": key, "plugin": "core", "origin": "flag",
                                                       "source": flag}
    roost_env.make_profile("a")
    proc = roost_env.run("which", "--strategy", "nope")
    assert proc.returncode == 4 and proc.stderr.rstrip().endswith("(set by flag --strategy)"), proc.stderr


def test_plugin_settings_are_checked_like_the_cores(roost_env):
    """usage_log is a bool and the redis backend's settings have real types: a bad one is exit 4 naming
    the setting, its plugin and where it came from, in roost config and on the command that uses it."""
    cases = [("usage_log = \"maybe\"\n", (), {}, "usage_log (plugin usage-log) from file"),
             ("", (), {"CLAUDE_LB_USAGE_LOG": "maybe"}, "usage_log (plugin usage-log) from env CLAUDE_LB_USAGE_LOG"),
             ("[teams.t]\nusage_log = 3\n", ("--team", "t"), {}, "usage_log (plugin usage-log) from team t"),
             ("[state.redis]\nsentinels = 5\n", (), {}, "state.redis.sentinels (plugin redis) from file"),
             ("[teams.t.state.redis]\nmin_replicas = 2.5\n", ("--team", "t"), {},
              "state.redis.min_replicas (plugin redis) from team t (config.toml [teams.t.state.redis] min_replicas)"),
             ("", (), {"CLAUDE_LB_REDIS_WAIT_TIMEOUT": "2m"}, "state.redis.wait_timeout (plugin redis) from env"),
             ("[teams.t.state.redis]\nretries = 9\n", ("--team", "t"), {}, "state.redis.retries (plugin redis) from team t"),
             ("[state.redis]\nlock_ttl = \"0.5s\"\n", (), {}, "state.redis.lock_ttl (plugin redis) from file")]
    for text, team, env, said in cases:
        _write(roost_env, text + "[teams.t]\n" * ("[teams.t]" not in text))
        proc = roost_env.run(*team, "config", **env)
        assert proc.returncode == 4 and f"bad value for {said}" in proc.stderr, (text, env, proc.stderr)
    _write(roost_env, "[state.redis]\nurl = 5\nsentinel_password = [\"hunter2secret\"]\n")
    proc = roost_env.run("config")
    assert proc.returncode == 4 and "'****' (expected a string)" in proc.stderr and "hunter2" not in proc.stderr
    proc = roost_env.run("config", CLAUDE_LB_USAGE_LOG="0", CLAUDE_LB_REDIS_URL="redis://h:6379/0")
    assert proc.returncode == 4 and "sentinel_password (plugin redis)" in proc.stderr and "hunter2" not in proc.stderr


def test_team_after_the_command_name_too(roost_env):
    """roost config --team ops, like pick and which: the team's origins are shown."""
    _write(roost_env, CONFIG)
    proc = roost_env.run("config", "--team", "ops")
    assert proc.returncode == 0, proc.stderr
    assert 'strategy = "weighted"  # team ops' in proc.stdout.splitlines()
    rc, out = roost_env.run_json("config", "--team", "ops")
    assert rc == 0 and out["meta"]["team"] == "ops" and out["data"]["warn_at"]["origin"] == "team"
    proc = roost_env.run("config", "--team", "nope")
    assert proc.returncode == 4 and "unknown team 'nope' from flag --team (config.toml teams: ops)" in proc.stderr
    rc, out = roost_env.run_json("which", CLAUDE_LB_TEAM="nope")
    assert rc == 4 and out["error"]["details"] == {"team": "nope", "source": "env CLAUDE_LB_TEAM", "teams": ["ops"]}
