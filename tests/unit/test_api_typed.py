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


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None,
                    reason="mypy is not installed (pip install -e '.[test]' installs it)")
def test_the_api_the_modules_it_exports_and_the_engines_are_mypy_clean():
    modules = sorted({"roost_core.api", *exported_modules(), *KERNEL_AND_ENGINES})
    args = [arg for module in modules for arg in ("-m", module)]
    # silent: modules outside the API are followed for their types but not judged here.
    run = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", "/dev/null", "--follow-imports=silent",
                          "--no-error-summary", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr


def _mypy(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", "/dev/null", "--no-error-summary", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None,
                    reason="mypy is not installed (pip install -e '.[test]' installs it)")
def test_the_core_and_the_built_in_plugins_are_mypy_clean_as_a_whole():
    # Every module judged, not only the API's: about 7 s on the 2-core box (no cache).
    run = _mypy("-p", "roost_core", "-p", "roost_plugins")
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None,
                    reason="mypy is not installed (pip install -e '.[test]' installs it)")
def test_the_redis_plugin_is_mypy_clean():
    # It stands on roost_core.api like any third party: its own mypy run must pass too (about 4 s).
    run = _mypy(str(Path("plugins", "roost-redis", "src", "roost_redis")))
    assert run.returncode == 0, run.stdout + run.stderr


def test_py_typed_ships_with_the_package():
    assert (ROOT / "roost_core" / "py.typed").is_file()
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["roost_core"]
    assert any(dep.startswith("mypy") for dep in config["project"]["optional-dependencies"]["test"])
