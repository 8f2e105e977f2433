"""The data dir (removed profiles' kept files): the platform's user data dir for claude-lb."""

from __future__ import annotations

from pathlib import Path

from roost_core.paths import Paths, data_dir


def test_linux_uses_xdg_data_home_else_local_share(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    linux = {"CLAUDE_LB_PLATFORM": "linux"}
    assert data_dir({**linux, "XDG_DATA_HOME": "/xdg/data"}) == Path("/xdg/data/claude-lb")
    assert data_dir(linux) == tmp_path / ".local" / "share" / "claude-lb"
    assert data_dir({**linux, "XDG_DATA_HOME": "relative/dir"}) == tmp_path / ".local" / "share" / "claude-lb"


def test_macos_and_windows(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data_dir({"CLAUDE_LB_PLATFORM": "darwin"}) == tmp_path / "Library" / "Application Support" / "claude-lb"
    assert data_dir({"CLAUDE_LB_PLATFORM": "darwin", "XDG_DATA_HOME": "/d"}) == Path("/d/claude-lb")
    assert data_dir({"CLAUDE_LB_PLATFORM": "win32", "LOCALAPPDATA": "/appdata/Local"}) == Path(
        "/appdata/Local/claude-lb")


def test_paths_record_carries_it_apart_from_the_config_dir(tmp_path):
    env = {"CLAUDE_LB_PLATFORM": "linux", "XDG_CONFIG_HOME": str(tmp_path / "c"), "XDG_DATA_HOME": str(tmp_path / "d")}
    paths = Paths.from_env(env)
    assert paths.config_dir == tmp_path / "c" / "claude-lb" and paths.data_dir == tmp_path / "d" / "claude-lb"
    assert Paths(tmp_path / "c", tmp_path / "p", None).data_dir is None  # built by hand: optional


def test_removed_roots_list_the_data_dir_first_then_the_old_config_location(tmp_path):
    from roost_plugins.profiles.removal import removed_root, removed_roots

    paths = Paths(tmp_path / "c", tmp_path / "p", None, tmp_path / "d")
    assert removed_root(paths) == tmp_path / "d" / "removed"
    assert removed_roots(paths) == [tmp_path / "d" / "removed", tmp_path / "c" / "removed"]
    same = Paths(tmp_path / "c", tmp_path / "p", None)
    assert removed_roots(same) == [tmp_path / "c" / "removed"]
