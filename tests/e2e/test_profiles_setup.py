"""Shared claude setup, account identity and setup tokens, through the real roost executable.

A profile links the shareable items of the user's base claude directory (at
add and lazily at exec), a real file in the profile wins, nothing under the
base is ever modified; add imports the oauthAccount identity; a setup token
makes an access-token-only profile.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import pytest

from roost_plugins.fakeserver import Scenario
from roostkit import canary

pytestmark = pytest.mark.usefixtures("world")


def tree_digest(root: Path) -> dict[str, str]:
    """Every entry under ``root`` (links as links): what it is and what it holds."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            out[rel] = "link:" + os.readlink(path)
        elif path.is_dir():
            out[rel] = "dir"
        else:
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def login(world, name: str, *, email: str, uuid: str, where: Path | None = None) -> Path:
    """A claude login as ``claude login`` leaves it: credentials in ``where`` (default ~/.claude),
    the identity in ~/.claude.json (or ``where``/.claude.json), registered with the fake."""
    where = where or world.home / ".claude"
    where.mkdir(parents=True, exist_ok=True)
    oauth = {"accessToken": canary("access", name), "refreshToken": canary("refresh", name),
             "expiresAt": int((time.time() + 8 * 3600) * 1000),
             "scopes": ["user:inference", "user:profile", "user:sessions:claude_code"], "subscriptionType": "max"}
    (where / ".credentials.json").write_text(json.dumps({"claudeAiOauth": oauth}))
    identity = world.home / ".claude.json" if where == world.home / ".claude" else where / ".claude.json"
    identity.write_text(json.dumps({"numStartups": 7, "oauthAccount": {
        "accountUuid": uuid, "emailAddress": email, "organizationUuid": "org-1", "organizationName": "Acme"}}))
    world.fake.add_account(name, access_token=oauth["accessToken"], refresh_token=oauth["refreshToken"],
                           usage=Scenario.ok(session=10, weekly=20))
    return where / ".credentials.json"


def run_on_a_terminal(world, *args: str) -> tuple[int, str, str]:
    """Run roost with stdout on a pseudo-terminal (what a person sees there), stderr captured."""
    import pty
    import subprocess

    from roostkit import ROOST

    master, slave = pty.openpty()
    try:
        proc = subprocess.run([ROOST, *args], env=world.env(), stdin=subprocess.DEVNULL, stdout=slave,
                              stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(slave)
    screen = b""
    try:
        while chunk := os.read(master, 65536):
            screen += chunk
    except OSError:  # EIO: the terminal's other end is closed and everything was read
        pass
    finally:
        os.close(master)
    return proc.returncode, screen.decode("utf-8", "replace"), proc.stderr


@pytest.fixture
def base(world) -> Path:
    """The user's ~/.claude with a setup worth sharing."""
    base = world.home / ".claude"
    (base / "agents").mkdir(parents=True)
    (base / "agents" / "reviewer.md").write_text("# reviewer agent\n")
    (base / "settings.json").write_text('{"theme": "dark"}\n')
    (base / "CLAUDE.md").write_text("# my rules\n")
    (base / "projects" / "-home-me").mkdir(parents=True)
    (base / "history.jsonl").write_text("{}\n")
    return base


def child_view(world, script: str) -> str:
    proc = world.run("exec", "--", "sh", "-c", script)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_add_links_the_shared_setup_and_the_child_sees_it(world, base):
    login(world, "work", email="me@example.com", uuid="acct-1")
    before = tree_digest(base)
    rc, out = world.run_json("add", "work")
    assert rc == 0, out
    profile = world.profiles / "work"
    assert out["data"]["shared"] == ["CLAUDE.md", "agents", "settings.json"]
    for item in ("CLAUDE.md", "agents", "settings.json"):
        assert os.readlink(profile / item) == str(base / item)
    # Per-profile by default: sessions and history, the identity file, the credentials.
    assert not os.path.lexists(profile / "projects") and not os.path.lexists(profile / "history.jsonl")
    assert not (profile / ".credentials.json").is_symlink() and not (profile / ".claude.json").is_symlink()
    seen = child_view(world, 'cat "$CLAUDE_CONFIG_DIR/CLAUDE.md" "$CLAUDE_CONFIG_DIR/settings.json"; '
                             'ls "$CLAUDE_CONFIG_DIR/agents"')
    assert seen == "# my rules\n{\"theme\": \"dark\"}\nreviewer.md\n"
    # An item created in the base later appears at the next exec (lazily linked).
    (base / "commands").mkdir()
    (base / "commands" / "ship.md").write_text("ship it\n")
    assert child_view(world, 'cat "$CLAUDE_CONFIG_DIR/commands/ship.md"') == "ship it\n"
    after = tree_digest(base)
    assert {k: v for k, v in after.items() if not k.startswith("commands")} == before


def test_a_real_file_in_the_profile_wins_over_the_link(world, base):
    login(world, "work", email="me@example.com", uuid="acct-1")
    profile = world.profiles / "work"
    profile.mkdir(mode=0o700, parents=True)
    (profile / "CLAUDE.md").write_text("# this profile's own rules\n")
    os.symlink(world.root / "elsewhere.json", profile / "settings.json")  # the user's own link stays too
    (world.root / "elsewhere.json").write_text('{"theme": "light"}')
    rc, out = world.run_json("add", "work")
    assert rc == 0 and sorted(out["data"]["own"]) == ["CLAUDE.md", "settings.json"]
    assert child_view(world, 'cat "$CLAUDE_CONFIG_DIR/CLAUDE.md" "$CLAUDE_CONFIG_DIR/settings.json"') == (
        "# this profile's own rules\n{\"theme\": \"light\"}")
    assert (base / "CLAUDE.md").read_text() == "# my rules\n"
    assert os.readlink(profile / "settings.json") == str(world.root / "elsewhere.json")


def test_isolated_profiles_and_config(world, base):
    login(world, "iso", email="me@example.com", uuid="acct-1")
    assert world.run("add", "--isolated", "iso").returncode == 0
    profile = world.profiles / "iso"
    assert [p.name for p in profile.iterdir() if p.is_symlink()] == []
    assert child_view(world, 'ls -A "$CLAUDE_CONFIG_DIR"').split() == [
        ".claude.json", ".credentials.json", ".roost-profile.json"]
    rc, out = world.run_json("list")
    assert out["meta"]["profiles"][0]["isolated"] is True


def test_share_config_history_and_per_profile_isolation(world, base):
    login(world, "work", email="me@example.com", uuid="acct-1")
    world.config.mkdir(parents=True)
    (world.config / "config.toml").write_text(
        '[profiles]\nshare = ["CLAUDE.md"]\nshare_history = true\n')
    assert world.run("add", "work").returncode == 0
    profile = world.profiles / "work"
    assert sorted(p.name for p in profile.iterdir() if p.is_symlink()) == ["CLAUDE.md", "history.jsonl",
                                                                           "projects"]
    # [profiles.work] isolated = true: roost's links go at the next exec (as links: targets stay).
    (world.config / "config.toml").write_text('[profiles]\nshare_history = true\n[profiles.work]\nisolated = true\n')
    child_view(world, "true")
    assert [p.name for p in profile.iterdir() if p.is_symlink()] == []
    assert (base / "projects" / "-home-me").is_dir() and (base / "CLAUDE.md").exists()
    (world.config / "config.toml").write_text('[profiles]\nshare = [".credentials.json"]\n')
    proc = world.run("exec", "--", "true")
    assert proc.returncode == 4 and "never shared" in proc.stderr


def test_base_named_in_config(world):
    other = world.root / "my-claude"
    other.mkdir()
    (other / "CLAUDE.md").write_text("# other base\n")
    login(world, "work", email="me@example.com", uuid="acct-1")
    world.config.mkdir(parents=True)
    (world.config / "config.toml").write_text(f'[profiles]\nbase = "{other}"\n')
    assert world.run("add", "work").returncode == 0
    assert child_view(world, 'cat "$CLAUDE_CONFIG_DIR/CLAUDE.md"') == "# other base\n"


def test_identity_imported_and_shown(world, base):
    src = login(world, "work", email="me@example.com", uuid="acct-1")
    rc, out = world.run_json("add", "work")
    assert rc == 0 and out["data"]["email"] == "me@example.com"
    doc = json.loads((world.profiles / "work" / ".claude.json").read_text())
    assert doc == {"oauthAccount": {"accountUuid": "acct-1", "emailAddress": "me@example.com",
                                    "organizationUuid": "org-1", "organizationName": "Acme"}}
    assert stat_mode(world.profiles / "work" / ".claude.json") == 0o600
    # --from: the identity beside the source file.
    other = world.root / "other-login"
    login(world, "team", email="team@example.com", uuid="acct-2", where=other)
    assert world.run("add", "team", "--from", str(other / ".credentials.json")).returncode == 0
    rc, out = world.run_json("list")
    assert {p["name"]: p["email"] for p in out["meta"]["profiles"]} == {"team": "team@example.com",
                                                                         "work": "me@example.com"}
    rc, out = world.run_json("show", "team", "--offline")
    assert rc == 0 and out["data"]["email"] == "team@example.com"
    assert out["data"]["account"]["account_uuid"] == "acct-2"
    assert src.exists() and json.loads((world.home / ".claude.json").read_text())["numStartups"] == 7
    texts = json.dumps(out) + (world.profiles / "team" / ".claude.json").read_text()
    assert canary("access", "team") not in texts and canary("refresh", "team") not in texts


def stat_mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_two_profiles_one_account_warned_and_marked(world, base):
    login(world, "a", email="me@example.com", uuid="acct-1")
    assert world.run("add", "a").returncode == 0
    proc = world.run("add", "b")  # the same ~/.claude login again
    assert proc.returncode == 0
    assert "same account (me@example.com) as 'a': they share one quota" in proc.stderr
    rc, out = world.run_json("status", "--no-platform-status")
    assert rc == 0 and out["meta"]["same_account"] == [["a", "b"]]
    records = {r["name"]: r for r in out["data"]}
    assert records["a"]["shares_quota_with"] == ["b"] and records["b"]["shares_quota_with"] == ["a"]
    proc = world.run("status", "--no-platform-status")
    assert "a, b are one account (me@example.com): they share one quota" in proc.stderr


def test_setup_token_profile(world, base):
    token = canary("access", "setup")
    proc = world.run("add", "ci", "--setup-token", input=token + "\n")
    assert proc.returncode == 0, proc.stderr
    assert token not in proc.stdout + proc.stderr
    oauth = world.credentials("ci")["claudeAiOauth"]
    assert oauth["accessToken"] == token and oauth["refreshToken"] is None
    assert oauth["scopes"] == ["user:inference"] and oauth["expiresAt"] > (time.time() + 300 * 86400) * 1000
    world.fake.set_usage(token, Scenario.forbidden_scope())
    rc, out = world.run_json("status", "--no-platform-status")
    record = out["data"][0]
    assert (record["health"], record["session_pct"], record["weekly_pct"]) == ("ok", None, None), record
    rc, out = world.run_json("refresh", "ci")
    assert rc == 0 and out["data"]["status"] == "nothing_to_refresh"
    # One rendering (issue #18 point 11): a pipe gets the data line only, a terminal the sentence.
    proc = world.run("refresh", "ci")
    assert proc.returncode == 0 and proc.stdout.startswith("ci\tnothing_to_refresh\t") and proc.stderr == ""
    rc, screen, stderr = run_on_a_terminal(world, "refresh", "ci")
    assert rc == 0 and "ci: nothing to refresh: a setup token has no refresh token" in stderr, stderr
    assert "nothing_to_refresh" not in screen + stderr
    assert world.fake.token_posts == 0
    rc, out = world.run_json("list")
    assert out["meta"]["profiles"][0]["kind"] == "setup-token"
    # Never argv: the flag takes no value; an empty stdin is a clear error.
    proc = world.run("add", "ci2", "--setup-token", input="")
    assert proc.returncode == 4 and "no token on stdin" in proc.stderr
    assert not (world.profiles / "ci2").exists()
    proc = world.run("add", "ci3", "--setup-token", input="two tokens\n")
    assert proc.returncode == 4
    # A token put in argv anyway is refused, and the refusal (click's "unexpected extra argument")
    # shows its last 4 characters only, in text and in JSON.
    stray = "sk-ant-oat01-" + "StrayArgvToken" * 4 + "wxyz"
    for mode in ((), ("--json",)):
        proc = world.run(*mode, "add", "ci4", "--setup-token", stray, input="")
        assert proc.returncode == 4 and "…wxyz" in proc.stdout + proc.stderr
        assert stray[:20] not in proc.stdout + proc.stderr


@pytest.mark.parametrize("kind", ["fifo", "dir", "big"])
def test_add_from_takes_regular_files_only(world, kind):
    path = world.root / "src"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dir":
        path.mkdir()
    else:
        with open(path, "wb") as handle:
            handle.truncate(2 << 20)
    started = time.monotonic()
    proc = world.run("add", "x", "--from", str(path), timeout=20)
    assert proc.returncode == 4 and "Traceback" not in proc.stderr, proc.stderr
    assert time.monotonic() - started < 10 and not (world.profiles / "x").exists()
    proc = world.run("add", "x", "--from", "/dev/zero", timeout=20)
    assert proc.returncode == 4 and "not a regular file" in proc.stderr


def test_a_changed_base_moves_roosts_links_and_leaves_everything_else(world, base):
    """[profiles] base changed after add: roost's links (recorded base) follow it at the next exec;
    a real file, a link of the user's, and the old base itself are never touched."""
    login(world, "work", email="me@example.com", uuid="acct-1")
    assert world.run("add", "work").returncode == 0
    profile = world.profiles / "work"
    (profile / "keybindings.json").write_text('{"mine": true}\n')  # the profile's own file
    os.symlink(base / "agents", profile / "commands")  # the user's link into the old base, another name
    (world.root / "my-rules").mkdir()
    os.symlink(world.root / "my-rules", profile / "rules")  # the user's link elsewhere
    alt = world.root / "altbase"
    (alt / "commands").mkdir(parents=True)
    (alt / "CLAUDE.md").write_text("# alt rules\n")
    (alt / "settings.json").write_text('{"theme": "alt"}\n')
    (alt / "keybindings.json").write_text("{}\n")
    (alt / "rules").mkdir()
    old_digest, alt_digest = tree_digest(base), tree_digest(alt)
    world.config.mkdir(parents=True, exist_ok=True)
    (world.config / "config.toml").write_text(f'[profiles]\nbase = "{alt}"\n')
    seen = child_view(world, 'cat "$CLAUDE_CONFIG_DIR/CLAUDE.md" "$CLAUDE_CONFIG_DIR/settings.json"')
    assert seen == '# alt rules\n{"theme": "alt"}\n'
    assert os.readlink(profile / "CLAUDE.md") == str(alt / "CLAUDE.md")
    assert os.readlink(profile / "settings.json") == str(alt / "settings.json")
    assert not os.path.lexists(profile / "agents")  # roost's link; the new base has no agents/
    assert (profile / "keybindings.json").read_text() == '{"mine": true}\n' and not (
        profile / "keybindings.json").is_symlink()
    assert os.readlink(profile / "commands") == str(base / "agents")
    assert os.readlink(profile / "rules") == str(world.root / "my-rules")
    assert json.loads((profile / ".roost-profile.json").read_text())["linked_from"] == [str(alt)]
    assert not [p.name for p in profile.iterdir() if p.name.endswith(".roost-tmp")]
    assert tree_digest(base) == old_digest and tree_digest(alt) == alt_digest
    # Back to the default base: roost's links follow again.
    (world.config / "config.toml").write_text("")
    assert child_view(world, 'cat "$CLAUDE_CONFIG_DIR/CLAUDE.md"') == "# my rules\n"
    assert os.readlink(profile / "agents") == str(base / "agents")
    assert os.readlink(profile / "commands") == str(base / "agents")
    assert os.readlink(profile / "rules") == str(world.root / "my-rules")


def test_remove_after_a_base_change_unlinks_roosts_links_into_the_recorded_base(world, base):
    login(world, "work", email="me@example.com", uuid="acct-1")
    assert world.run("add", "work").returncode == 0
    alt = world.root / "altbase"
    alt.mkdir()
    world.config.mkdir(parents=True, exist_ok=True)
    (world.config / "config.toml").write_text(f'[profiles]\nbase = "{alt}"\n')
    rc, out = world.run_json("remove", "work")
    assert rc == 0, out
    assert out["data"]["unlinked"] == ["CLAUDE.md", "agents", "settings.json"] and out["data"]["kept"] == []
    assert (base / "CLAUDE.md").read_text() == "# my rules\n" and (base / "agents" / "reviewer.md").exists()


def test_a_profile_without_a_record_keeps_links_into_another_base(world, base):
    """A profile an earlier roost made records no base: only links into the base in effect are roost's;
    the first exec records that base (docs/profiles.md)."""
    login(world, "work", email="me@example.com", uuid="acct-1")
    assert world.run("add", "work").returncode == 0
    profile = world.profiles / "work"
    (profile / ".roost-profile.json").unlink(missing_ok=True)  # as an earlier roost left it
    alt = world.root / "altbase"
    alt.mkdir()
    (alt / "CLAUDE.md").write_text("# alt rules\n")
    (alt / "hooks").mkdir()
    world.config.mkdir(parents=True, exist_ok=True)
    (world.config / "config.toml").write_text(f'[profiles]\nbase = "{alt}"\n')
    assert child_view(world, 'cat "$CLAUDE_CONFIG_DIR/CLAUDE.md"') == "# my rules\n"  # left alone
    assert os.readlink(profile / "CLAUDE.md") == str(base / "CLAUDE.md")
    assert os.readlink(profile / "hooks") == str(alt / "hooks")
    assert json.loads((profile / ".roost-profile.json").read_text())["linked_from"] == [str(alt)]
