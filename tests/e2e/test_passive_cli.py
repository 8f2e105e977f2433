"""Passive health through the real ``roost``: statusline, hook, exec stream-json, claude-setup, import guard."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from roost_plugins.fakeserver import Scenario
from roost_plugins.fakeserver.passive_docs import (rate_limit_event, statusline_document, stop_failure_event,
                                                   stream_json)

USAGE = "/api/oauth/usage"


def account(world, name: str) -> None:
    world.make_account(name, usage=Scenario.ok())


def by_name(envelope: dict) -> dict:
    return {r["name"]: r for r in envelope["data"]}


@pytest.fixture
def two(world):
    account(world, "work")
    account(world, "home")
    return world


def write_config(world, text: str) -> None:
    world.config.mkdir(parents=True, exist_ok=True)
    (world.config / "config.toml").write_text(text)


def status(world) -> dict:
    rc, out = world.run_json("status", "--no-platform-status")
    assert rc == 0, out
    return by_name(out)


def test_statusline_records_for_the_profile_and_prints_one_line(two):
    proc = two.run("statusline", input=json.dumps(statusline_document(37.5, 62.0)), AXIOM_CLAUDE_PROFILE="work")
    assert proc.returncode == 0 and proc.stdout == "work · 5h 37% · 7d 62%\n" and proc.stderr == ""
    row = status(two)["work"]
    assert row["source"] == "statusline" and row["health"] == "ok"
    assert row["session_pct"] == 37.5 and row["weekly_pct"] == 62.0 and row["observed_at"].endswith("Z")
    assert two.fake.count("GET", USAGE) == 1  # only "home" was probed: the reading stood in for "work"
    assert status(two)["home"]["source"] == "cache"


def test_statusline_finds_the_profile_by_its_config_dir(two):
    proc = two.run("statusline", input=json.dumps(statusline_document(100.0, 40.0)),
                   CLAUDE_CONFIG_DIR=str(two.profiles / "home"))
    assert proc.returncode == 0 and proc.stdout.startswith("home · 5h 100% · 7d 40%")
    row = status(two)["home"]
    assert row["health"] == "session_limit" and row["source"] == "statusline"


@pytest.mark.parametrize("spelling", ["trailing-slash", "symlink", "relative"])
def test_statusline_finds_the_profile_however_its_dir_is_spelled(two, spelling):
    directory = two.profiles / "home"
    if spelling == "symlink":
        (two.root / "alias").symlink_to(directory)
    value = {"trailing-slash": f"{directory}/", "symlink": str(two.root / "alias"),
             "relative": os.path.relpath(directory, two.root)}[spelling]
    proc = subprocess.run([str(Path(sys.executable).parent / "roost"), "statusline"], cwd=two.root,
                          input=json.dumps(statusline_document(12.0, 34.0)), capture_output=True, text=True,
                          env=two.env(CLAUDE_CONFIG_DIR=value), timeout=60)
    assert (proc.returncode, proc.stdout) == (0, "home · 5h 12% · 7d 34%\n")
    assert status(two)["home"]["source"] == "statusline"


def test_statusline_outside_a_profile_records_nothing_and_never_fails(two):
    proc = two.run("statusline", input=json.dumps(statusline_document()), CLAUDE_CONFIG_DIR=str(two.home / ".claude"))
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    assert not (two.config / "passive.json").exists()
    bad = two.run("statusline", input="{not json", AXIOM_CLAUDE_PROFILE="work")
    assert (bad.returncode, bad.stdout, bad.stderr) == (0, "", "")
    assert "not a JSON document" in (two.config / "debug.log").read_text()


@pytest.mark.parametrize("stdin", ["", "{not json", "[1, 2]", json.dumps(statusline_document(first_turn_done=False)),
                                   json.dumps({"rate_limits": {"five_hour": {"used_percentage": "high"}}})])
@pytest.mark.parametrize("full_path", [False, True])
def test_statusline_prints_nothing_of_its_own_without_a_reading(two, stdin, full_path):
    """Garbage, empty stdin, no (usable) rate_limits: no roost part, exit 0, a note; --then still runs."""
    extra = {"CLAUDE_LB_STATE_BACKEND": "files"} if not full_path else {}
    if full_path:  # config.toml naming the backend sends the call through the plugin host
        two.config.mkdir(parents=True, exist_ok=True)
        (two.config / "config.toml").write_text('[state]\nbackend = "files"\n')
    proc = two.run("statusline", input=stdin, AXIOM_CLAUDE_PROFILE="work", **extra)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    theirs = two.run("statusline", "--then", "printf mine", input=stdin, AXIOM_CLAUDE_PROFILE="work", **extra)
    assert (theirs.returncode, theirs.stdout) == (0, "mine\n")
    assert "nothing recorded" in (two.config / "debug.log").read_text()
    assert not (two.config / "passive.json").exists()


@pytest.mark.parametrize("kind", ["statusline", "hook"])
def test_run_by_hand_on_a_terminal_they_do_not_wait_for_stdin(two, kind):
    import pty

    primary, secondary = pty.openpty()
    try:
        proc = subprocess.run([str(Path(sys.executable).parent / "roost"), kind], stdin=secondary,
                              capture_output=True, text=True, env=two.env(AXIOM_CLAUDE_PROFILE="work"), timeout=30)
    finally:
        os.close(primary)
        os.close(secondary)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


def test_statusline_then_runs_the_users_command_with_the_same_stdin(two, tmp_path):
    seen = tmp_path / "seen.json"
    doc = json.dumps(statusline_document(10.0, 20.0))
    proc = two.run("statusline", "--then", f"cat > {seen}; printf 'my line'", input=doc,
                   AXIOM_CLAUDE_PROFILE="work")
    assert proc.returncode == 0 and proc.stdout == "work · 5h 10% · 7d 20% · my line\n"
    assert seen.read_text() == doc
    broken = two.run("statusline", "--then", "exit 3", input=doc)  # outside a profile, a failing command
    assert (broken.returncode, broken.stdout) == (0, "")
    bare = two.run("statusline", "--then", input=doc, AXIOM_CLAUDE_PROFILE="work")  # no command given
    assert (bare.returncode, bare.stdout, bare.stderr) == (0, "work · 5h 10% · 7d 20%\n", "")


@pytest.mark.parametrize("full_path", [False, True])
def test_statusline_and_hook_json_give_the_envelope(two, full_path):
    if full_path:  # config.toml naming the backend sends the call through the plugin host
        two.config.mkdir(parents=True, exist_ok=True)
        (two.config / "config.toml").write_text('[state]\nbackend = "files"\n')
    rc, out = two.run_json("statusline", input=json.dumps(statusline_document(37.5, 62.0)),
                           AXIOM_CLAUDE_PROFILE="work")
    data = out["data"]
    assert rc == 0 and out["meta"]["command"] == "statusline"
    assert (data["profile"], data["recorded"], data["line"]) == ("work", True, "work · 5h 37% · 7d 62%")
    assert data["reading"]["source"] == "statusline" and data["reading"]["observed_at"].endswith("Z")
    assert data["reading"]["windows"]["five_hour"]["pct"] == 37.5
    rc, out = two.run_json("hook", input=json.dumps(stop_failure_event("billing_error")), AXIOM_CLAUDE_PROFILE="home")
    assert rc == 0 and out["meta"]["command"] == "hook" and out["data"]["profile"] == "home"
    assert out["data"]["recorded"] and out["data"]["reading"]["health"] == "auth_dead"
    rc, out = two.run_json("hook", input="garbage", AXIOM_CLAUDE_PROFILE="home")
    assert rc == 0 and out["data"]["recorded"] is False and "nothing recorded" in out["data"]["note"]
    rc, out = two.run_json("statusline", input=json.dumps(statusline_document()))  # outside a profile
    assert rc == 0 and out["data"]["profile"] is None and out["data"]["recorded"] is False
    (two.config / "passive.json").unlink()
    (two.config / "passive.json").mkdir()  # the state cannot be written
    rc, out = two.run_json("statusline", input=json.dumps(statusline_document()), AXIOM_CLAUDE_PROFILE="work")
    assert rc == 0 and out["data"]["recorded"] is False and out["data"]["line"] == "" and out["data"]["note"]


@pytest.mark.parametrize("error", ["authentication_failed", "oauth_org_not_allowed", "account_on_hold",
                                   "billing_error"])
def test_hook_account_errors_keep_the_profile_out_as_auth_dead(two, error):
    proc = two.run("hook", input=json.dumps(stop_failure_event(error)), AXIOM_CLAUDE_PROFILE="work")
    assert (proc.returncode, proc.stdout) == (0, "")
    row = status(two)["work"]
    assert row["health"] == "auth_dead" and row["source"] == "hook" and error in row["error"]
    rc, out = two.run_json("pick")
    assert rc == 0 and out["data"]["name"] == "home"


def test_hook_rate_limit_with_a_window_until_its_reset(two):
    event = stop_failure_event("rate_limit", rate_limit_type="seven_day", resets_in=7200)
    assert two.run("hook", input=json.dumps(event), AXIOM_CLAUDE_PROFILE="work").returncode == 0
    row = status(two)["work"]
    assert row["health"] == "weekly_limit" and row["source"] == "hook" and row["weekly_resets_at"]
    plain = two.run("hook", input=json.dumps(stop_failure_event("rate_limit")), AXIOM_CLAUDE_PROFILE="home")
    assert plain.returncode == 0 and status(two)["home"]["health"] == "rate_limited"


def test_hook_rate_limit_reads_the_window_from_the_failed_turns_transcript_row(two, tmp_path):
    rows = [{"type": "user", "message": {"role": "user", "content": "hi"}},
            {"type": "assistant", "isApiErrorMessage": True, "error": "rate_limit",
             "quotaLimits": {"rateLimitType": "five_hour", "resetsAt": int(time.time()) + 3600}}]
    path = tmp_path / "session.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    event = {**stop_failure_event("rate_limit"), "transcript_path": str(path)}
    assert two.run("hook", input=json.dumps(event), AXIOM_CLAUDE_PROFILE="work").returncode == 0
    row = status(two)["work"]
    assert row["health"] == "session_limit" and row["source"] == "hook" and row["session_resets_at"]


def test_a_hook_failure_beats_an_older_probe_ok_without_a_probe(two):
    assert status(two)["work"]["source"] == "probe" and two.fake.count("GET", USAGE) == 2
    event = stop_failure_event("rate_limit", rate_limit_type="five_hour", resets_in=1800)
    assert two.run("hook", input=json.dumps(event), AXIOM_CLAUDE_PROFILE="work").returncode == 0
    row = status(two)["work"]
    assert row["health"] == "session_limit" and row["source"] == "hook" and "no probe spent" in row["evidence"]
    assert row["session_pct"] == 10.0  # the probe's figure stays: the event reported none
    assert two.fake.count("GET", USAGE) == 2  # no probe spent on either profile
    rc, picked = two.run_json("pick")
    assert rc == 0 and picked["data"]["name"] == "home"


def test_hook_ignores_unknown_events_and_garbage(two):
    for stdin in (json.dumps(stop_failure_event("overloaded")), json.dumps({"hook_event_name": "Stop"}), "", "[]"):
        proc = two.run("hook", input=stdin, AXIOM_CLAUDE_PROFILE="work")
        assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    assert not (two.config / "passive.json").exists()


def test_show_and_explain_say_which_evidence_decided(two):
    two.run("statusline", input=json.dumps(statusline_document(5.0, 6.0)), AXIOM_CLAUDE_PROFILE="work")
    rc, shown = two.run_json("show", "work")
    assert rc == 0 and shown["data"]["source"] == "statusline"
    assert shown["data"]["evidence"].startswith("statusline") and "no probe spent" in shown["data"]["evidence"]
    assert "statusline" in shown["data"]["passive"]["readings"]
    rc, picked = two.run_json("pick", "--explain")
    rows = {r["profile"]: r for r in picked["data"]["explain"]}
    assert rows["work"]["evidence"].startswith("statusline") and "statusline" in rows["work"]["reason"]
    assert rows["home"]["evidence"].startswith("probe")


CHILD = """#!{python}
import sys
sys.stdout.buffer.write({payload!r})
sys.stdout.flush()
"""


def exec_claude_stream(world, tmp_path, payload: bytes) -> subprocess.CompletedProcess:
    """The real ``roost exec --no-lease -- claude -p hi --output-format stream-json``, with a fake
    ``claude`` on PATH that writes ``payload``."""
    script = tmp_path / "bin" / "claude"
    script.parent.mkdir(exist_ok=True)
    script.write_text(CHILD.format(python=sys.executable, payload=payload))
    script.chmod(0o755)
    env = world.env(PATH=f"{script.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run([str(Path(sys.executable).parent / "roost"), "exec", "--no-lease", "--",
                           "claude", "-p", "hi", "--output-format", "stream-json"],
                          env=env, capture_output=True, timeout=60)


def test_exec_passes_stream_json_through_and_reads_rate_limit_events(two, tmp_path):
    payload = stream_json(rate_limit_event("rejected", "five_hour", 1.0, resets_in=1800))
    proc = exec_claude_stream(two, tmp_path, payload)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == payload  # every byte, unchanged
    picked = json.loads((two.config / "passive.json").read_text())["profiles"]
    (name,) = picked
    reading = picked[name]["stream"]
    assert reading["health"] == "session_limit" and reading["windows"]["five_hour"]["pct"] == 100.0
    row = status(two)[name]
    assert row["health"] == "session_limit" and row["source"] == "stream"


def test_exec_without_stream_json_leaves_stdout_alone(two, tmp_path):
    payload = stream_json(rate_limit_event("rejected", "five_hour", 1.0))
    script = tmp_path / "emit"
    script.write_text(CHILD.format(python=sys.executable, payload=payload))
    script.chmod(0o755)
    proc = two.run("exec", "--no-lease", "--", str(script), "--output-format", "json")
    assert proc.returncode == 0 and proc.stdout.encode() == payload
    assert not (two.config / "passive.json").exists()


def test_claude_setup_prints_the_fragment(two):
    rc, out = two.run_json("claude-setup")
    assert rc == 0 and out["data"]["profiles"] == ["home", "work"]
    fragment = out["data"]["fragment"]
    assert fragment["statusLine"]["command"].endswith("roost statusline")
    assert fragment["hooks"]["StopFailure"][0]["hooks"][0]["command"].endswith("roost hook")
    text = two.run("claude-setup", "work")
    assert text.returncode == 0 and json.loads(text.stdout) == fragment


def test_claude_setup_apply_keeps_other_keys_and_the_users_statusline(two):
    own = two.profiles / "work" / "settings.json"
    original = {"model": "opus", "permissions": {"allow": ["Bash(ls)"]},
                "statusLine": {"type": "command", "command": "~/bin/my status", "padding": 2},
                "hooks": {"StopFailure": [{"hooks": [{"type": "command", "command": "notify-send oops"}]}]}}
    own.write_text(json.dumps(original))
    own.chmod(0o640)
    rc, out = two.run_json("claude-setup", "work", "--apply")
    assert rc == 0 and out["data"][0]["action"] == "updated" and out["data"][0]["kept_statusline"] == "~/bin/my status"
    new = json.loads(own.read_text())
    assert new["model"] == "opus" and new["permissions"] == original["permissions"]
    assert new["statusLine"]["padding"] == 2
    assert new["statusLine"]["command"].endswith("roost statusline --then '~/bin/my status'")
    commands = [h["command"] for g in new["hooks"]["StopFailure"] for h in g["hooks"]]
    assert commands[0] == "notify-send oops" and commands[1].endswith("roost hook")
    assert stat.S_IMODE(own.stat().st_mode) == 0o640
    assert json.loads(Path(out["data"][0]["backup"]).read_text()) == original
    again = two.run_json("claude-setup", "work", "--apply")[1]
    assert again["data"][0]["action"] == "unchanged"
    removed = two.run_json("claude-setup", "work", "--remove")[1]
    assert removed["data"][0]["action"] == "removed" and json.loads(own.read_text()) == original


def test_claude_setup_apply_creates_a_missing_file_and_writes_a_shared_base_once(two):
    base = two.home / ".claude"
    base.mkdir()
    (base / "settings.json").write_text(json.dumps({"theme": "dark"}))
    for name in ("work", "home"):
        (two.profiles / name / "settings.json").symlink_to(base / "settings.json")
    account(two, "solo")  # its settings.json link does not exist yet: it shares the base all the same
    rc, out = two.run_json("claude-setup", "--apply")
    assert rc == 0
    actions = {tuple(r["profiles"]): (r["action"], r["shared"]) for r in out["data"]}
    assert actions == {("home", "solo", "work"): ("updated", True)}
    for name in ("work", "home", "solo"):  # the links stay links; solo's is roost's link, made now
        link = two.profiles / name / "settings.json"
        assert link.is_symlink() and os.readlink(link) == str(base / "settings.json")
    shared = json.loads((base / "settings.json").read_text())
    assert shared["theme"] == "dark" and "roost statusline" in shared["statusLine"]["command"]
    isolated = two.profiles / "iso"
    account(two, "iso")
    write_config(two, "[profiles.iso]\nisolated = true\n")  # shares nothing: a file of its own is created
    rc, out = two.run_json("claude-setup", "iso", "--apply")
    assert rc == 0 and [(r["action"], r["shared"]) for r in out["data"]] == [("created", False)]
    own = isolated / "settings.json"
    assert not own.is_symlink() and "roost statusline" in json.loads(own.read_text())["statusLine"]["command"]


def test_claude_setup_apply_links_profiles_that_share_the_base_before_writing_it_once(two):
    """The audit's case: profiles sharing settings by default whose link is not there yet (no exec since
    add) lose the base settings for good if roost writes a standalone file for them."""
    base = two.home / ".claude"
    base.mkdir()
    (base / "settings.json").write_text(json.dumps({"theme": "dark"}))
    rc, out = two.run_json("claude-setup", "--apply")
    assert rc == 0, out
    assert [(r["profiles"], r["action"], r["shared"], r["path"]) for r in out["data"]] == [
        (["home", "work"], "updated", True, str(base / "settings.json"))]
    for name in ("work", "home"):
        assert os.readlink(two.profiles / name / "settings.json") == str(base / "settings.json")
    assert json.loads((base / "settings.json").read_text())["theme"] == "dark"
    rc, out = two.run_json("claude-setup", "--remove")
    assert rc == 0 and [r["action"] for r in out["data"]] == ["removed"]
    assert json.loads((base / "settings.json").read_text()) == {"theme": "dark"}
    assert (two.profiles / "work" / "settings.json").is_symlink()


def test_claude_setup_apply_creates_the_base_file_for_profiles_that_would_share_it(two):
    base = two.home / ".claude"
    base.mkdir()  # claude's base directory, no settings.json in it yet
    account(two, "iso")
    write_config(two, "[profiles.iso]\nisolated = true\n")
    rc, out = two.run_json("claude-setup", "--apply")
    assert rc == 0, out
    rows = {tuple(r["profiles"]): (r["action"], r["shared"], r["path"]) for r in out["data"]}
    assert rows == {("home", "work"): ("created", True, str(base / "settings.json")),
                    ("iso",): ("created", False, str(two.profiles / "iso" / "settings.json"))}
    assert os.readlink(two.profiles / "work" / "settings.json") == str(base / "settings.json")
    assert "roost hook" in (base / "settings.json").read_text()
    assert not (two.profiles / "iso" / "settings.json").is_symlink()


def test_claude_setup_leaves_no_base_file_when_no_profile_shares_it(two):
    base = two.home / ".claude"
    base.mkdir()
    write_config(two, "[profiles]\nshare = [\"CLAUDE.md\"]\n")  # settings.json is not shared
    rc, out = two.run_json("claude-setup", "--apply")
    assert rc == 0 and {r["action"] for r in out["data"]} == {"created"} and not any(r["shared"] for r in out["data"])
    assert not os.path.lexists(base / "settings.json")
    assert all((two.profiles / n / "settings.json").is_file() for n in ("work", "home"))


def test_claude_setup_remove_deletes_the_file_roost_created_so_the_base_links_again(two):
    account(two, "solo")  # no base settings.json: solo gets a file of its own
    rc, out = two.run_json("claude-setup", "solo", "--apply")
    assert rc == 0 and out["data"][0]["action"] == "created" and out["data"][0]["shared"] is False
    own = two.profiles / "solo" / "settings.json"
    assert own.is_file()
    rc, out = two.run_json("claude-setup", "solo", "--remove")
    assert rc == 0 and out["data"][0]["action"] == "removed" and out["data"][0]["deleted"] is True
    assert not os.path.lexists(own)  # no {} left to keep the base out
    assert [p.name for p in (two.profiles / "solo").iterdir() if p.name.startswith(".roost-claude")] == []
    base = two.home / ".claude"
    base.mkdir()
    (base / "settings.json").write_text(json.dumps({"theme": "dark"}))
    proc = two.run("exec", "--no-lease", "--avoid", "work", "--avoid", "home", "--", sys.executable, "-c", "pass")
    assert proc.returncode == 0, proc.stderr
    assert os.readlink(own) == str(base / "settings.json")  # the next exec links the base


def test_claude_setup_remove_keeps_a_users_own_file_it_did_not_create(two):
    own = two.profiles / "work" / "settings.json"
    own.write_text("{}")  # the user's own (empty) file: roost did not make it
    assert two.run_json("claude-setup", "work", "--apply")[0] == 0
    rc, out = two.run_json("claude-setup", "work", "--remove")
    assert rc == 0 and out["data"][0]["action"] == "removed" and out["data"][0]["deleted"] is False
    assert own.is_file() and json.loads(own.read_text()) == {} and "base" in out["data"][0]["note"]


def test_claude_setup_never_writes_through_a_users_own_link(two, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    mine = elsewhere / "mysettings.json"
    mine.write_text('{"theme": "light"}')
    (two.profiles / "work" / "settings.json").symlink_to(mine)
    rc, out = two.run_json("claude-setup", "work", "--apply")
    assert rc == 4 and out["data"][0]["action"] == "refused" and out["data"][0]["shared"] is False
    assert "not roost's link" in out["data"][0]["error"] and str(mine) in out["data"][0]["error"]
    assert mine.read_text() == '{"theme": "light"}' and os.listdir(elsewhere) == ["mysettings.json"]
    gone = elsewhere / "gone.json"
    (two.profiles / "home" / "settings.json").symlink_to(gone)  # dangling: its target is never created
    proc = two.run("claude-setup", "--apply")
    assert proc.returncode == 4 and "Traceback" not in proc.stderr
    assert "refused" in proc.stdout and str(gone) in proc.stdout
    assert not os.path.lexists(gone) and mine.read_text() == '{"theme": "light"}'
    assert (two.profiles / "home" / "settings.json").is_symlink()


def test_claude_setup_refuses_one_profiles_link_and_still_sets_up_the_others(two, tmp_path):
    mine = tmp_path / "mysettings.json"
    mine.write_text("{}")
    (two.profiles / "work" / "settings.json").symlink_to(mine)
    rc, out = two.run_json("claude-setup", "--apply")
    assert rc == 4 and out["meta"]["failed"] == 1
    rows = {tuple(r["profiles"]): r["action"] for r in out["data"]}
    assert rows == {("home",): "created", ("work",): "refused"}
    assert mine.read_text() == "{}"


@pytest.mark.parametrize("document, key", [
    ({"hooks": {"StopFailure": "notalist", "Stop": []}}, "hooks.StopFailure"),
    ({"hooks": ["x"], "model": "opus"}, "hooks"),
    ({"statusLine": "~/bin/line"}, "statusLine"),
    ({"statusLine": {"type": "command", "command": ["~/bin/line"]}}, "statusLine.command"),
])
def test_claude_setup_refuses_a_key_it_must_merge_into_with_the_wrong_type(two, document, key):
    own = two.profiles / "work" / "settings.json"
    own.write_text(json.dumps(document))
    proc = two.run("claude-setup", "work", "--apply")
    assert proc.returncode == 4 and "Traceback" not in proc.stderr
    assert str(own) in proc.stdout and f"key {key} is" in proc.stdout
    assert json.loads(own.read_text()) == document
    assert not [n for n in os.listdir(own.parent) if n.endswith(".roost-backup")]  # nothing written, no backup


def test_claude_setup_remove_keeps_a_malformed_hooks_key(two):
    own = two.profiles / "work" / "settings.json"
    own.write_text(json.dumps({"hooks": {"StopFailure": "notalist"}, "statusLine": {
        "type": "command", "command": "/opt/roost/bin/roost statusline --then 'mine'"}}))
    rc, out = two.run_json("claude-setup", "work", "--remove")
    assert rc == 0 and out["data"][0]["action"] == "removed"
    assert json.loads(own.read_text()) == {"hooks": {"StopFailure": "notalist"},
                                           "statusLine": {"type": "command", "command": "mine"}}


def test_claude_setup_never_writes_through_a_link_to_a_link(two, tmp_path):
    real = tmp_path / "dotfiles-settings.json"
    real.write_text("{}")
    middle = tmp_path / "middle.json"
    middle.symlink_to(real)
    (two.profiles / "work" / "settings.json").symlink_to(middle)
    proc = two.run("claude-setup", "work", "--apply")
    assert proc.returncode == 4 and "link" in proc.stderr + proc.stdout
    assert real.read_text() == "{}"
    base = two.home / ".claude"  # roost's own link, to a base file that is itself a link (dotfiles)
    base.mkdir()
    (base / "settings.json").symlink_to(real)
    rc, out = two.run_json("claude-setup", "home", "--apply")
    assert rc == 4 and os.readlink(two.profiles / "home" / "settings.json") == str(base / "settings.json")
    assert "itself a link" in out["data"][0]["error"] and real.read_text() == "{}"


def test_doctor_reports_passive_wiring_and_the_last_reading(two):
    two.run("claude-setup", "work", "--apply")
    two.run("statusline", input=json.dumps(statusline_document()), AXIOM_CLAUDE_PROFILE="work")
    rc, out = two.run_json("doctor", "--skip-network")
    checks = {c["name"]: c for c in out["data"]}
    work, home = checks["passive-health:work"], checks["passive-health:home"]
    assert work["level"] == "ok" and work["details"]["last_passive_at"] and "last passive reading" in work["message"]
    assert home["level"] == "warn" and "not wired" in home["message"] and "no passive reading" in home["message"]


GUARD = """
import subprocess, sys, json
heavy = ("httpx", "rich", "filelock", "asyncio", "click", "pluggy")
found = {{}}
for kind, stdin in (("statusline", {doc!r}), ("hook", {event!r})):
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c",
                           "import sys; sys.argv = ['roost', %r]; from roost_core.launch import main; main()" % kind],
                          input=stdin.encode(), capture_output=True, env={env!r})
    names = [line.split("|")[-1].strip() for line in proc.stderr.decode().splitlines() if "|" in line]
    found[kind] = sorted({{n.split(".")[0] for n in names}} & set(heavy))
print(json.dumps(found))
"""


def test_statusline_and_hook_import_no_heavy_module(two):
    env = two.env(AXIOM_CLAUDE_PROFILE="work")
    code = GUARD.format(doc=json.dumps(statusline_document()), event=json.dumps(stop_failure_event()), env=env)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert json.loads(proc.stdout) == {"statusline": [], "hook": []}, proc.stderr
    assert json.loads((two.config / "passive.json").read_text())["profiles"]["work"]["hook"]["health"] == "rate_limited"


SITE_SOURCE = '''
from roost_core.api import hookimpl


class ProxyHeaders:
    """A site's passive source: a proxy posts the unified rate-limit headers it saw as a hook event."""

    name = "proxy-headers"
    kinds = frozenset({"hook"})

    def read(self, kind, observation, now):
        if not isinstance(observation, dict) or observation.get("hook_event_name") != "ProxyHeaders":
            return None
        headers = observation.get("headers") or {}
        used = float(headers.get("anthropic-ratelimit-unified-5h-utilization", 0)) * 100
        return {"observed_at": now, "health": "ok" if used < 100 else "session_limit",
                "windows": {"five_hour": {"pct": used, "resets_at": None, "observed_at": now}},
                "until": None, "reason": f"proxy saw 5h at {used:g}%"}


@hookimpl
def roost_register_passive_sources():
    return ProxyHeaders()
'''


def test_a_site_passive_source_is_used_through_the_plugin_host(two, tmp_path):
    from roostkit import make_dist_on_path

    site = make_dist_on_path(tmp_path / "site", "roost-proxy-headers", {"proxy_headers": SITE_SOURCE},
                             {"passive.proxy-headers": "proxy_headers"})
    event = {"hook_event_name": "ProxyHeaders", "headers": {"anthropic-ratelimit-unified-5h-utilization": "0.42"}}
    proc = two.run("hook", input=json.dumps(event), AXIOM_CLAUDE_PROFILE="work", PYTHONPATH=str(site))
    assert (proc.returncode, proc.stdout) == (0, ""), proc.stderr
    row = status(two)["work"]
    assert row["source"] == "proxy-headers" and row["session_pct"] == 42.0
    # the built-in sources still answer on that path
    proc = two.run("hook", input=json.dumps(stop_failure_event("billing_error")), AXIOM_CLAUDE_PROFILE="home",
                   PYTHONPATH=str(site))
    assert proc.returncode == 0 and status(two)["home"]["health"] == "auth_dead"


def test_invalidate_forgets_passive_readings_too(two):
    two.run("statusline", input=json.dumps(statusline_document(5.0, 6.0)), AXIOM_CLAUDE_PROFILE="work")
    assert status(two)["work"]["source"] == "statusline"
    assert two.run("invalidate", "work").returncode == 0
    assert status(two)["work"]["source"] == "probe"


def test_statusline_records_for_the_single_profile_fallback(roost_env, tmp_path):
    single = tmp_path / "solo-claude"
    single.mkdir()
    (single / ".credentials.json").write_text((roost_env.make_profile("x")).read_text())
    env = {"CLAUDE_CONFIG_DIR": str(single), "CLAUDE_LB_PROFILES_DIR": str(tmp_path / "empty-tree")}
    proc = roost_env.run("statusline", input=json.dumps(statusline_document(1.0, 2.0)), **env)
    assert proc.returncode == 0 and proc.stdout.startswith("default · 5h 1%")
    rc, out = roost_env.run_json("status", "--no-platform-status", **env)
    assert by_name(out)["default"]["source"] == "statusline"
