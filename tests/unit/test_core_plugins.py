"""PluginHost: discovery through real EntryPoint objects, isolation, lazy kinds."""

from __future__ import annotations

import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from roost_core.errors import ValidationError
from roost_core.plugins import PluginEntry, PluginHost, split_entry_name

sys.path.insert(0, str(Path(__file__).parent / "plugin_fixtures"))
GROUP = "roost.plugins"


def entries(eps):
    """Hand-built EntryPoint objects as the host's entries (no distribution behind them)."""
    return [PluginEntry(ep.name, ep.value, *split_entry_name(ep.name), None, None, ep.load) for ep in eps]


def host_for(*pairs: tuple[str, str], disabled=()):
    warnings: list[str] = []
    eps = [EntryPoint(name, value, GROUP) for name, value in pairs]
    host = PluginHost(entries=entries(eps), disabled=disabled, warn=warnings.append)
    return host, warnings


def test_split_entry_name():
    assert split_entry_name("strategy.least-used") == ("strategy", "least-used")
    assert split_entry_name("mything") == ("*", "mything")
    assert split_entry_name("bogus.kind") == ("*", "bogus.kind")


def test_good_plugin_is_found_through_its_entry_point():
    host, warnings = host_for(("strategy.alphabetical", "good_strategy"))
    assert "alphabetical" in host.registry("strategy")
    assert warnings == []


def test_import_error_is_a_warning_and_the_rest_keeps_working():
    host, warnings = host_for(("strategy.broken", "broken_import"), ("strategy.alphabetical", "good_strategy"))
    assert list(host.registry("strategy")) == ["alphabetical"]
    assert len(warnings) == 1 and "'broken'" in warnings[0] and "--disable-plugin broken" in warnings[0]
    assert "Traceback" not in warnings[0]


def test_asking_for_a_failed_plugin_by_name_is_a_validation_error():
    host, _ = host_for(("strategy.broken", "broken_import"))
    with pytest.raises(ValidationError) as info:
        host.get("strategy", "broken")
    assert "failed to load" in info.value.message


def test_hook_typo_is_reported_and_plugin_skipped():
    host, warnings = host_for(("strategy.typo", "typo_hook"))
    assert host.registry("strategy") == {}
    assert any("roost_register_strategie" in w and "typo" in w for w in warnings)
    assert host.pm.get_plugin("typo") is None


def test_name_clash_names_both_plugins():
    host, _ = host_for(("strategy.alphabetical", "good_strategy"), ("strategy.clash", "clash"))
    with pytest.raises(ValidationError) as info:
        host.registry("strategy")
    assert "alphabetical" in info.value.message and "clash" in info.value.message


def test_registry_hook_that_raises_is_isolated():
    host, warnings = host_for(("strategy.raising", "raising_registry"), ("strategy.alphabetical", "good_strategy"))
    assert list(host.registry("strategy")) == ["alphabetical"]
    assert any("boom" in w for w in warnings)


def test_disabled_plugin_is_never_imported():
    sys.modules.pop("broken_import", None)
    host, warnings = host_for(("strategy.broken", "broken_import"), disabled=["broken"])
    assert host.registry("strategy") == {}
    assert warnings == [] and "broken_import" not in sys.modules


def test_lookup_by_name_loads_only_that_plugin():
    sys.modules.pop("broken_import", None)
    host, warnings = host_for(("strategy.alphabetical", "good_strategy"), ("strategy.broken", "broken_import"))
    assert host.get("strategy", "alphabetical").name == "alphabetical"
    assert "broken_import" not in sys.modules and warnings == []


def test_unknown_name_lists_available():
    host, _ = host_for(("strategy.alphabetical", "good_strategy"))
    with pytest.raises(ValidationError) as info:
        host.get("strategy", "nope")
    assert info.value.details["available"] == ["alphabetical"]


def test_builtin_entry_points_all_load_and_match_specs():
    """Every entry point roost ships loads, and no impl misses a hookspec (check_pending)."""
    warnings: list[str] = []
    host = PluginHost(warn=warnings.append)
    host.load_all()
    host.pm.check_pending()
    assert host.failures == [], [f.message() for f in host.failures]
    assert {e.entry_name for e in host.entries} >= {"state.files", "strategy.sticky"}
