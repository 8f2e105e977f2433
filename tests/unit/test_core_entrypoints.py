"""The metadata fast path finds exactly what importlib.metadata finds."""

from __future__ import annotations

import sys
from importlib import metadata

from roost_core import ENTRY_POINT_GROUP
from roost_core.entrypoints import EntryPoint, entry_points


def _reference(group):
    return sorted((ep.name, ep.value, ep.dist.name, ep.dist.version) for ep in metadata.entry_points(group=group))


def test_same_entry_points_as_importlib_metadata():
    ours = sorted((ep.name, ep.value, ep.dist, ep.version) for ep in entry_points(ENTRY_POINT_GROUP))
    assert ours == _reference(ENTRY_POINT_GROUP) and len(ours) >= 20
    scripts = sorted((ep.name, ep.value, ep.dist, ep.version) for ep in entry_points("console_scripts"))
    assert scripts == _reference("console_scripts")


def test_first_distribution_on_sys_path_wins_and_egg_info_counts(tmp_path, monkeypatch):
    first, second = tmp_path / "first", tmp_path / "second"
    for root, version in ((first, "2.0"), (second, "1.0")):
        meta = root / f"roost_strategy_x-{version}.dist-info"
        meta.mkdir(parents=True)
        (meta / "METADATA").write_text(f"Metadata-Version: 2.1\nName: roost-strategy-x\nVersion: {version}\n\nbody\n")
        (meta / "entry_points.txt").write_text(f"[roost.plugins]\nstrategy.x = x_mod:plugin_{version[0]}\n\n"
                                               "[console_scripts]\nnot = ours:main\n")
    egg = second / "other.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Name: other\nVersion: 0.1\n")
    (egg / "entry_points.txt").write_text("# comment\n[roost.plugins]\nfeed.y = y_mod : Feed.make [extra]\n")
    monkeypatch.setattr(sys, "path", [str(first), str(second), str(tmp_path / "missing")])
    assert entry_points("roost.plugins") == [
        EntryPoint("strategy.x", "x_mod:plugin_2", "roost-strategy-x", "2.0"),
        EntryPoint("feed.y", "y_mod : Feed.make [extra]", "other", "0.1")]
    assert sorted((e.name, e.value) for e in metadata.entry_points(group="roost.plugins")) == [
        ("feed.y", "y_mod : Feed.make [extra]"), ("strategy.x", "x_mod:plugin_2")]


def test_load_walks_module_and_attributes(tmp_path, monkeypatch):
    (tmp_path / "ep_target_mod.py").write_text("class Feed:\n    make = staticmethod(lambda: 42)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    loaded = EntryPoint("feed.y", "ep_target_mod : Feed.make [extra]", None, None).load()
    assert loaded() == 42
