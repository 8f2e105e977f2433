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


def violations(path: Path) -> list[str]:
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
    return bad


def test_the_trees_hold_sources():
    names = {_module_name(p) for p in _sources()}
    assert "roost_plugins.state_files" in names and "roost_redis.backend" in names


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_plugins_import_the_core_only_through_its_api(path):
    assert violations(path) == []


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
