"""roost_core.testing's plain helpers: the plugin under test is found from pyproject.toml, written as
a dist-info roost discovers, and make_host registers only what it is given."""

from __future__ import annotations

import subprocess
import sys
import types

from roost_core.testing import PluginUnderTest, find_plugin_under_test, make_host


def test_plugin_found_from_the_nearest_pyproject(tmp_path):
    project = tmp_path / "roost-strategy-x"
    (project / "src" / "roost_strategy_x").mkdir(parents=True)
    (project / "tests").mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "roost-strategy-x"\n'
                                            '[project.entry-points."roost.plugins"]\n"strategy.x" = "roost_strategy_x"\n')
    found = find_plugin_under_test(project / "tests")
    assert found == PluginUnderTest("roost-strategy-x", {"strategy.x": "roost_strategy_x"}, project / "src")
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "pyproject.toml").write_text('[project]\nname = "plain"\n')
    assert find_plugin_under_test(tmp_path / "plain") is None


def test_an_uninstalled_plugin_is_visible_to_roost_through_pythonpath(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "kit_probe_mod.py").write_text("X = 1\n")
    plugin = PluginUnderTest("roost-kit-probe", {"strategy.kit-probe": "kit_probe_mod"}, source)
    paths = plugin.python_path(tmp_path / "site")
    code = ("from roost_core.entrypoints import entry_points; "
            "print([(e.name, e.dist, e.load().X) for e in entry_points('roost.plugins') if e.dist == 'roost-kit-probe'])")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={"PYTHONPATH": ":".join(paths), "PATH": "/usr/bin:/bin"})
    assert proc.stdout.strip() == "[('strategy.kit-probe', 'roost-kit-probe', 1)]", proc.stderr
    assert PluginUnderTest("roost", {}, tmp_path).python_path(tmp_path / "x") == []  # installed: nothing to add


def test_make_host_registers_only_the_given_plugins():
    from roost_core.api import hookimpl

    class Coin:
        name, summary = "coin", "a test strategy"

        def rank(self, candidates, request):
            return None

    plugin = types.ModuleType("coin_plugin")
    plugin.roost_register_strategies = hookimpl(lambda: Coin())
    host = make_host(plugin)
    assert list(host.registry("strategy")) == ["coin"]
