"""The import contract: plugins stand on ``roost_core.api`` and nothing else of the core.

Every module under roost_plugins/, plugins/ and examples/ is parsed (never
imported). It may import ``roost_core`` only as ``roost_core.api`` (tests also
``roost_core.testing``), and may not import another plugin's module: a
built-in plugin is one module or subpackage of ``roost_plugins``; a
third-party plugin is its own distribution and imports no ``roost_plugins``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TREES = ("roost_plugins", "plugins", "examples")
CORE_PUBLIC = {"roost_core.api"}
CORE_PUBLIC_IN_TESTS = CORE_PUBLIC | {"roost_core.testing"}


def _sources() -> list[Path]:
    found = []
    for tree in TREES:
        for path in sorted((ROOT / tree).rglob("*.py")):
            parts = path.relative_to(ROOT).parts
            if any(p.endswith(".egg-info") or p in ("__pycache__", "build", ".venv") for p in parts):
                continue
            found.append(path)
    return found


def _module_name(path: Path) -> str:
    """Dotted name of ``path`` (a src/ layout is skipped: plugins/x/src/pkg/mod.py -> pkg.mod)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[0] in ("plugins", "examples"):
        parts = parts[parts.index("src") + 1:] if "src" in parts else parts[2:]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) for every import in ``path``, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    here = _module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)] if node.level > 1 else anchor
                base = ".".join(anchor + ([base] if base else []))
            # ``from pkg import sub`` may name a submodule: judge pkg.sub as well
            found += [(node.lineno, f"{base}.{alias.name}" if base in ("roost_core", "roost_plugins") else base)
                      for alias in node.names]
    return found


def _plugin_of(module: str) -> str | None:
    """The built-in plugin a ``roost_plugins`` module belongs to (``roost_plugins.x``)."""
    parts = module.split(".")
    if parts[0] != "roost_plugins" or len(parts) < 2:
        return None
    return ".".join(parts[:2])


def _is_test(path: Path) -> bool:
    return "tests" in path.relative_to(ROOT).parts or path.name.startswith("test_") or path.name == "conftest.py"


def _distribution(path: Path) -> str | None:
    """``plugins/NAME`` or ``examples/NAME``: the third-party distribution a file belongs to."""
    parts = path.relative_to(ROOT).parts
    return "/".join(parts[:2]) if parts[0] in ("plugins", "examples") and len(parts) > 2 else None


def third_party_packages() -> dict[str, str]:
    """Top-level package -> its distribution, for every third-party plugin in the repository."""
    return {_module_name(path).split(".")[0]: dist for path in _sources()
            if (dist := _distribution(path)) and not _is_test(path)}


def violations(path: Path, packages: dict[str, str] | None = None) -> list[str]:
    packages = third_party_packages() if packages is None else packages
    here = _module_name(path)
    own = _plugin_of(here)
    allowed_core = CORE_PUBLIC_IN_TESTS if _is_test(path) else CORE_PUBLIC
    rel = path.relative_to(ROOT)
    bad = []
    for line, module in _imports(path):
        top = module.split(".")[0]
        if top == "roost_core" and not any(module == ok or module.startswith(ok + ".") for ok in allowed_core):
            bad.append(f"{rel}:{line}: imports {module} (use roost_core.api)")
        elif top == "roost_plugins" and module != "roost_plugins":
            target = _plugin_of(module)
            if own is None or target != own:
                bad.append(f"{rel}:{line}: imports another plugin's module {module}")
        elif top in packages and packages[top] != _distribution(path):
            bad.append(f"{rel}:{line}: imports another plugin's module {module} (from {packages[top]})")
    return bad


def test_the_trees_hold_sources():
    names = {_module_name(p) for p in _sources()}
    assert "roost_plugins.state_files" in names and "roost_redis.backend" in names


PACKAGES = third_party_packages()


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_plugins_import_the_core_only_through_its_api(path):
    assert violations(path, PACKAGES) == []


def test_the_checker_catches_what_it_should(tmp_path, monkeypatch):
    fake = tmp_path / "roost_plugins"
    (fake / "alpha").mkdir(parents=True)
    (fake / "alpha" / "__init__.py").write_text(
        "from roost_core.api import hookimpl\n"
        "from roost_core import hookimpl\n"
        "from roost_core.probe import scrub\n"
        "from . import helpers\n"
        "from .. import beta\n"
        "from roost_plugins.beta import thing\n"
        "import roost_core.pick\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    found = violations(fake / "alpha" / "__init__.py")
    assert [v.split(": ", 1)[0].rsplit(":", 1)[1] for v in found] == ["2", "3", "5", "6", "7"]


def test_the_checker_catches_a_third_party_plugin_importing_another(tmp_path, monkeypatch):
    for dist, package, source in [("plugins/roost-a", "roost_a", "from roost_b.helpers import x\nimport roost_a.own\n"),
                                  ("examples/roost-b", "roost_b", "from roost_core.api import hookimpl\n")]:
        (tmp_path / dist / "src" / package).mkdir(parents=True)
        (tmp_path / dist / "src" / package / "__init__.py").write_text(source)
    (tmp_path / "roost_plugins").mkdir()
    (tmp_path / "roost_plugins" / "c.py").write_text("import roost_a\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    assert third_party_packages() == {"roost_a": "plugins/roost-a", "roost_b": "examples/roost-b"}
    found = violations(tmp_path / "plugins/roost-a/src/roost_a/__init__.py")
    assert found == ["plugins/roost-a/src/roost_a/__init__.py:1: imports another plugin's module roost_b.helpers "
                     "(from examples/roost-b)"]
    assert violations(tmp_path / "roost_plugins" / "c.py") == [
        "roost_plugins/c.py:1: imports another plugin's module roost_a (from plugins/roost-a)"]
    assert violations(tmp_path / "examples/roost-b/src/roost_b/__init__.py") == []
