"""update, shellinit, completion, history, stats, doctor, config and plugins are built-in plugins
(``command.*`` entry points): the core has no command of its own. Still listed, completed and
helped; off the hot path; ``--disable-plugin`` turns one off like any plugin."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from roost_core.entrypoints import entry_points

FEATURES = ("update", "shellinit", "completion", "history", "stats", "doctor", "config", "plugins")


def test_registered_as_plugins_not_core():
    commands = {ep.name: ep.value for ep in entry_points("roost.plugins") if ep.name.startswith("command.")}
    for name in FEATURES:
        assert commands[f"command.{name}"].startswith("roost_plugins."), name
    # A fresh process: the root group holds no command until plugins add theirs.
    proc = subprocess.run([sys.executable, "-c", "from roost_core.cli import cli; print(sorted(cli.commands))"],
                          capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "[]", proc.stdout + proc.stderr


def test_listed_helped_and_completed(roost_env):
    listing = roost_env.run("--help")
    assert listing.returncode == 0
    listed = {line.split()[0] for line in listing.stdout.split("Commands:")[1].splitlines() if line.strip()}
    assert set(FEATURES) <= listed
    for name in FEATURES:
        helped = roost_env.run(name, "--help")
        assert helped.returncode == 0 and f"Usage: roost {name}" in helped.stdout, name
    proc = roost_env.run(_ROOST_COMPLETE="bash_complete", COMP_WORDS="roost s", COMP_CWORD="1")
    completed = {line.split(",", 1)[1] for line in proc.stdout.splitlines()}
    assert {"shellinit", "stats", "show", "status"} <= completed
    script = roost_env.run("completion", "zsh")
    assert script.returncode == 0 and "compdef _roost_completion roost" in script.stdout
    assert roost_env.run("--show-completion", SHELL="/bin/zsh").stdout == script.stdout


def test_disabled_like_any_plugin(roost_env):
    proc = roost_env.run("--disable-plugin", "stats", "stats")
    assert proc.returncode == 4 and "No such command 'stats'" in proc.stderr
    assert roost_env.run("--disable-plugin", "stats", "history", "--json").returncode == 0


def test_broken_config_still_finds_doctor(roost_env):
    roost_env.config.mkdir(parents=True)
    (roost_env.config / "config.toml").write_text("strategy = \n")
    proc = roost_env.run("doctor", "--skip-network", "--json")
    assert proc.returncode == 9 and '"config-file"' in proc.stdout  # doctor runs and reports the file


def test_hot_path_imports_none_of_them(roost_env):
    for args in (["--version"], ["pick"]):  # list is itself a plugin command now (the profiles plugin)
        proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "roost_core", *args],
                              env=roost_env.env(), capture_output=True, text=True, timeout=60)
        modules = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
        loaded = {m for m in modules if m.startswith(("roost_plugins.update", "roost_plugins.shell",
                                                      "roost_plugins.picklog", "roost_plugins.doctor",
                                                      "roost_plugins.settings_views"))}
        assert not loaded, (args, loaded)


def test_config_and_plugins_load_like_any_plugin(roost_env):
    """config and plugins (roost_plugins.settings_views) are plugins like the rest: listed by
    ``roost plugins`` (itself included), disabled by name; with no command index yet ``config`` loads
    alone and a plugin's subcommand (usage-log) still attaches to it."""
    roost_env.config.mkdir(parents=True, exist_ok=True, mode=0o700)
    rc, doc = roost_env.run_json("config", "usage-log", "status")
    assert rc == 0 and doc["data"]["enabled"] is False
    assert "usage-log" in roost_env.run("config", "--help").stdout
    rc, doc = roost_env.run_json("plugins")
    kinds = {row["name"]: row["kinds"] for row in doc["data"]}
    assert rc == 0 and kinds["config"] == ["command"] and kinds["plugins"] == ["command"]
    proc = roost_env.run("--disable-plugin", "config", "config")
    assert proc.returncode == 4 and "No such command 'config'" in proc.stderr
    assert roost_env.run("--disable-plugin", "config", "usage-log", "--json").returncode == 4  # nowhere to attach


def test_main_job_commands_are_a_plugin_too():
    """pick, which and exec (the dispatch plugin) and refresh are plugins, and so are the plugin
    host's and the settings resolver's own views (plugins, config)."""
    commands = {ep.name: ep.value for ep in entry_points("roost.plugins") if ep.name.startswith("command.")}
    assert commands["command.dispatch"] == "roost_plugins.dispatch"
    assert commands["command.exec"] == "roost_plugins.dispatch.exec"  # its own: pick never imports it
    assert commands["command.refresh"] == "roost_plugins.refresh"
    assert commands["command.config"] == "roost_plugins.settings_views.config"
    assert commands["command.plugins"] == "roost_plugins.settings_views.plugins"
    owners = {ep.name: ep.value for ep in entry_points("roost.commands")}
    assert {owners[name] for name in ("pick", "which")} == {"roost_plugins.dispatch"} and "exec" not in owners


@pytest.mark.parametrize("command, loads, never", [
    ("pick", "roost_plugins.dispatch.pick_cmds", {"roost_plugins.dispatch.exec.command", "roost_plugins.doctor"}),
    ("exec", "roost_plugins.dispatch.exec.command", {"roost_plugins.doctor", "roost_plugins.profiles.commands"}),
])
def test_pick_and_exec_load_their_plugin_alone(roost_env, command, loads, never):
    """With no command-index cache yet, pick loads the dispatch plugin and exec its own, not every
    command plugin (and pick never imports exec)."""
    code = (f"import json, sys, runpy; sys.argv = ['roost', {command!r}, '--help']\n"
            "try:\n    runpy.run_module('roost_core', run_name='__main__')\n"
            "except SystemExit: pass\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('roost_plugins.'))))")
    proc = subprocess.run([sys.executable, "-c", code], env=roost_env.env(), capture_output=True, text=True)
    loaded = set(json.loads(proc.stdout.strip().splitlines()[-1]))
    assert loads in loaded, proc.stdout + proc.stderr
    assert not loaded & never, sorted(loaded)


def test_the_command_index_names_each_main_job_commands_own_plugin(roost_env):
    """After a full load the index remembers the plugin that really provides each command, so the
    next pick, exec or refresh loads that one plugin (a wrong owner would cost a full load each run)."""
    roost_env.config.mkdir(parents=True, exist_ok=True, mode=0o700)
    assert roost_env.run("--help").returncode == 0
    owners = json.loads((roost_env.config / "plugin-commands.json").read_text())["commands"]
    assert {name: owners[name] for name in ("pick", "which", "exec", "refresh")} == {
        "pick": "dispatch", "which": "dispatch", "exec": "exec", "refresh": "refresh"}
