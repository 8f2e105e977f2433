"""The root ``--help`` lists every plugin command; after one full load it lists them from memory.

The remembered rows live in ``<config>/plugin-commands.json`` beside the owner
map, keyed by the command entry points and the files that define the commands:
the same text either way, no plugin imported when nothing changed, and a new,
edited or broken plugin is seen at once.
"""

from __future__ import annotations

import json
import os
import sys

from roostkit import ROOST, make_dist_on_path, modules_at_exit

COMMAND = ("import click\nfrom roost_core.api import hookimpl\n"
           "@click.command('wave', help={help!r})\ndef wave():\n    click.echo('hi')\n"
           "@hookimpl\ndef roost_register_commands(cli):\n    cli.add_command(wave)\n")


def _help(world, **env: str) -> tuple[str, set[str]]:
    proc, modules = modules_at_exit([sys.executable, ROOST, "--help"], world.env(**env), world.root)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout, modules


def _plugin_modules(modules: set[str]) -> set[str]:
    return {m for m in modules if m.startswith("roost_plugins.")}


def _config(world):
    config = world.root / "xdg" / "claude-lb"
    config.mkdir(parents=True, exist_ok=True)
    return config


def test_a_second_help_lists_the_same_commands_without_loading_a_plugin(roost_env):
    _config(roost_env)
    first, loaded = _help(roost_env)
    assert "roost_plugins.dispatch.exec.command" in loaded  # the first one loads every command plugin
    for columns in ("120", "60", "200"):
        full = roost_env.run("--disable-plugin", "none-such", "--help", COLUMNS=columns).stdout  # another key
        remembered, modules = _help(roost_env, COLUMNS=columns)
        if columns == "120":
            assert remembered == first
        assert remembered == full
        assert _plugin_modules(modules) == set(), sorted(_plugin_modules(modules))
    assert "exec" in first and "demo" in first and "pick" in first


def test_nothing_is_remembered_without_a_config_dir(roost_env):
    _help(roost_env)
    _, modules = _help(roost_env)
    assert "roost_plugins.dispatch.exec.command" in modules
    assert not (roost_env.root / "xdg" / "claude-lb").exists()  # --help creates nothing


def test_a_new_or_edited_plugin_command_is_listed_at_once(roost_env, tmp_path):
    _config(roost_env)
    _help(roost_env)
    site = make_dist_on_path(tmp_path / "site", "roost-wave", {"roost_wave": COMMAND.format(help="Wave once.")},
                             {"command.wave": "roost_wave"})
    assert "Wave once." in _help(roost_env, PYTHONPATH=str(site))[0]  # new entry point: a new key
    assert "Wave once." in _help(roost_env, PYTHONPATH=str(site))[0]  # remembered
    module = site / "roost_wave.py"
    module.write_text(COMMAND.format(help="Wave twice."))  # an edit under the same version
    stamp = module.stat().st_mtime_ns + 2_000_000_000
    os.utime(module, ns=(stamp, stamp))
    text, modules = _help(roost_env, PYTHONPATH=str(site))
    assert "Wave twice." in text and "Wave once." not in text
    assert "roost_wave" in modules
    assert "Wave" not in _help(roost_env)[0]  # uninstalled: gone at once


def test_a_broken_plugin_warns_on_every_help(roost_env, tmp_path):
    _config(roost_env)
    site = make_dist_on_path(tmp_path / "site", "roost-broken-cmd", {"roost_broken_cmd": "raise ImportError('nope')\n"},
                             {"command.broken": "roost_broken_cmd"})
    for _ in range(2):
        proc = roost_env.run("--help", PYTHONPATH=str(site))
        assert proc.returncode == 0 and "broken" in proc.stderr and "pick" in proc.stdout
    remembered = json.loads((_config(roost_env) / "plugin-commands.json").read_text())
    assert "listing" not in remembered
