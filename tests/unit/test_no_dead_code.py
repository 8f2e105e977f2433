"""Dead code named in the core's clean-up stays gone, and a refresh status is written once: the engine's
constant (``roost_core.api.SKIPPED_LEASED``...), never as a literal string in another module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STATUSES = {"skipped_leased", "skipped_not_due", "already_fresh", "nothing_to_refresh"}
HOME = ROOT / "roost_core" / "refresh.py"


def _modules() -> list[Path]:
    found = [*(ROOT / "roost_core").rglob("*.py"), *(ROOT / "roost_plugins").rglob("*.py")]
    for tree in ("plugins", "examples"):
        found += [p for p in (ROOT / tree).rglob("*.py") if "tests" not in p.parts and "build" not in p.parts]
    return sorted(found)


def _status_literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return [f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}" for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and node.value in STATUSES]


def test_refresh_statuses_are_written_only_by_the_engine():
    hits = [hit for path in _modules() if path != HOME for hit in _status_literals(path)]
    assert not hits, "use the constant from roost_core.api:\n" + "\n".join(hits)
    assert len(_status_literals(HOME)) == len(STATUSES)  # each defined once, where it belongs


def test_the_checker_sees_a_literal(tmp_path, monkeypatch):
    module = tmp_path / "roost_plugins" / "x.py"
    module.parent.mkdir()
    module.write_text('TEXT = {"skipped_leased": "leased"}\n')
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    assert _status_literals(module) == ["roost_plugins/x.py:1: 'skipped_leased'"]


@pytest.mark.parametrize("module,name", [("cli/common.py", "duration_type"), ("output.py", "color"),
                                         ("pick.py", "UNCERTAIN"), ("interfaces.py", "Registry")])
def test_removed_dead_code_stays_gone(module, name):
    tree = ast.parse((ROOT / "roost_core" / module).read_text(encoding="utf-8"))
    defined = {node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    defined |= {target.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
                for target in node.targets if isinstance(target, ast.Name)}
    assert name not in defined
