"""claude-setup's settings.json merge: pure functions, round trips, links."""

from __future__ import annotations

import os

from roost_plugins.passive.setup import merged, removed, settings_target, targets, wired

ROOST = "/opt/roost/bin/roost"


def test_merge_into_an_empty_document_then_remove():
    new, kept = merged({}, ROOST)
    assert kept is None and wired(new) == {"statusline": True, "hook": True}
    assert new["statusLine"]["command"] == f"{ROOST} statusline"
    assert removed(new) == {}


def test_the_users_statusline_is_kept_as_then_and_restored():
    theirs = {"statusLine": {"type": "command", "command": "bash -c 'echo \"$X\"'", "padding": 1}, "env": {"A": "1"}}
    new, kept = merged(theirs, ROOST)
    assert kept == "bash -c 'echo \"$X\"'" and new["statusLine"]["padding"] == 1 and new["env"] == {"A": "1"}
    assert new["statusLine"]["command"].startswith(f"{ROOST} statusline --then ")
    assert merged(new, ROOST)[0] == new  # applying twice changes nothing
    assert removed(new) == theirs


def test_hooks_of_the_user_stay_and_ours_is_added_once():
    settings = {"hooks": {"StopFailure": [{"matcher": "", "hooks": [{"type": "command", "command": "say oops"}]}],
                          "Stop": [{"hooks": [{"type": "command", "command": "true"}]}]}}
    new, _ = merged(settings, ROOST)
    assert new["hooks"]["Stop"] == settings["hooks"]["Stop"]
    assert len(new["hooks"]["StopFailure"]) == 2 and merged(new, ROOST)[0] == new
    back = removed(new)
    assert back["hooks"] == settings["hooks"] and "statusLine" not in back


def test_another_roost_path_counts_as_ours():
    new, _ = merged({}, "roost")
    assert wired(new)["statusline"] and merged(new, ROOST)[0]["statusLine"]["command"] == f"{ROOST} statusline"


def test_profiles_linking_one_base_file_are_one_target(tmp_path):
    base = tmp_path / "base"
    base.mkdir()
    (base / "settings.json").write_text("{}")
    profiles = []
    for name in ("a", "b", "c"):
        directory = tmp_path / name
        directory.mkdir()
        if name != "c":
            os.symlink(base / "settings.json", directory / "settings.json")
        profiles.append(type("P", (), {"name": name, "directory": directory})())
    found = {tuple(t.profiles): (t.path, t.shared) for t in targets(profiles)}
    assert found == {("a", "b"): (base / "settings.json", True), ("c",): (tmp_path / "c" / "settings.json", False)}
    relative = tmp_path / "d"
    relative.mkdir()
    os.symlink("../base/settings.json", relative / "settings.json")
    assert settings_target(relative).path == base / "settings.json"


def test_a_statusline_without_type_is_restored_exactly():
    theirs = {"statusLine": {"command": "~/bin/line"}}
    new, kept = merged(theirs, ROOST)
    assert kept == "~/bin/line" and new["statusLine"]["command"] == f"{ROOST} statusline --then '~/bin/line'"
    assert removed(new) == theirs


def test_backups_within_one_second_never_replace_each_other(tmp_path, monkeypatch):
    from roost_plugins.passive import setup

    monkeypatch.setattr(setup.time, "strftime", lambda *a: "20261207T120000Z")
    path = tmp_path / "settings.json"
    path.write_text('{"x": 1}')
    first = setup.write_settings(path, path.read_bytes(), {"x": 2})
    second = setup.write_settings(path, path.read_bytes(), {"x": 3})
    assert first != second
    assert [open(p).read() for p in (first, second)] == ['{"x": 1}', '{\n  "x": 2\n}\n']
