"""claude-setup's settings.json merge: pure functions, round trips, links."""

from __future__ import annotations

import json
import os
from types import SimpleNamespace

import pytest

from roost_core.api import RoostError, ValidationError
from roost_plugins.passive.setup import (CREATED_MARKER, Target, change, merged, misfit, plan, removed,
                                         settings_target, targets, wired)

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
    found = {tuple(t.profiles): (t.path, t.shared) for t in targets(profiles, base / "settings.json", True)}
    assert found == {("a", "b"): (base / "settings.json", True), ("c",): (tmp_path / "c" / "settings.json", None)}
    relative = tmp_path / "d"
    relative.mkdir()
    os.symlink("../base/settings.json", relative / "settings.json")
    assert settings_target(relative).path == base / "settings.json"  # read (doctor): followed


def test_only_roosts_own_link_into_the_base_is_followed_for_writing(tmp_path):
    base = tmp_path / "base" / "settings.json"
    base.parent.mkdir()
    base.write_text("{}")
    mine = tmp_path / "elsewhere" / "settings.json"  # even named settings.json: not the base's
    mine.parent.mkdir()
    mine.write_text("{}")
    for name, link in (("relative", "../base/settings.json"), ("mine", str(mine)),
                       ("dangling", str(tmp_path / "gone.json")), ("roost", str(base))):
        (tmp_path / name).mkdir()
        os.symlink(link, tmp_path / name / "settings.json")
    for name in ("relative", "mine", "dangling"):
        target = settings_target(tmp_path / name, base, strict=True)
        assert target.problem and "not roost's link" in target.problem
        assert target.path == tmp_path / name / "settings.json"
    assert settings_target(tmp_path / "mine", None, strict=True).problem  # no profiles plugin: no link is roost's
    roost = settings_target(tmp_path / "roost", base, strict=True)
    assert (roost.path, roost.shared, roost.problem) == (base, True, None)


@pytest.mark.parametrize("document, key", [
    ({"hooks": {"StopFailure": "notalist"}}, "hooks.StopFailure is a string, not a list"),
    ({"hooks": None}, "hooks is null, not an object"),
    ({"hooks": [1]}, "hooks is a list, not an object"),
    ({"statusLine": "line"}, "statusLine is a string, not an object"),
    ({"statusLine": {"command": 3}}, "statusLine.command is a number, not a string"),
])
def test_a_key_roost_merges_into_with_the_wrong_type_is_refused_never_replaced(document, key):
    assert misfit(document) == key
    with pytest.raises(ValidationError, match=key.replace(".", r"\.")):
        merged(document, ROOST)
    assert misfit({"hooks": {"Stop": "odd"}, "statusLine": {"type": "command"}}) is None  # not roost's keys


def test_remove_leaves_a_malformed_key_as_it_is():
    settings = {"hooks": {"StopFailure": "notalist"}, "statusLine": {"command": f"{ROOST} statusline"}}
    assert removed(settings) == {"hooks": {"StopFailure": "notalist"}}


def _row(target, remove=False):
    return change(target, ROOST, remove)


def test_remove_deletes_only_the_file_roost_created(tmp_path):
    own = tmp_path / "settings.json"
    assert _row(Target(own, ["p"], shared=None))["action"] == "created"
    assert json.loads((tmp_path / CREATED_MARKER).read_text())["created"] == "settings.json"
    row = _row(Target(own, ["p"]), remove=True)
    assert (row["action"], row["deleted"]) == ("removed", True) and not os.path.lexists(own)
    assert not (tmp_path / CREATED_MARKER).exists() and json.loads(open(row["backup"]).read())["statusLine"]
    own.write_text("{}")  # the user's own
    assert _row(Target(own, ["p"]))["action"] == "updated"
    row = _row(Target(own, ["p"]), remove=True)
    assert row["deleted"] is False and json.loads(own.read_text()) == {} and row["note"]


def test_the_base_file_is_never_recorded_or_deleted_as_roosts(tmp_path):
    base = tmp_path / "settings.json"
    assert _row(Target(base, ["a"], shared=True))["action"] == "created"
    assert not (tmp_path / CREATED_MARKER).exists()
    row = _row(Target(base, ["a"], shared=True), remove=True)
    assert row["deleted"] is False and json.loads(base.read_text()) == {} and row["note"] is None


def test_a_refused_file_is_not_touched(tmp_path):
    own = tmp_path / "settings.json"
    own.write_text('{"hooks": {"StopFailure": {}}}')
    row = _row(Target(own, ["p"]))
    assert row["action"] == "refused" and str(own) in row["error"] and "hooks.StopFailure is an object" in row["error"]
    assert own.read_text() == '{"hooks": {"StopFailure": {}}}' and os.listdir(tmp_path) == ["settings.json"]


class _World:
    """A RoostContext stand-in: the profiles plugin's hook links <base>/settings.json into ``sharing``."""

    def __init__(self, tmp_path, sharing, names=("a", "b")):
        self.home = tmp_path / "home"
        (self.home / ".claude").mkdir(parents=True)
        self.base = self.home / ".claude" / "settings.json"
        self.env = {"HOME": str(self.home)}
        self.sharing = set(sharing)
        self.profiles = []
        for name in names:
            (tmp_path / name).mkdir()
            self.profiles.append(SimpleNamespace(name=name, directory=tmp_path / name))
        self.settings = SimpleNamespace(specs=lambda: [SimpleNamespace(key="profiles.base")], get=lambda key: None)
        self.host = SimpleNamespace(prepare=self.prepare)
        self.calls = []

    def prepare(self, hook, kind, profile, env, ctx):
        assert (hook, kind, env["CLAUDE_CONFIG_DIR"]) == ("roost_prepare_exec", "exec", str(profile.directory))
        self.calls.append(profile.name)
        link = profile.directory / "settings.json"
        if profile.name == "refusing":
            raise RoostError("site says no")
        if profile.name in self.sharing and os.path.exists(self.base) and not os.path.lexists(link):
            os.symlink(self.base, link)


def test_plan_readies_each_profile_and_writes_the_shared_base_once(tmp_path):
    world = _World(tmp_path, sharing={"a", "b"})
    world.base.write_text('{"theme": "dark"}')
    found = plan(world, world.profiles, ROOST, apply=True)
    assert [(t.path, t.profiles, t.shared) for t in found] == [(world.base, ["a", "b"], True)]
    assert world.calls == ["a", "b"]


def test_plan_creates_a_missing_base_for_the_profiles_that_would_share_it(tmp_path):
    world = _World(tmp_path, sharing={"a"})
    found = plan(world, world.profiles, ROOST, apply=True)
    rows = {tuple(t.profiles): (t.path, t.shared, t.created) for t in found}
    assert rows == {("a",): (world.base, True, True), ("b",): (tmp_path / "b" / "settings.json", None, False)}
    assert wired(json.loads(world.base.read_text())) == {"statusline": True, "hook": True}
    assert [r["action"] for r in (change(t, ROOST, False) for t in found)] == ["created", "created"]


def test_plan_takes_its_base_file_away_again_when_no_profile_links_it(tmp_path):
    world = _World(tmp_path, sharing=())
    found = plan(world, world.profiles, ROOST, apply=True)
    assert not os.path.lexists(world.base) and all(t.shared is None for t in found)
    assert not plan(world, world.profiles, ROOST, apply=False)[0].created  # --remove never creates it
    assert not os.path.lexists(world.base)


def test_plan_refuses_a_profile_the_hook_refused(tmp_path):
    world = _World(tmp_path, sharing={"a"}, names=("a", "refusing"))
    world.base.write_text("{}")
    found = {tuple(t.profiles): t for t in plan(world, world.profiles, ROOST, apply=True)}
    assert "site says no" in found[("refusing",)].problem and found[("refusing",)].code == 1
    assert found[("a",)].shared is True


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
