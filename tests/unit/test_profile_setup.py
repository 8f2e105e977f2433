"""The profiles plugin's setup and removal, and the core's identity: the rules, function by function."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from roost_core import identity
from roost_core.errors import ValidationError
from roost_plugins.profiles import removal as profile_removal
from roost_plugins.profiles.setup import (DEFAULT_SHARE, SharePolicy, base_dir, ensure_links, is_roost_link,
                                          policy_for, shared_items, write_marker)


@pytest.fixture
def layout(tmp_path):
    base = tmp_path / "base"
    (base / "agents").mkdir(parents=True)
    (base / "agents" / "a.md").write_text("agent\n")
    (base / "CLAUDE.md").write_text("rules\n")
    (base / "settings.json").write_text("{}")
    profile = tmp_path / "tree" / "p"
    profile.mkdir(parents=True)
    return base, profile


def snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): (os.readlink(p) if p.is_symlink() else "d" if p.is_dir() else p.read_text())
            for p in sorted(root.rglob("*"))}


def test_links_made_and_existing_names_win(layout):
    base, profile = layout
    before = snapshot(base)
    (profile / "CLAUDE.md").write_text("mine\n")
    report = ensure_links(profile, SharePolicy(base, DEFAULT_SHARE))
    assert report.linked == ["settings.json", "agents"] and report.own == ["CLAUDE.md"]
    assert (profile / "CLAUDE.md").read_text() == "mine\n"
    assert is_roost_link(profile / "agents", base) and not os.path.lexists(profile / "commands")
    again = ensure_links(profile, SharePolicy(base, DEFAULT_SHARE))
    assert again.linked == [] and sorted(again.present) == ["agents", "settings.json"]
    assert snapshot(base) == before


def test_unwanted_roost_links_go_as_links_and_user_links_stay(layout, tmp_path):
    base, profile = layout
    ensure_links(profile, SharePolicy(base, DEFAULT_SHARE))
    os.symlink(tmp_path / "mine", profile / "hooks")  # a link of the user's (points elsewhere)
    report = ensure_links(profile, SharePolicy(base, ("CLAUDE.md",)))
    assert sorted(report.unlinked) == ["agents", "settings.json"]
    assert os.path.islink(profile / "hooks") and (base / "agents" / "a.md").exists()
    report = ensure_links(profile, SharePolicy(base, DEFAULT_SHARE, isolated=True))
    assert report.unlinked == ["CLAUDE.md"] and (base / "CLAUDE.md").exists()


def test_the_base_itself_is_never_linked_into(layout):
    base, _ = layout
    assert ensure_links(base, SharePolicy(base, DEFAULT_SHARE)).linked == []


@pytest.mark.parametrize("share", [[".credentials.json"], [".claude.json"], ["../x"], ["a/b"], [""], "CLAUDE.md",
                                   [".roost-profile.json"], [5]])
def test_bad_share_lists_are_validation(share):
    with pytest.raises(ValidationError):
        shared_items({"share": share})


def test_share_history_and_base(tmp_path):
    assert shared_items({"share": ["CLAUDE.md"], "share_history": True}) == ("CLAUDE.md", "projects",
                                                                            "history.jsonl")
    assert base_dir({}, {"HOME": str(tmp_path)}) == tmp_path / ".claude"
    assert base_dir({"base": "~/x"}, {"HOME": str(tmp_path)}) == tmp_path / "x"
    with pytest.raises(ValidationError):
        base_dir({"base": "relative"}, {})
    with pytest.raises(ValidationError):
        shared_items({"share_history": "yes"})


def test_isolation_from_config_or_marker(layout):
    _, profile = layout
    env = {"HOME": "/nowhere"}
    assert not policy_for({}, env, "p", profile).isolated
    assert policy_for({"profiles": {"p": {"isolated": True}}}, env, "p", profile).isolated
    write_marker(profile, isolated=True)
    assert policy_for({}, env, "p", profile).isolated
    assert oct(os.stat(profile / ".roost-profile.json").st_mode & 0o777) == "0o600"


def test_plan_set_aside_and_restore(layout, tmp_path):
    base, profile = layout
    ensure_links(profile, SharePolicy(base, DEFAULT_SHARE))
    (profile / ".credentials.json").write_text("{}")
    (profile / ".roost-profile.json").write_text("{}")
    (profile / "projects").mkdir()
    (profile / "projects" / "s.jsonl").write_text("session\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep\n")
    os.symlink(outside, profile / "projects" / "link")
    identity.import_block(profile, {"accountUuid": "u", "emailAddress": "e@x"})
    dismantle = profile_removal.plan(profile, base)
    assert dismantle.deleted == [".claude.json", ".credentials.json", ".roost-profile.json"]
    assert sorted(dismantle.unlinked) == ["CLAUDE.md", "agents", "settings.json"]
    assert dismantle.kept == ["projects"]
    root = tmp_path / "removed"
    kept = profile_removal.set_aside(dismantle, root, "p", now=0)
    assert kept == root / "p-19700101T000000Z" and not profile.exists()
    assert os.readlink(kept / "projects" / "link") == str(outside)
    assert (outside / "keep.txt").exists() and (base / "agents" / "a.md").exists()
    [listed] = profile_removal.kept_dirs(root)
    assert (listed.profile, listed.removed_at, listed.items) == ("p", "1970-01-01T00:00:00Z", ["projects/"])
    second = profile_removal.set_aside(profile_removal.Dismantle(_fresh(tmp_path), kept=["x"]), root, "p", now=0)
    assert second.name == "p-19700101T000000Z-2"
    profile.mkdir()
    (profile / "projects").mkdir()
    restored, left = profile_removal.restore_into(kept, profile)
    assert (restored, left) == ([], ["projects"]) and kept.exists()


def _fresh(tmp_path: Path) -> Path:
    directory = tmp_path / "fresh"
    directory.mkdir()
    (directory / "x").write_text("x")
    return directory


def test_purge_never_follows_links(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep\n")
    profile = tmp_path / "p"
    (profile / "deep").mkdir(parents=True)
    os.symlink(outside, profile / "deep" / "link")
    os.symlink(outside, profile / "top-link")
    profile_removal.purge(profile)
    assert not profile.exists() and (outside / "keep.txt").read_text() == "keep\n"


def test_identity_import_keeps_other_keys_and_refuses_links(tmp_path):
    profile = tmp_path / "p"
    profile.mkdir()
    (profile / ".claude.json").write_text(json.dumps({"numStartups": 4, "oauthAccount": {"old": 1}}))
    block = {"accountUuid": "u-1", "emailAddress": "a@x", "organizationUuid": "o", "organizationName": "O"}
    assert identity.import_block(profile, block)
    doc = json.loads((profile / ".claude.json").read_text())
    assert doc == {"numStartups": 4, "oauthAccount": block}
    assert not identity.holds_only_identity(profile / ".claude.json")
    other = tmp_path / "q"
    other.mkdir()
    os.symlink(profile / ".claude.json", other / ".claude.json")
    assert not identity.import_block(other, block)
    accounts = {"a": identity.Account.from_block(block), "b": identity.Account.from_block(block),
                "c": identity.Account.from_block({**block, "accountUuid": "u-2"}), "d": None}
    assert identity.shared_accounts(accounts) == {"a": ["b"], "b": ["a"]}
    assert identity.source_for(None, tmp_path) == tmp_path / ".claude.json"
    assert identity.source_for(tmp_path / "x" / ".credentials.json", tmp_path) == tmp_path / "x" / ".claude.json"
    (tmp_path / ".claude").mkdir()
    default = tmp_path / ".claude" / ".credentials.json"
    assert identity.source_for(default, tmp_path) == tmp_path / ".claude.json"


def test_move_across_filesystems_copies_links_as_links(tmp_path, monkeypatch):
    import errno

    outside = tmp_path / "outside"
    outside.mkdir()
    source = tmp_path / "src"
    (source / "projects").mkdir(parents=True)
    (source / "projects" / "s.jsonl").write_text("session\n")
    os.symlink(outside, source / "projects" / "link")
    os.symlink(outside, source / "top-link")
    (source / "file").write_text("f")
    real_rename = os.rename

    def cross_device(a, b):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "rename", cross_device)
    target = tmp_path / "dst"
    target.mkdir()
    for name in ("projects", "top-link", "file"):
        profile_removal.move_entry(source / name, target / name)
    monkeypatch.setattr(os, "rename", real_rename)
    assert os.listdir(source) == [] and outside.exists()
    assert (target / "projects" / "s.jsonl").read_text() == "session\n"
    assert os.readlink(target / "projects" / "link") == str(outside) and os.readlink(target / "top-link") == str(outside)
    assert (target / "file").read_text() == "f"


def test_a_users_credentials_alias_into_the_base_is_never_taken_away(layout):
    base, profile = layout
    (base / ".credentials.json").write_text("{}")
    os.symlink(base / ".credentials.json", profile / ".credentials.json")
    os.symlink(base / ".claude.json", profile / ".claude.json")
    report = ensure_links(profile, SharePolicy(base, DEFAULT_SHARE, isolated=True))
    assert report.unlinked == []
    assert os.path.islink(profile / ".credentials.json") and os.path.islink(profile / ".claude.json")


def test_a_changed_base_moves_roosts_links_only(layout, tmp_path):
    old, profile = layout
    ensure_links(profile, SharePolicy(old, DEFAULT_SHARE))
    assert json.loads((profile / ".roost-profile.json").read_text())["linked_from"] == [str(old)]
    os.symlink(old / "agents", profile / "hooks")  # the user's: into the old base, another name
    new = tmp_path / "new"
    (new / "agents").mkdir(parents=True)
    (new / "CLAUDE.md").write_text("new rules\n")
    report = ensure_links(profile, SharePolicy(new, DEFAULT_SHARE))
    assert sorted(report.linked) == ["CLAUDE.md", "agents"] and report.unlinked == ["settings.json"]
    assert report.own == ["hooks"] and os.readlink(profile / "hooks") == str(old / "agents")
    assert os.readlink(profile / "agents") == str(new / "agents")
    assert json.loads((profile / ".roost-profile.json").read_text())["linked_from"] == [str(new)]
    assert sorted(os.listdir(profile)) == [".roost-profile.json", "CLAUDE.md", "agents", "hooks"]
    assert (old / "settings.json").read_text() == "{}" and (old / "agents" / "a.md").exists()


def test_an_interrupted_base_change_is_finished_and_a_changed_link_is_left(layout, tmp_path):
    from roost_plugins.profiles.setup import _relink

    old, profile = layout
    new = tmp_path / "new"
    new.mkdir()
    (new / "CLAUDE.md").write_text("new\n")
    (new / "settings.json").write_text("{}")
    os.symlink(old / "CLAUDE.md", profile / "CLAUDE.md")  # linked from old ...
    os.symlink(new / "settings.json", profile / "settings.json")  # ... and already from new
    write_marker(profile, linked_from=[str(old), str(new)], isolated=False)
    report = ensure_links(profile, SharePolicy(new, ("CLAUDE.md", "settings.json")))
    assert report.linked == ["CLAUDE.md"] and report.present == ["settings.json"]
    assert json.loads((profile / ".roost-profile.json").read_text()) == {"isolated": False,
                                                                        "linked_from": [str(new)]}
    # The link changed under roost's feet (the user's now): it stays, no temp link is left.
    assert not _relink(profile / "CLAUDE.md", str(old / "CLAUDE.md"), new / "CLAUDE.md")
    assert os.readlink(profile / "CLAUDE.md") == str(new / "CLAUDE.md")
    assert not [n for n in os.listdir(profile) if n.endswith(".roost-tmp")]


def test_a_marker_roost_cannot_read_is_left_alone(layout, tmp_path):
    old, profile = layout
    (profile / ".roost-profile.json").write_text("{not json")
    os.symlink(old / "CLAUDE.md", profile / "CLAUDE.md")
    new = tmp_path / "new"
    new.mkdir()
    (new / "CLAUDE.md").write_text("new\n")
    report = ensure_links(profile, SharePolicy(new, ("CLAUDE.md",)))
    assert report.own == ["CLAUDE.md"] and os.readlink(profile / "CLAUDE.md") == str(old / "CLAUDE.md")
    assert (profile / ".roost-profile.json").read_text() == "{not json"


def test_an_isolated_profiles_marker_goes_with_its_kept_files_and_stays_there(layout, tmp_path):
    base, profile = layout
    write_marker(profile, isolated=True)
    (profile / ".credentials.json").write_text("{}")
    (profile / "projects").mkdir()
    dismantle = profile_removal.plan(profile, base)
    assert dismantle.kept == [".roost-profile.json", "projects"] and dismantle.deleted == [".credentials.json"]
    kept = profile_removal.set_aside(dismantle, tmp_path / "removed", "p", now=0)
    assert profile_removal.kept_isolated(kept)
    profile.mkdir()
    assert profile_removal.restore_into(kept, profile) == (["projects"], [])
    assert not kept.exists() and not (profile / ".roost-profile.json").exists()


def test_a_marker_written_meanwhile_keeps_its_keys(layout, monkeypatch):
    """exec records the base while an add records --isolated: neither write loses the other's key."""
    from roost_plugins.profiles import setup as profile_setup

    base, profile = layout
    real, calls = profile_setup._marker_bytes, []

    def concurrent(path):
        calls.append(path)
        if len(calls) == 3:  # between exec's read and its rename (only_if), an add writes the marker
            (profile / ".roost-profile.json").write_text('{"isolated": true}\n')
        return real(path)

    monkeypatch.setattr(profile_setup, "_marker_bytes", concurrent)
    ensure_links(profile, SharePolicy(base, DEFAULT_SHARE))
    doc = json.loads((profile / ".roost-profile.json").read_text())
    assert doc == {"isolated": True, "linked_from": [str(base)]} and len(calls) == 5  # read, retried
