"""reset-aware through the real roost, with roost's test kit (fixtures from the ``pytest11`` plugin).

Run from this directory with ``pytest``: the kit finds ../pyproject.toml and
installs this package for the roost it runs, without pip.
"""

# a: the last 2 % of weekly reopens in 30 min; b: 30 % left all week. least-used says b, reset-aware says a.
FLEET = {"a": {"session": 30, "session_resets_at": 7200, "weekly": 98, "weekly_resets_at": 1800},
         "b": {"session": 0, "weekly": 70, "weekly_resets_at": 6 * 86400}}


def test_reset_aware_prefers_the_window_that_reopens_soon(roost_sandbox, roost_run, roost_fake):
    for name, usage in FLEET.items():
        roost_sandbox.make_profile(name, usage=usage)
    result = roost_run("pick", "--strategy", "reset-aware", "--explain", "--json")
    assert result.returncode == 0, result.stderr
    data = result.json["data"]
    assert (data["name"], data["strategy"]) == ("a", "reset-aware")
    assert [(row["profile"], row["score"]) for row in data["explain"]] == [("a", 88.0), ("b", 30.0)]
    assert roost_run("which", "--strategy", "least-used", "--stickiness", "0").stdout == "b\n"
    assert roost_fake.count("GET", "/api/oauth/usage") == 2  # one probe per profile, the second pick is cached


def test_listed_in_help_and_completion(roost_run):
    assert "reset-aware" in roost_run("pick", "--help").stdout
    completion = roost_run(_ROOST_COMPLETE="bash_complete", COMP_WORDS="roost pick --strategy ", COMP_CWORD="3")
    assert "plain,reset-aware" in completion.stdout.splitlines()


def test_a_bad_horizon_is_a_validation_error(roost_sandbox, roost_run):
    roost_sandbox.make_profile("a")
    roost_sandbox.write_config('[plugins.reset-aware]\nhorizon = "never"\n')
    result = roost_run("which", "--strategy", "reset-aware")
    assert result.returncode == 4 and "horizon" in result.stderr


def test_the_horizon_is_a_setting_a_team_overrides(roost_sandbox, roost_run):
    roost_sandbox.write_config('[plugins.reset-aware]\nhorizon = "5h"\n[teams.ops.reset-aware]\nhorizon = "30m"\n')
    key = "plugins.reset-aware.horizon"
    assert roost_run("config", "--json").json["data"][key]["value"] == 18000.0
    team = roost_run("--team", "ops", "config", "--json").json["data"][key]
    assert (team["value"], team["origin"], team["plugin"]) == (1800.0, "team", "reset-aware")
    env = roost_run("--team", "ops", "config", "--json", CLAUDE_LB_RESET_AWARE_HORIZON="2h").json["data"][key]
    assert (env["value"], env["origin"]) == (7200.0, "env")
