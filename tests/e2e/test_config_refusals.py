"""A config.toml value roost cannot use is VALIDATION (exit 4) naming the key, in the command that runs:
never silently ignored, never a warning after the fact (a lost picks.log line)."""

from __future__ import annotations

import pytest


def _config(world, text: str) -> None:
    world.config.mkdir(parents=True, exist_ok=True, mode=0o700)
    (world.config / "config.toml").write_text(text)


@pytest.mark.parametrize("value", ["5", "{a = 1}", "[5]", "[\"ok\", true]"])  # G15 config fuzz, through status
def test_a_bad_plugins_disable_stops_every_command_that_uses_plugins(world, value):
    world.make_profile("p")
    _config(world, f"[plugins]\ndisable = {value}\n")
    for args in (["status", "--json"], ["pick"], ["list"], ["config"], ["plugins"]):
        proc = world.run(*args)
        assert proc.returncode == 4, (args, proc.stdout, proc.stderr)
        assert "[plugins] disable" in proc.stdout + proc.stderr, args
    assert world.run("--help").returncode == 0  # the commands are still listed and helped
    assert world.run("status", "--help").returncode == 0
    proc = world.run("doctor", "--skip-network", "--json")  # doctor runs and says what is wrong
    assert proc.returncode == 9 and "[plugins] disable" in proc.stdout


@pytest.mark.parametrize("value", ["inf", '"abc"'])  # every hostile value, through pick: G15's config fuzz
def test_a_bad_picks_log_limit_is_refused_before_anything_runs(world, tmp_path, value):
    world.make_profile("p")
    _config(world, f"picks_log_max_bytes = {value}\n")
    for args in (["pick"], ["exec", "--", "touch", str(tmp_path / "ran")]):
        proc = world.run(*args)
        assert proc.returncode == 4 and "picks_log_max_bytes" in proc.stderr, (args, proc.stderr)
    assert not (tmp_path / "ran").exists()  # exec refused before the child
    assert not (world.config / "picks.log").exists()
    assert world.run("exec", "--dry-run", "--", "true").returncode == 0  # a dry run writes no log line


@pytest.mark.parametrize("text, argv, table", [
    ("[plugins]\nweighted = 3\n", ("pick", "--strategy", "weighted"), "plugins.weighted"),
    ("[state]\nredis = 'x'\n", ("config",), "state.redis"),
    ("[teams]\nops = 5\n", ("--team", "ops", "pick"), "teams.ops"),
])
def test_a_table_given_as_a_plain_value_is_refused_naming_it(world, text, argv, table):
    """It used to read as an empty table: every setting in it silently at its default."""
    world.make_profile("p")
    _config(world, text)
    proc = world.run(*argv)
    assert proc.returncode == 4 and f"[{table}] must be a table" in proc.stderr, proc.stderr
    proc = world.run("doctor", "--skip-network", "--json")
    assert proc.returncode == 9 and f"[{table}] must be a table" in proc.stdout


def test_a_config_that_is_not_utf8_names_the_line(world):
    world.make_profile("p")
    world.config.mkdir(parents=True, exist_ok=True, mode=0o700)
    (world.config / "config.toml").write_bytes(b'strategy = "sticky"\n\n\xff\xfe = 1\n')
    proc = world.run("pick")
    assert proc.returncode == 4 and "not UTF-8 text (byte 0xff at line 3)" in proc.stderr, proc.stderr
