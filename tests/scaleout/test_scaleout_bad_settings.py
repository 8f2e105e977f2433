"""A redis setting roost cannot use is VALIDATION (exit 4) with a one-line error, in text and in --json:
found before any connection, so no Redis server is needed."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("url,why", [("redis://h:notaport/0", "Port could not be cast"),
                                     ("redis://h:6379/zero", "the database must be a number")])
def test_a_bad_redis_url_is_a_validation_error(roost_env, url, why):
    key = roost_env.root / "fleet.key"
    assert roost_env.run("state", "keygen", str(key)).returncode == 0
    (roost_env.profiles / "a").mkdir(parents=True)
    env = {"CLAUDE_LB_STATE_BACKEND": "redis", "CLAUDE_LB_REDIS_URL": url, "CLAUDE_LB_REDIS_KEY_FILE": str(key)}
    if why.startswith("the database"):
        env["CLAUDE_LB_REDIS_SENTINELS"] = "127.0.0.1:9"  # the Sentinel path reads the db itself
    proc = roost_env.run("list", **env)
    assert proc.returncode == 4 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.startswith("roost: error: bad redis URL ") and why in proc.stderr
    rc, out = roost_env.run_json("list", **env)
    assert rc == 4 and out["error"]["code"] == "VALIDATION" and why in out["error"]["message"]


def test_opening_the_backend_checks_its_declared_settings_through_the_resolver(roost_env):
    """A team's bad [state.redis] value is named with its plugin and the team table it came from."""
    key = roost_env.root / "fleet.key"
    assert roost_env.run("state", "keygen", str(key)).returncode == 0
    (roost_env.profiles / "a").mkdir(parents=True)
    roost_env.config.mkdir(parents=True, exist_ok=True)
    (roost_env.config / "config.toml").write_text('[state]\nbackend = "redis"\n[state.redis]\nurl = "redis://h:1/0"\n'
                                                  '[teams.ops.state.redis]\nsentinels = ["h:1", "nohost"]\n')
    rc, out = roost_env.run_json("--team", "ops", "list", CLAUDE_LB_REDIS_KEY_FILE=str(key))
    assert rc == 4 and out["error"]["details"] == {"key": "state.redis.sentinels", "plugin": "redis",
                                                   "origin": "team", "source": "ops"}
    assert "(config.toml [teams.ops.state.redis] sentinels)" in out["error"]["message"]
