"""The public API is typed: mypy passes on roost_core.api and every module it re-exports from,
and the wheel ships roost_core/py.typed so a plugin's own mypy run sees those types."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


# The kernel and the engines whose guarantees no plugin may bypass: typed like the API.
KERNEL_AND_ENGINES = ["roost_core.hookspecs", "roost_core.entrypoints", "roost_core.healthcache",
                      "roost_core.refresh", "roost_core.probe.cache", "roost_core.probe.fanout",
                      "roost_core.probe.local", "roost_core.probe.raw", "roost_core.probe.scrub"]


def exported_modules() -> list[str]:
    """``roost_core`` modules named in api._EXPORTS (read from the source, nothing imported)."""
    text = (ROOT / "roost_core" / "api.py").read_text(encoding="utf-8")
    targets = re.findall(r'^\s*"[A-Za-z_]\w*": "([^"]*)",', text, re.M)
    return sorted({"roost_core" + target.split(":")[0] for target in targets})


def test_every_export_names_a_module_and_attribute():
    import roost_core.api as api

    assert exported_modules() and set(api.__all__) == set(api._EXPORTS)


def _mypy(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", "/dev/null", "--no-error-summary", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None,
                    reason="mypy is not installed (pip install -e '.[test]' installs it)")
def test_the_core_the_built_in_plugins_and_the_redis_plugin_are_mypy_clean_and_a_plugin_sees_real_types(tmp_path):
    """Every module judged: the API, what it re-exports and the engines among them (KERNEL_AND_ENGINES),
    each built-in plugin, and roost-redis, which stands on roost_core.api like any third party; and a
    plugin importing the API sees each name's real type (never Any), with no implicit re-export
    (pyproject.toml sets ``implicit_reexport = false`` for roost_core.api, as a --strict plugin runs it).
    One run: each more parses roost_core again (a minute of the suite's CPU on the 2-core box)."""
    modules = sorted({"roost_core.api", *exported_modules(), *KERNEL_AND_ENGINES})
    assert all((ROOT / (m.replace(".", "/") + ".py")).is_file() or (ROOT / m.replace(".", "/")).is_dir()
               for m in modules)  # every module named is in the packages judged below
    import roost_core.api as api

    every = tmp_path / "every_name.py"  # each public name as a plugin sees it: a real type, never Any
    every.write_text("from roost_core import api\n" + "".join(f"reveal_type(api.{n})\n" for n in api.__all__))
    plugin = tmp_path / "plugin_typed.py"
    # acquire_lease: a renamed export (leases.acquire), public only through __all__
    plugin.write_text("from roost_core.api import Ranking, Setting, acquire_lease, hookimpl\n"
                      "wrong: int = Ranking\n"
                      "reveal_type(Setting(1, name='n').key)\n"
                      "@hookimpl\n"
                      "def roost_register_strategies() -> int:\n"
                      "    return 1\n"
                      "reveal_type(roost_register_strategies)\n")
    run = _mypy("roost_core", "roost_plugins", str(Path("plugins", "roost-redis", "src", "roost_redis")), str(plugin),
                str(every))
    lines = (run.stdout + run.stderr).splitlines()
    mine = [line for line in lines if line.startswith(str(plugin))]
    revealed = [line for line in lines if line.startswith(str(every))]
    assert not [line for line in lines if line not in mine and line not in revealed], run.stdout + run.stderr
    assert len(revealed) == len(api.__all__), run.stdout
    untyped = [api.__all__[int(line.split(":")[1]) - 2] for line in revealed if line.endswith('Revealed type is "Any"')]
    assert not untyped, f"typed as Any for a plugin's mypy: {untyped}"
    assert any('"type[Ranking]", variable has type "int"' in line for line in mine), run.stdout
    assert any(re.search(r'Revealed type is "(builtins\.)?str"', line) for line in mine), run.stdout
    # @hookimpl keeps the function's own type (an untyped marker makes every hook Any under --strict)
    assert any(re.search(r'Revealed type is "def \(\) -> (builtins\.)?int"', line) for line in mine), run.stdout
    assert not any("explicitly export" in line or "Any" in line for line in mine), run.stdout
    assert len(mine) == 3, run.stdout


def test_py_typed_ships_with_the_package():
    assert (ROOT / "roost_core" / "py.typed").is_file()
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["roost_core"]
    assert any(dep.startswith("mypy") for dep in config["project"]["optional-dependencies"]["test"])


def _type_checking_imports() -> dict[str, str]:
    """name -> "module:attribute" of the imports under ``if TYPE_CHECKING:`` at the bottom of api.py."""
    import ast

    tree = ast.parse((ROOT / "roost_core" / "api.py").read_text(encoding="utf-8"))
    block = [node for node in tree.body if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"]
    found: dict[str, str] = {}
    for node in block[-1].body:
        assert isinstance(node, ast.ImportFrom) and node.level == 1, ast.dump(node)
        for alias in node.names:
            assert alias.asname is not None, f"{alias.name}: write 'X as X' (an explicit re-export for mypy)"
            found[alias.asname] = f"{'.' + node.module if node.module else ''}:{alias.name}"
    return found


def test_every_export_is_imported_for_type_checkers():
    """A name in _EXPORTS is also imported under TYPE_CHECKING, so mypy sees its type, not Any."""
    import roost_core.api as api

    typed = _type_checking_imports()
    missing = [f"from {t.split(':')[0] or '.'} import {t.split(':')[1]} as {name}"
               for name, t in api._EXPORTS.items() if typed.get(name) != t]
    assert not missing, "add under TYPE_CHECKING at the bottom of roost_core/api.py:\n" + "\n".join(missing)
    assert set(typed) == set(api._EXPORTS), sorted(set(typed) - set(api._EXPORTS))
