"""roost_register_settings: a third-party plugin's declared setting is a first-class setting.

It is listed by ``roost config`` (TOML and JSON) with its plugin and origin, resolved with the
same precedence as the core's (env > [teams.NAME] > file > default), handed to the plugin's
strategy, and a bad value is VALIDATION naming the setting, the plugin and the source.
"""

import tomllib

SOURCE = '''
from roost_core.api import Ranking, Scored, Setting, hookimpl

class FarSighted:
    name = "far-sighted"
    summary = "Name order; reports its horizon (contract test)."

    def rank(self, candidates, request):
        horizon = request.options["horizon"]
        return Ranking([Scored(c, float(c.index)) for c in candidates], f"far-sighted: horizon {horizon:g}s")

@hookimpl
def roost_register_strategies():
    return FarSighted()

@hookimpl
def roost_register_settings():
    return [Setting(3600.0, name="horizon", type="duration", section="plugins.far-sighted",
                    env="CLAUDE_LB_FAR_HORIZON", doc="How far ahead far-sighted looks.")]
'''

ENTRY_POINTS = {"strategy.far-sighted": "contract_settings", "settings.far-sighted": "contract_settings"}
CONFIG = ('[plugins.far-sighted]\nhorizon = "2h"\n'
          '[teams.ops]\nstrategy = "far-sighted"\n[teams.ops.far-sighted]\nhorizon = "30m"\n'
          '[teams.bad.far-sighted]\nhorizon = "soon"\n')
KEY = "plugins.far-sighted.horizon"


def test_third_party_setting(roost_sandbox, roost_run, third_party):
    third_party("roost-strategy-far-sighted", {"contract_settings": SOURCE}, ENTRY_POINTS)
    roost_sandbox.make_profile("a")

    listed = roost_run("config")  # the declared default, owned by the plugin
    assert listed.returncode == 0, listed.stderr
    assert tomllib.loads(listed.stdout)["plugins"]["far-sighted"]["horizon"] == 3600.0
    assert "horizon = 3600.0  # default (plugin far-sighted)" in listed.stdout

    roost_sandbox.write_config(CONFIG)
    entry = roost_run("config", "--json").json["data"][KEY]
    assert entry == {"value": 7200.0, "origin": "file", "source": None, "plugin": "far-sighted"}
    team = roost_run("--team", "ops", "config", "--json").json["data"]
    assert team[KEY]["value"] == 1800.0 and team[KEY]["origin"] == "team" and team[KEY]["source"] == "ops"
    assert team["strategy"] == {"value": "far-sighted", "origin": "team", "source": "ops", "plugin": "core"}
    env = roost_run("--team", "ops", "config", CLAUDE_LB_FAR_HORIZON="90")
    assert tomllib.loads(env.stdout)["plugins"]["far-sighted"]["horizon"] == 90.0
    assert "# env CLAUDE_LB_FAR_HORIZON (plugin far-sighted)" in env.stdout

    picked = roost_run("--team", "ops", "pick", "--json")  # the strategy receives the resolved value
    assert picked.returncode == 0, picked.stderr
    assert picked.json["data"]["rationale"] == "far-sighted: horizon 1800s"
    assert roost_run("pick", "--strategy", "far-sighted", "--json",
                     CLAUDE_LB_FAR_HORIZON="5m").json["data"]["rationale"] == "far-sighted: horizon 300s"

    for args, env, source in ((["--team", "bad"], {}, "team bad"), ([], {"CLAUDE_LB_FAR_HORIZON": "nan"},
                                                                     "env CLAUDE_LB_FAR_HORIZON")):
        bad = roost_run(*args, "config", **env)
        assert bad.returncode == 4, bad.stderr
        assert f"bad value for {KEY} (plugin far-sighted) from {source}" in bad.stderr
        err = roost_run(*args, "pick", "--strategy", "far-sighted", "--json", **env).json["error"]
        assert err["code"] == "VALIDATION" and err["details"]["plugin"] == "far-sighted"
