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
