"""update, shellinit, completion, history, stats and doctor are built-in plugins (``command.*``
entry points), not core commands: still listed, completed and helped; off the hot path;
``--disable-plugin`` turns one off like any plugin."""

from __future__ import annotations

import subprocess
import sys

from roost_core.cli import CORE_COMMANDS
from roost_core.entrypoints import entry_points

FEATURES = ("update", "shellinit", "completion", "history", "stats", "doctor")


def test_registered_as_plugins_not_core():
    commands = {ep.name: ep.value for ep in entry_points("roost.plugins") if ep.name.startswith("command.")}
    for name in FEATURES:
        assert name not in CORE_COMMANDS
        assert commands[f"command.{name}"].startswith("roost_plugins."), name


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
                                                      "roost_plugins.picklog", "roost_plugins.doctor"))}
        assert not loaded, (args, loaded)


def test_main_job_commands_are_a_plugin_too():
    """pick, which and exec (the dispatch plugin) and refresh are plugins; the core keeps only
    the plugin host's and the settings resolver's own views."""
    assert set(CORE_COMMANDS) == {"plugins", "config"}
    commands = {ep.name: ep.value for ep in entry_points("roost.plugins") if ep.name.startswith("command.")}
    assert commands["command.dispatch"] == "roost_plugins.dispatch"
    assert commands["command.refresh"] == "roost_plugins.refresh_command"
    owners = {ep.name: ep.value for ep in entry_points("roost.commands")}
    assert {owners[name] for name in ("pick", "which", "exec")} == {"roost_plugins.dispatch"}


def test_pick_loads_its_plugin_alone(roost_env):
    """A pick with no command-index cache yet loads the dispatch plugin, not every command plugin."""
    code = ("import sys, runpy; sys.argv = ['roost', 'pick', '--help']\n"
            "try:\n    runpy.run_module('roost_core', run_name='__main__')\n"
            "except SystemExit: pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('roost_plugins.') and m.count('.') == 1))")
    proc = subprocess.run([sys.executable, "-c", code], env=roost_env.env(), capture_output=True, text=True)
    loaded = proc.stdout.strip().splitlines()[-1]
    assert "roost_plugins.dispatch" in loaded and "roost_plugins.doctor" not in loaded, proc.stdout + proc.stderr
