"""remove / rename / removed / add --restore through the real roost: a user's work is never lost.

remove deletes only what roost owns (credentials, its own files, its links)
and keeps everything else in <data dir>/removed/<name>-<UTC time>/ (the
platform's user data dir: $XDG_DATA_HOME/claude-lb here); nothing is
ever deleted through a symbolic link.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from roostkit import canary


@pytest.fixture
def base(roost_env) -> Path:
    base = roost_env.home / ".claude"
    (base / "agents").mkdir(parents=True)
    (base / "agents" / "reviewer.md").write_text("keep me\n")
    (base / "CLAUDE.md").write_text("# my rules\n")
    (base / "settings.json").write_text("{}\n")
    return base


def used_profile(env, name: str) -> Path:
    """A profile after claude ran in it: shared links, .claude.json, projects/, backups."""
    src = env.make_profile(f"{name}-src")
    assert env.run("add", name, "--from", str(src)).returncode == 0, name
    os.remove(src)
    os.rmdir(src.parent)
    profile = env.profiles / name
    (profile / "projects" / "-home-me-app").mkdir(parents=True)
    (profile / "projects" / "-home-me-app" / "session.jsonl").write_text('{"turn": 1}\n')
    (profile / ".claude.json").write_text(json.dumps({"numStartups": 3, "projects": {"/home/me/app": {}}}))
    (profile / "backups").mkdir()
    (profile / "backups" / ".claude.json.backup").write_text("{}")
    return profile


def test_remove_keeps_the_users_files_and_never_follows_a_link(roost_env, base):
    profile = used_profile(roost_env, "work")
    assert os.readlink(profile / "agents") == str(base / "agents")
    outside = roost_env.root / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("survives\n")
    os.symlink(outside, profile / "notes")  # the user's own link: kept as a link, target untouched
    rc, out = roost_env.run_json("remove", "work")
    assert rc == 0, out
    data = out["data"]
    assert data["deleted"] == [".credentials.json", ".roost-profile.json"]  # the marker records the base
    assert data["unlinked"] == ["CLAUDE.md", "agents", "settings.json"]
    assert data["kept"] == [".claude.json", "backups", "notes", "projects"]
    kept = Path(data["kept_in"])
    # The platform's user data dir ($XDG_DATA_HOME/claude-lb), not the config dir.
    assert kept.parent == roost_env.data / "removed" and kept.name.startswith("work-")
    assert roost_env.data == roost_env.root / "xdg-data" / "claude-lb"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o700
    assert not (roost_env.config / "removed").exists()
    assert (kept / "projects" / "-home-me-app" / "session.jsonl").read_text() == '{"turn": 1}\n'
    assert os.readlink(kept / "notes") == str(outside)
    assert not profile.exists() and not os.path.lexists(profile)
    # Shared targets and the user's link target survive.
    assert (base / "agents" / "reviewer.md").read_text() == "keep me\n" and (base / "CLAUDE.md").exists()
    assert (outside / "precious.txt").read_text() == "survives\n"
    rc, listed = roost_env.run_json("removed")
    assert rc == 0 and [k["profile"] for k in listed["data"]] == ["work"]
    assert listed["data"][0]["path"] == str(kept) and "projects/" in listed["data"][0]["items"]
    proc = roost_env.run("removed")
    assert proc.stdout.split("\t")[0] == "work"


def test_remove_says_what_was_kept(roost_env, base):
    used_profile(roost_env, "work")
    proc = roost_env.run("remove", "work")
    assert proc.returncode == 0 and proc.stdout == "work\n"
    assert "Kept .claude.json, backups/, projects/ in " in proc.stderr
    assert "roost add work --restore" in proc.stderr


def test_remove_of_a_bare_profile_keeps_nothing(roost_env, base):
    src = roost_env.make_profile("src")
    assert roost_env.run("add", "plain", "--from", str(src)).returncode == 0
    rc, out = roost_env.run_json("remove", "plain")
    assert rc == 0 and out["data"]["kept"] == [] and out["data"]["kept_in"] is None
    assert not (roost_env.data / "removed").exists() or not any((roost_env.data / "removed").iterdir())


def test_restore_brings_the_kept_files_back(roost_env, base):
    used_profile(roost_env, "work")
    rc, out = roost_env.run_json("remove", "work")
    kept = Path(out["data"]["kept_in"])
    src = roost_env.make_profile("fresh-login")
    rc, out = roost_env.run_json("add", "work", "--restore", "--from", str(src))
    assert rc == 0, out
    assert sorted(out["data"]["restored"]) == [".claude.json", "backups", "projects"]
    profile = roost_env.profiles / "work"
    assert (profile / "projects" / "-home-me-app" / "session.jsonl").exists()
    assert json.loads((profile / ".claude.json").read_text())["numStartups"] == 3
    assert os.readlink(profile / "agents") == str(base / "agents")
    assert not kept.exists()
    assert roost_env.run_json("removed")[1]["data"] == []
    rc, out = roost_env.run_json("add", "other", "--restore", "--from", str(src))
    assert rc == 3 and out["error"]["code"] == "NOT_FOUND" and not (roost_env.profiles / "other").exists()


def test_purge_lists_then_deletes_everything_but_never_through_a_link(roost_env, base):
    profile = used_profile(roost_env, "work")
    outside = roost_env.root / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("survives\n")
    os.symlink(outside, profile / "projects" / "linked")
    proc = roost_env.run("remove", "work", "--purge", "--json")
    assert proc.returncode == 0, proc.stderr
    assert "--purge deletes everything in" in proc.stderr and "projects/" in proc.stderr
    data = json.loads(proc.stdout)["data"]
    assert data["purged"] is True and "projects" in data["deleted"] and data["kept_in"] is None
    assert not profile.exists()
    assert (outside / "precious.txt").read_text() == "survives\n"
    assert (base / "agents" / "reviewer.md").exists()
    assert not (roost_env.data / "removed").exists() and not (roost_env.config / "removed").exists()


def test_purge_asks_on_a_terminal(roost_env, base):
    import pty
    import subprocess

    from roostkit import ROOST

    profile = used_profile(roost_env, "work")
    primary, secondary = pty.openpty()
    os.write(primary, b"n\n")  # the answer waits in the terminal's buffer
    proc = subprocess.run([ROOST, "remove", "work", "--purge"], env=roost_env.env(), stdin=secondary,
                          capture_output=True, text=True, timeout=30)
    os.close(secondary)
    os.close(primary)
    assert proc.returncode == 4 and "nothing was deleted" in proc.stderr
    assert (profile / ".credentials.json").exists()
    primary, secondary = pty.openpty()
    proc = subprocess.run([ROOST, "remove", "work", "--purge", "--yes"], env=roost_env.env(), stdin=secondary,
                          capture_output=True, text=True, timeout=30)
    os.close(secondary)
    os.close(primary)
    assert proc.returncode == 0 and not profile.exists()


def test_remove_of_a_symlinked_profile_dir_unlinks_only(roost_env, base):
    real = roost_env.root / "elsewhere" / "acct"
    real.mkdir(parents=True)
    src = roost_env.make_profile("src")
    (real / ".credentials.json").write_bytes(src.read_bytes())
    (real / "projects").mkdir()
    os.symlink(real, roost_env.profiles / "linked")
    proc = roost_env.run("remove", "linked", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)["data"]
    assert data["link_target"] == str(real) and "removed the link only" in proc.stderr
    assert not os.path.lexists(roost_env.profiles / "linked")
    assert (real / ".credentials.json").exists() and (real / "projects").is_dir()


def test_remove_with_an_unwritable_cache_still_succeeds(roost_env, base):
    used_profile(roost_env, "work")
    roost_env.config.mkdir(parents=True, exist_ok=True)
    health = roost_env.config / "health.json"
    if health.exists():
        health.unlink()
    health.mkdir()  # the cache cannot be written: the removal still stands, with a warning
    proc = roost_env.run("remove", "work")
    assert proc.returncode == 0, proc.stderr
    assert "could not update roost's state" in proc.stderr
    assert not (roost_env.profiles / "work").exists()


def test_rename_refuses_an_occupied_destination_and_force_keeps_it(roost_env, base):
    used_profile(roost_env, "old")
    dest = roost_env.profiles / "new"
    dest.mkdir()
    (dest / "projects").mkdir()
    (dest / "projects" / "mine.jsonl").write_text("dest history\n")
    rc, out = roost_env.run_json("rename", "old", "new")
    assert rc == 7 and out["error"]["code"] == "CONFLICT"
    assert (dest / "projects" / "mine.jsonl").exists() and (roost_env.profiles / "old").exists()
    rc, out = roost_env.run_json("rename", "old", "new", "--force")
    assert rc == 0, out
    kept = Path(out["data"]["kept_in"])
    assert (kept / "projects" / "mine.jsonl").read_text() == "dest history\n"
    assert (dest / "projects" / "-home-me-app" / "session.jsonl").exists()
    assert os.readlink(dest / "agents") == str(base / "agents")
    assert (roost_env.run("list").stdout.split()) == ["new"]


def test_rename_into_an_empty_directory_needs_no_force(roost_env, base):
    used_profile(roost_env, "old")
    (roost_env.profiles / "new").mkdir()
    assert roost_env.run("rename", "old", "new").returncode == 0
    assert (roost_env.profiles / "new" / ".credentials.json").exists()


def test_no_token_in_removal_output(roost_env, base):
    used_profile(roost_env, "work")
    proc = roost_env.run("remove", "work", "--json")
    for token in (canary("access", "work-src"), canary("refresh", "work-src")):
        assert token[-12:] not in proc.stdout + proc.stderr
    kept = Path(json.loads(proc.stdout)["data"]["kept_in"])
    assert not any(p.name == ".credentials.json" for p in kept.rglob("*"))


def test_rename_force_over_a_symlinked_destination_unlinks_only(roost_env, base):
    used_profile(roost_env, "old")
    elsewhere = roost_env.root / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "data.txt").write_text("not roost's\n")
    os.symlink(elsewhere, roost_env.profiles / "new")
    assert roost_env.run("rename", "old", "new").returncode == 7
    rc, out = roost_env.run_json("rename", "old", "new", "--force")
    assert rc == 0 and out["data"]["link_target"] == str(elsewhere)
    assert (elsewhere / "data.txt").read_text() == "not roost's\n"
    new = roost_env.profiles / "new"
    assert not new.is_symlink() and (new / ".credentials.json").exists()


def test_removed_lists_nothing_at_first(roost_env):
    rc, out = roost_env.run_json("removed")
    assert rc == 0 and out["data"] == [] and out["meta"]["count"] == 0
    assert out["meta"]["removed_dir"] == str(roost_env.data / "removed")
    assert out["meta"]["removed_dirs"] == [str(roost_env.data / "removed"), str(roost_env.config / "removed")]
    proc = roost_env.run("removed")
    assert proc.returncode == 0 and proc.stdout == "" and "Nothing kept" in proc.stderr


def test_a_directory_kept_by_an_earlier_version_is_listed_and_restored_in_place(roost_env, base):
    """Earlier versions kept files in <config dir>/removed/: still found there, never moved behind the user's back."""
    old = roost_env.config / "removed" / "work-20261101T080000Z"
    (old / "projects" / "-home-me").mkdir(parents=True)
    (old / "projects" / "-home-me" / "s.jsonl").write_text("old session\n")
    used_profile(roost_env, "other")
    rc, out = roost_env.run_json("remove", "other")
    new = Path(out["data"]["kept_in"])
    assert rc == 0 and new.parent == roost_env.data / "removed"
    rc, listed = roost_env.run_json("removed")
    assert rc == 0 and [(k["profile"], k["path"]) for k in listed["data"]] == [("work", str(old)), ("other", str(new))]
    assert (old / "projects" / "-home-me" / "s.jsonl").exists() and new.exists()  # listing moves nothing
    src = roost_env.make_profile("fresh-login")
    rc, out = roost_env.run_json("add", "work", "--restore", "--from", str(src))
    assert rc == 0 and out["data"]["restored"] == ["projects"], out
    assert (roost_env.profiles / "work" / "projects" / "-home-me" / "s.jsonl").read_text() == "old session\n"
    assert not old.exists()
    assert [k["profile"] for k in roost_env.run_json("removed")[1]["data"]] == ["other"]


def test_restore_keeps_the_profiles_isolated_choice(roost_env, base):
    src = roost_env.make_profile("iso-src")
    assert roost_env.run("add", "iso", "--isolated", "--from", str(src)).returncode == 0
    profile = roost_env.profiles / "iso"
    (profile / "projects" / "-home-me").mkdir(parents=True)
    (profile / "projects" / "-home-me" / "s.jsonl").write_text("session\n")
    rc, out = roost_env.run_json("remove", "iso")
    assert rc == 0, out
    kept = Path(out["data"]["kept_in"])
    assert out["data"]["kept"] == [".roost-profile.json", "projects"]
    assert json.loads((kept / ".roost-profile.json").read_text())["isolated"] is True
    rc, out = roost_env.run_json("add", "iso", "--restore", "--from", str(src))  # no --isolated
    assert rc == 0, out
    assert out["data"]["isolated"] is True and out["data"]["shared"] == [] and out["data"]["restored"] == ["projects"]
    assert [p.name for p in profile.iterdir() if p.is_symlink()] == []
    assert json.loads((profile / ".roost-profile.json").read_text())["isolated"] is True
    assert not kept.exists() and (profile / "projects" / "-home-me" / "s.jsonl").read_text() == "session\n"
    rc, out = roost_env.run_json("list")
    assert out["meta"]["profiles"][0]["isolated"] is True
    proc = roost_env.run("exec", "--no-lease", "--", "sh", "-c", 'ls "$CLAUDE_CONFIG_DIR"')
    assert proc.returncode == 0 and proc.stdout.split() == ["projects"], proc.stderr


def test_a_shared_profile_restores_shared_and_a_bare_isolated_one_keeps_nothing(roost_env, base):
    src = roost_env.make_profile("src")
    assert roost_env.run("add", "bare", "--isolated", "--from", str(src)).returncode == 0
    rc, out = roost_env.run_json("remove", "bare")
    assert rc == 0 and out["data"]["kept"] == [] and ".roost-profile.json" in out["data"]["deleted"]
    used_profile(roost_env, "work")
    rc, out = roost_env.run_json("remove", "work")
    assert ".roost-profile.json" not in out["data"]["kept"]
    rc, out = roost_env.run_json("add", "work", "--restore", "--from", str(src))
    assert rc == 0 and out["data"]["isolated"] is False
    assert os.readlink(roost_env.profiles / "work" / "agents") == str(base / "agents")
