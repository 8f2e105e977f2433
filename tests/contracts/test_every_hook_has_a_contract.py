"""Meta-test: every hookspec has a contract test that installs a third-party package through an
entry point and drives it through the real ``roost`` (datasette's test_plugin_hooks_have_tests)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from roost_core import hookspecs

HERE = Path(__file__).parent
HOOKS = sorted(name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("roost_"))


def test_the_hook_list_is_read_from_the_specs():
    assert "roost_register_strategies" in HOOKS and len(HOOKS) >= 10


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_third_party_contract_test(hook):
    path = HERE / f"test_hook_{hook}.py"
    assert path.is_file(), f"no contract test for {hook}: write {path.relative_to(HERE.parents[1])}"
    source = path.read_text()
    assert "third_party(" in source, f"{path.name} must install its plugin through an entry point (third_party)"
    assert "roost_run(" in source, f"{path.name} must drive the plugin through the real roost (roost_run)"
    assert f"def {hook}(" in source or hook.startswith("roost_register_"), path.name
    assert f"def {hook}" in source, f"{path.name} must implement {hook} in its third-party module"


def test_every_entry_point_kind_is_documented():
    from roost_core.plugins import KIND_HOOKS

    doc = (HERE.parents[1] / "docs" / "PLUGINS.md").read_text()
    registering = doc.split("## Registering", 1)[1].split("\n## ", 1)[0]
    missing = [kind for kind in KIND_HOOKS if f"`{kind}`" not in registering]
    assert not missing, f"entry-point kinds not listed in PLUGINS.md 'Registering': {missing}"
    assert set(KIND_HOOKS.values()) == set(HOOKS), "every hookspec has exactly one entry-point kind"
