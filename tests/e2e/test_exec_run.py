"""roost exec through the real executable: environment, exit codes, dry run, audit, retry-on-429."""

from __future__ import annotations

import json
import os
import sys
import time

import pytest

from roost_plugins.fakeserver import Scenario

PY = sys.executable


def _account(world, name: str, usage: Scenario | None = None) -> None:
    world.make_account(name, usage=usage or Scenario.ok())


def _exec_lines(world) -> list[list[str]]:
    path = world.config / "picks.log"
    lines = path.read_text().splitlines() if path.exists() else []
    return [line.split("\t") for line in lines if line.split("\t")[1:2] == ["exec"]]


@pytest.fixture
def one(world):
    _account(world, "solo")
    return world


def test_child_sees_the_profile_and_its_dir_but_no_token(one):
    script = ("import os, json; print(json.dumps({'env': dict(os.environ), "
              "'cmdline': open('/proc/self/cmdline').read()}))")
    proc = one.run("exec", "--", PY, "-c", script)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    assert seen["env"]["AXIOM_CLAUDE_PROFILE"] == "solo"
    assert seen["env"]["CLAUDE_CONFIG_DIR"] == str(one.profiles / "solo")
    blob = json.dumps(seen)
    oauth = one.credentials("solo")["claudeAiOauth"]
    for token in (oauth["accessToken"], oauth["refreshToken"]):
        assert all(token[i:i + 8] not in blob for i in range(len(token) - 8))


def test_var_name_and_no_config_dir(one):
    script = "import os; print(os.environ.get('WHO'), os.environ.get('CLAUDE_CONFIG_DIR'))"
    proc = one.run("exec", "--var-name", "WHO", "--no-config-dir", "--", PY, "-c", script,
                   CLAUDE_CONFIG_DIR="/somewhere/else")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["solo", "/somewhere/else"]
    assert one.run("exec", "--var-name", "1BAD", "--", "true").returncode == 4


def test_var_name_drops_an_inherited_profile_variable(one):
    """A caller's AXIOM_CLAUDE_PROFILE (an earlier `eval "$(roost pick --export)"`, a nested exec)
    would name another account to the child, and passive health trusts it before CLAUDE_CONFIG_DIR."""
    script = "import os; print(os.environ.get('AXIOM_CLAUDE_PROFILE'), os.environ.get('WHO'))"
    proc = one.run("exec", "--var-name", "WHO", "--", PY, "-c", script, AXIOM_CLAUDE_PROFILE="stale")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["None", "solo"]
    proc = one.run("exec", "--dry-run", "--json", "--var-name", "WHO", "--no-config-dir", "--", "claude",
                   AXIOM_CLAUDE_PROFILE="stale")
    out = json.loads(proc.stdout)["data"]
    assert out["unset"] == ["AXIOM_CLAUDE_PROFILE"] and out["command"] == "env -u AXIOM_CLAUDE_PROFILE WHO=solo claude"


def test_exit_code_passes_through_and_is_audited(one):
    proc = one.run("exec", "--", "sh", "-c", "exit 3")
    assert proc.returncode == 3 and proc.stdout == ""
    (line,) = _exec_lines(one)
    ts, event, profile, strategy, rc, duration, argv0, pid, note = line
    assert (event, profile, rc, argv0) == ("exec", "solo", "3", "sh")
    assert strategy and float(duration) >= 0 and int(pid) > 0


def test_full_argv_only_on_request(one):
    one.run("exec", "--", "sh", "-c", "exit 0")
    one.run("exec", "--log-full-argv", "--", "sh", "-c", "exit 0")
    argvs = [line[6] for line in _exec_lines(one)]
    assert argvs == ["sh", "sh -c 'exit 0'"]


def test_stdin_is_inherited(one):
    proc = one.run("exec", "--", "cat", input="hello through roost\n")
    assert proc.returncode == 0 and proc.stdout == "hello through roost\n"


def test_timeout_kills_the_whole_tree_with_124(one, tmp_path):
    marker = tmp_path / "survived"
    started = time.monotonic()
    proc = one.run("exec", "--timeout", "0.5", "--", "sh", "-c", f"(sleep 1; touch {marker}) & wait")
    assert proc.returncode == 124 and time.monotonic() - started < 4
    time.sleep(1.2)
    assert not marker.exists()  # the grandchild died with its group
    assert _exec_lines(one)[-1][8] == "timeout"


def test_command_not_found_is_127_and_not_executable_is_126(one, tmp_path):
    proc = one.run("exec", "--", "no-such-command-anywhere")
    assert proc.returncode == 127 and "command not found" in proc.stderr and "Traceback" not in proc.stderr
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    proc = one.run("exec", "--", str(script))
    assert proc.returncode == 126 and "Permission denied" in proc.stderr
    assert one.run("exec", "--", str(tmp_path)).returncode == 126
    assert one.run("exec", "--", str(tmp_path / "missing")).returncode == 127
    assert [line[4] for line in _exec_lines(one)] == ["127", "126", "126", "127"]
    assert one.fake.count("GET", "/api/oauth/usage") == 0  # failed before contacting anything


def test_usage_errors(one):
    assert one.run("exec").returncode == 4
    assert one.run("exec", "--bogus", "--", "true").returncode == 4
    assert one.run("exec", "--count", "2", "--", "true").returncode == 4


def test_dry_run_prints_and_touches_nothing(one):
    proc = one.run("exec", "--dry-run", "--", "claude", "--help", "it's")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (f"AXIOM_CLAUDE_PROFILE=solo CLAUDE_CONFIG_DIR={one.profiles / 'solo'} "
                           f"CLAUDE_SECURESTORAGE_CONFIG_DIR={one.profiles / 'solo'} "
                           "claude --help 'it'\"'\"'s'\n")
    assert not one.config.exists() or list(one.config.rglob("*.json")) == []
    assert not (one.config / "picks.log").exists()
    assert one.fake.requests == []
    proc = one.run("exec", "--dry-run", "--json", "--var-name", "P", "--no-config-dir", "--", "claude", "--json")
    rc, out = proc.returncode, json.loads(proc.stdout)
    assert rc == 0 and out["data"]["argv"] == ["claude", "--json"]
    proc = one.run("exec", "--dry-run", "--json", "--var-name", "P", "--no-config-dir", "--", "claude")
    rc, out = proc.returncode, json.loads(proc.stdout)
    assert rc == 0 and out["data"]["env"] == {"P": "solo"} and out["data"]["argv"] == ["claude"]
    assert out["data"]["command"] == "P=solo claude" and out["meta"]["dry_run"] is True


def test_pick_failure_is_the_pick_exit_code(world):
    proc = world.run("exec", "--", "true")
    assert proc.returncode == 9 and "Traceback" not in proc.stderr  # no profiles at all
    assert [(line[2], line[4], line[6], line[8]) for line in _exec_lines(world)] == [("", "9", "true", "UNAVAILABLE")]


def test_a_fallback_run_is_noted_as_pick_notes_it(world):
    _account(world, "a", Scenario.unauthorized())
    _account(world, "b", Scenario.unauthorized())
    proc = world.run("exec", "--fallback", "b", "--", "true")
    assert proc.returncode == 0 and "fallback" in proc.stderr, proc.stderr
    ((_, event, profile, *_, note),) = _exec_lines(world)
    assert (event, profile, note) == ("exec", "b", "fallback")


def test_a_failed_pick_is_audited_as_one_exec_line(world):
    _account(world, "a", Scenario.unauthorized())
    _account(world, "b", Scenario.invalid_credentials())
    proc = world.run("exec", "--", "true")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    lines = [line.split("\t") for line in (world.config / "picks.log").read_text().splitlines()]
    assert len(lines) == 1  # one exec line, no pick line
    ts, event, profile, strategy, rc, duration, argv0, pid, note = lines[0]
    assert (event, profile, rc, argv0, note) == ("exec", "", "2", "true", "AUTH_REQUIRED")
    assert ts.startswith("20") and strategy and float(duration) >= 0 and int(pid) > 0
    assert world.run("exec", "--dry-run", "--", "true").returncode == 2  # a dry run still writes nothing
    assert len(_exec_lines(world)) == 1
    rc, out = world.run_json("history")
    assert rc == 0, out
    (event,) = [e for e in out["data"] if e["event"] == "exec"]
    assert event["rc"] == 2 and event["profile"] in ("", None)
    rc, out = world.run_json("stats")
    assert rc == 0 and out["data"]["exec"]["total"] == 1 and out["data"]["exec"]["failures"] == 1
    assert out["data"]["exec"]["by_rc"] == {"2": 1} and out["data"]["exec"]["by_profile"] == {}
    assert [row["profile"] for row in out["data"]["profiles"]] == [None]
    for argv in (["history"], ["stats"]):
        proc = world.run(*argv)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr


def test_retry_on_429_switches_profiles(world):
    _account(world, "a")
    _account(world, "b")
    assert world.run("pick", "--strategy", "first-healthy").stdout.strip() == "a"  # caches both as ok
    world.fake.set_chain_usage("a", Scenario.session_exhausted())
    script = 'test "$AXIOM_CLAUDE_PROFILE" = b'
    proc = world.run("exec", "--strategy", "first-healthy", "--retry-on-429", "1", "--", "sh", "-c", script)
    assert proc.returncode == 0, proc.stderr
    assert "retrying with b" in proc.stderr
    assert [(line[2], line[4], line[8]) for line in _exec_lines(world)] == [("a", "1", ""), ("b", "0", "retry=1/1")]


def test_no_retry_when_the_profile_is_healthy(world):
    _account(world, "a")
    _account(world, "b")
    proc = world.run("exec", "--strategy", "first-healthy", "--retry-on-429", "2", "--", "sh", "-c", "exit 5")
    assert proc.returncode == 5
    assert [line[2] for line in _exec_lines(world)] == ["a"]


def test_retry_gives_up_when_no_other_profile_is_left(world):
    _account(world, "a")
    assert world.run("pick").returncode == 0
    world.fake.set_chain_usage("a", Scenario.session_exhausted())
    proc = world.run("exec", "--retry-on-429", "3", "--", "sh", "-c", "exit 7")
    assert proc.returncode == 7 and "not retrying" in proc.stderr
    assert len(_exec_lines(world)) == 1


def test_auto_refresh_then_exec(world):
    world.make_profile("a", expires_in=-60)
    oauth = world.credentials("a")["claudeAiOauth"]
    world.fake.add_account("a", access_token=oauth["accessToken"], refresh_token=oauth["refreshToken"])
    proc = world.run("exec", "--auto-refresh", "--", "sh", "-c", 'echo "$AXIOM_CLAUDE_PROFILE"')
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "a\n" and world.fake.token_posts == 1
    assert world.credentials("a")["claudeAiOauth"]["refreshToken"] == world.fake.live_refresh_token("a")
    assert os.listdir(world.profiles) == ["a"]
