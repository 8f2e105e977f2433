"""Bad input at the edges of the documented CLI: one line, the documented exit code, no traceback.

Each case is something a user can type that click's own checks let through
(an empty path is '.'), driven through the real roost with and without --json.
"""

from __future__ import annotations

import json

import pytest

from roostkit import ROOST


def _one_line_error(proc, code: int) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def _json_error(proc, code: int, name: str) -> dict:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    error = json.loads(proc.stdout)["error"]
    assert error["code"] == name
    return error


@pytest.mark.parametrize("json_mode", [False, True])
def test_add_from_an_empty_path_is_validation(roost_env, json_mode):
    proc = roost_env.run("add", "work", "--from", "", *(["--json"] if json_mode else []))
    if json_mode:
        _json_error(proc, 4, "VALIDATION")
    else:
        _one_line_error(proc, 4)
    assert not (roost_env.profiles / "work").exists()


@pytest.mark.parametrize("json_mode", [False, True])
def test_snapshot_to_an_empty_path_is_validation(roost_env, json_mode):
    roost_env.make_profile("work")
    proc = roost_env.run("snapshot", "work", "", *(["--json"] if json_mode else []))
    if json_mode:
        _json_error(proc, 4, "VALIDATION")
    else:
        _one_line_error(proc, 4)



def test_claude_config_dir_naming_a_tree_profile_is_not_a_second_default(roost_env, tmp_path):
    """exec sets CLAUDE_CONFIG_DIR=<tree>/<name> for its child: a roost run there sees the same profiles."""
    roost_env.make_profile("alpha")
    roost_env.make_profile("beta")
    for spelled in (str(roost_env.profiles / "alpha"), str(roost_env.profiles / "alpha") + "/"):
        rc, listed = roost_env.run_json("list", CLAUDE_CONFIG_DIR=spelled)
        assert (rc, listed["data"]) == (0, ["alpha", "beta"])
    outside = tmp_path / "single"
    outside.mkdir()
    (outside / ".credentials.json").write_text((roost_env.profiles / "alpha" / ".credentials.json").read_text())
    rc, listed = roost_env.run_json("list", CLAUDE_CONFIG_DIR=str(outside))
    assert (rc, listed["data"]) == (0, ["alpha", "beta", "default"])
    nested = roost_env.run("exec", "--no-lease", "--strategy", "first-healthy", "--", ROOST, "list")
    assert nested.returncode == 0, nested.stderr
    assert nested.stdout.split() == ["alpha", "beta"]


def _run_with_closed(fd: int, roost_env, *args: str):
    import os
    import subprocess

    def close() -> None:
        os.close(fd)

    keep = {1: {"stderr": subprocess.PIPE}, 2: {"stdout": subprocess.PIPE}, 0: {"stdout": subprocess.PIPE,
                                                                               "stderr": subprocess.PIPE}}[fd]
    return subprocess.run([ROOST, *args], env=roost_env.env(), preexec_fn=close, text=True, timeout=60, **keep)


def test_a_closed_stderr_keeps_the_exit_code(roost_env):
    """`roost pick 2>&-` in a script: the error is lost, its exit code is not (no AttributeError, exit 1)."""
    roost_env.make_profile("alpha")
    assert _run_with_closed(2, roost_env, "pick", "--strategy", "bogus").returncode == 4
    assert _run_with_closed(2, roost_env, "show", "nosuch").returncode == 3
    proc = _run_with_closed(2, roost_env, "list")
    assert (proc.returncode, proc.stdout) == (0, "alpha\n")


@pytest.mark.parametrize("args", [("list",), ("list", "--json"), ("show", "nosuch", "--json")])
def test_a_closed_stdout_is_no_crash(roost_env, args):
    roost_env.make_profile("alpha")
    proc = _run_with_closed(1, roost_env, *args)
    assert proc.returncode == (3 if "nosuch" in args else 0), proc.stderr
    assert proc.stderr == ""


def test_a_closed_stdin_is_no_crash(roost_env):
    roost_env.make_profile("alpha")
    proc = _run_with_closed(0, roost_env, "list")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "alpha\n", "")


def test_a_corrupt_state_file_is_one_warning(roost_env):
    """health.json and leases.json are read more than once in a run; the warning is said once."""
    import time

    roost_env.make_profile("alpha")
    roost_env.make_profile("beta")
    roost_env.config.mkdir(parents=True)
    (roost_env.config / "health.json").write_text("{torn")
    proc = roost_env.run("pick")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("health.json is corrupt") == 1, proc.stderr
    stale = {"id": "x1", "profile": "alpha", "pid": 1, "expires_at": time.time() - 5}
    (roost_env.config / "leases.json").write_text(json.dumps({"leases": {"x1": stale}}))
    proc = roost_env.run("refresh", "--all")
    assert proc.stderr.count("dropped 1 malformed lease entry") == 1, proc.stderr


@pytest.mark.parametrize("force", [False, True])
def test_add_over_a_plain_file_is_conflict_and_keeps_it(roost_env, force):
    """<tree>/NAME is a user's file, not a profile: CONFLICT (as rename says), never exit 1, file untouched."""
    source = roost_env.make_profile("src")
    roost_env.profiles.joinpath("notes").write_text("mine\n")
    proc = roost_env.run("add", "notes", "--from", str(source), *(["--force"] if force else []))
    _one_line_error(proc, 7)
    assert roost_env.profiles.joinpath("notes").read_text() == "mine\n"
    rc, out = roost_env.run_json("add", "notes", "--from", str(source))
    assert (rc, out["error"]["code"]) == (7, "CONFLICT")


def test_stdout_that_cannot_encode_a_character_is_no_crash(roost_env):
    """PYTHONIOENCODING=ascii (or a legacy locale): JSON falls back to \\u escapes, text to backslash escapes."""
    roost_env.make_profile("alpha")
    proc = roost_env.run("exec", "--dry-run", "--json", "--", "echo", "caf\u00e9 \u2026", PYTHONIOENCODING="ascii")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["data"]["argv"] == ["echo", "caf\u00e9 \u2026"]
    proc = roost_env.run("exec", "--dry-run", "--", "echo", "\u2026", PYTHONIOENCODING="ascii")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("AXIOM_CLAUDE_PROFILE=alpha ") and "\\u2026" in proc.stdout


def test_concurrent_adds_of_one_new_name_keep_one_login(roost_env, tmp_path):
    """Without --force an existing profile is CONFLICT, also when the other add won a race (re-checked under
    the profile's lock): seven of eight logins were overwritten silently."""
    from concurrent.futures import ThreadPoolExecutor

    sources = []
    for i in range(8):
        source = tmp_path / f"login{i}" / ".credentials.json"
        source.parent.mkdir()
        source.write_text(json.dumps({"claudeAiOauth": {"accessToken": f"sk-ant-oat01-{i}" + "x" * 32,
                                                        "refreshToken": f"sk-ant-ort01-{i}" + "x" * 32,
                                                        "expiresAt": 9_999_999_999_999}}))
        sources.append(source)
    with ThreadPoolExecutor(8) as pool:
        runs = list(pool.map(lambda s: roost_env.run("add", "race", "--from", str(s)), sources))
    codes = sorted(r.returncode for r in runs)
    assert codes == [0] + [7] * 7, [(r.returncode, r.stderr) for r in runs]
    winner = sources[[r.returncode for r in runs].index(0)]
    assert (roost_env.profiles / "race" / ".credentials.json").read_bytes() == winner.read_bytes()


def test_concurrent_renames_to_one_name_are_conflict_not_exit_1(roost_env):
    """Six renames to one new name: one wins, the rest are CONFLICT (they were exit 1, ENOTEMPTY)."""
    from concurrent.futures import ThreadPoolExecutor

    names = [f"p{i}" for i in range(6)]
    logins = {name: roost_env.make_profile(name).read_bytes() for name in names}
    with ThreadPoolExecutor(6) as pool:
        runs = dict(zip(names, pool.map(lambda n: roost_env.run("rename", n, "target"), names)))
    assert sorted(r.returncode for r in runs.values()) == [0] + [7] * 5, \
        [(r.returncode, r.stderr) for r in runs.values()]
    winner = next(name for name, run in runs.items() if run.returncode == 0)
    assert (roost_env.profiles / "target" / ".credentials.json").read_bytes() == logins[winner]
    for name in names:
        if name != winner:
            assert (roost_env.profiles / name / ".credentials.json").read_bytes() == logins[name]


def test_a_profile_taken_meanwhile_is_not_found_not_exit_1(world):
    """remove/rename/refresh/add --force racing a remove of the same profile: exit 0, 3 or 7, never 1."""
    from concurrent.futures import ThreadPoolExecutor

    for name in ("a", "b"):
        path = world.make_profile(name)
        login = json.loads(path.read_text())["claudeAiOauth"]
        world.fake.add_account(name, access_token=login["accessToken"], refresh_token=login["refreshToken"])
    commands = [["remove", "a"]] * 3 + [["rename", "a", "z"]] * 2 + [["refresh", "a"]] * 2 + [
        ["add", "a", "--force", "--from", str(world.profiles / "b" / ".credentials.json")]]
    with ThreadPoolExecutor(len(commands)) as pool:
        runs = list(pool.map(lambda args: world.run(*args), commands))
    for args, run in zip(commands, runs):
        assert run.returncode in (0, 3, 7) and "Traceback" not in run.stderr, (args, run.returncode, run.stderr)


@pytest.mark.parametrize("url", ["http://[::1", "https://example.com:99999", "https://example.com:port"])
def test_an_unparsable_endpoint_is_validation(roost_env, url):
    """An unclosed IPv6 bracket or a bad port in an endpoint variable: VALIDATION naming it, not ValueError."""
    roost_env.make_profile("alpha")
    rc, out = roost_env.run_json("probe", "alpha", CLAUDE_LB_API_BASE=url)
    assert (rc, out["error"]["code"]) == (4, "VALIDATION") and "CLAUDE_LB_API_BASE" in out["error"]["message"]
    rc, out = roost_env.run_json("refresh", "alpha", CLAUDE_LB_TOKEN_URL=url)
    assert (rc, out["error"]["code"]) == (4, "VALIDATION")


@pytest.mark.parametrize("agent", ["claude-code/1\nX-Injected: 1", "caf\u00e9/1", "a\rb"])
def test_a_user_agent_that_is_no_header_value_is_validation(roost_env, agent):
    """A control or non-ASCII character in a User-Agent: VALIDATION naming the setting, before any request
    (it was a network_error 'protocol' for every profile, or exit 1 UnicodeEncodeError on refresh)."""
    roost_env.make_profile("alpha")
    rc, out = roost_env.run_json("probe", "alpha", CLAUDE_LB_USER_AGENT=agent)
    assert (rc, out["error"]["code"]) == (4, "VALIDATION") and "CLAUDE_LB_USER_AGENT" in out["error"]["message"]
    rc, out = roost_env.run_json("refresh", "alpha", CLAUDE_LB_TOKEN_USER_AGENT=agent)
    assert (rc, out["error"]["code"]) == (4, "VALIDATION")


@pytest.mark.parametrize("command, rc, code", [("/nonexistent/tool", 127, "NOT_FOUND"),
                                               ("no-such-command-roost-test", 127, "NOT_FOUND"),
                                               ("/", 126, "VALIDATION")])
def test_exec_json_a_command_that_cannot_start_is_an_error_envelope(roost_env, command, rc, code):
    """--json: an error before the command starts is the envelope on stdout (stdout was empty); exit 127/126."""
    roost_env.make_profile("alpha")
    proc = roost_env.run("exec", "--json", "--no-lease", "--", command)
    assert proc.returncode == rc, proc.stderr
    error = json.loads(proc.stdout)["error"]
    assert (error["code"], error["details"]) == (code, {"command": command, "rc": rc})
    text = roost_env.run("exec", "--no-lease", "--", command)
    assert (text.returncode, text.stdout) == (rc, "") and text.stderr.startswith("roost: exec: ")


def test_a_mistyped_field_in_health_json_is_a_damaged_entry(world):
    """health.json that parses but holds a string or an object where a number belongs: probed again,
    never a crash (pick was exit 1 'strategy failed: TypeError', show exit 1)."""
    for name in ("a", "b"):
        path = world.make_profile(name)
        login = json.loads(path.read_text())["claudeAiOauth"]
        world.fake.add_account(name, access_token=login["accessToken"], refresh_token=login["refreshToken"])
    assert world.run("status").returncode == 0
    cache = world.config / "health.json"
    doc = json.loads(cache.read_text())
    doc["profiles"]["a"]["record"].update(weekly_pct="2026-13-45T99:00:00Z", sonnet_pct={}, checked_at=5)
    cache.write_text(json.dumps(doc))
    for args in (("pick", "--strategy", "least-used"), ("show", "a"), ("status",)):
        proc = world.run(*args)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, (args, proc.stderr)
    rc, shown = world.run_json("show", "a")
    assert rc == 0 and shown["data"]["weekly_pct"] == 20.0


def test_mistyped_platform_status_and_stats_index_are_rebuilt_not_a_crash(world):
    """Two more state files that parse but are damaged: status and stats ignore them (were exit 1)."""
    path = world.make_profile("a")
    login = json.loads(path.read_text())["claudeAiOauth"]
    world.fake.add_account("a", access_token=login["accessToken"], refresh_token=login["refreshToken"])
    world.fake.set_status("minor", "Degraded", incidents=[{"name": "x", "status": "monitoring", "impact": "minor"}])
    assert world.run("status").returncode == 0
    assert world.run("pick").returncode == 0 and world.run("stats").returncode == 0
    cache = world.config / "platform-status.json"
    doc = json.loads(cache.read_text())
    doc["status"]["degraded_components"] = True
    cache.write_text(json.dumps(doc))
    proc = world.run("status")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    index = world.config / "picks.log.index.json"
    doc = json.loads(index.read_text())
    tally = next(iter(doc["generations"][0]["profiles"].values()))
    tally["by_event"]["pick"] = []
    index.write_text(json.dumps(doc))
    rc, stats = world.run_json("stats")
    assert rc == 0 and stats["data"]["pick"]["total"] == 1


def test_a_damaged_backoff_or_reasons_in_health_json_is_no_crash(world):
    """Entry-level fields of health.json that parse but are damaged: pick/probe (backoff) and show (reasons)."""
    from roost_plugins.fakeserver import Scenario

    path = world.make_profile("a")
    login = json.loads(path.read_text())["claudeAiOauth"]
    world.fake.add_account("a", access_token=login["accessToken"], refresh_token=login["refreshToken"],
                           usage=Scenario.drop())
    assert world.run("status").returncode == 0  # a network_error entry, backoff 1
    cache = world.config / "health.json"
    doc = json.loads(cache.read_text())
    doc["profiles"]["a"].update(backoff="abc", reasons=[None, True, "kept"], valid_until=0)
    cache.write_text(json.dumps(doc))
    for args in (("pick",), ("probe", "a"), ("show", "a")):
        proc = world.run(*args)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, (args, proc.stderr)


@pytest.mark.parametrize("argv", [("exec", "--bogus", "--", "true"), ("exec", "--", "-x")])
def test_exec_with_a_dash_word_where_the_command_goes_says_where_each_belongs(roost_env, argv):
    roost_env.make_profile("a")
    proc = roost_env.run(*argv)
    _one_line_error(proc, 4)
    assert "flags go before --, the command after it" in proc.stderr
