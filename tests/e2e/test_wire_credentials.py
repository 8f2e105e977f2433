"""Claude Code's third lock, its temp files and wiped files, aliased credentials, dead refresh tokens:
through the real roost against the fake Anthropic."""

from __future__ import annotations

import json
import os
import threading
import time

import pytest

from roost_plugins.fakeserver import Scenario, TokenBehaviour


def account(world, name: str, usage: Scenario | None = None, **kw) -> None:
    world.make_account(name, usage=usage or Scenario.ok(), **kw)


class Holder:
    """Plays a running claude: holds a lock directory, touching it every 0.2 s, for ``hold_s``."""

    def __init__(self, path, hold_s: float):
        self.path, self.hold_s, self.released_at, self.released_mono = path, hold_s, None, None
        os.mkdir(path)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        end = time.monotonic() + self.hold_s
        while time.monotonic() < end:
            os.utime(self.path)
            time.sleep(0.2)
        self.released_at, self.released_mono = time.time(), time.monotonic()
        os.rmdir(self.path)

    def join(self) -> None:
        self.thread.join()


def token_posts(world) -> list[dict]:
    return [r for r in world.fake.requests if r["path"] == "/v1/oauth/token"]


# -- .storage-write.lock ---------------------------------------------------------------

def test_refresh_writes_only_after_claude_releases_storage_write_lock(world):
    account(world, "p")
    path = world.profiles / "p" / ".credentials.json"
    holder = Holder(world.profiles / "p" / ".storage-write.lock", hold_s=1.5)
    proc = world.run("refresh", "p")
    holder.join()
    assert proc.returncode == 0, proc.stderr
    assert os.stat(path).st_mtime >= holder.released_at - 0.05  # written after claude let go
    assert world.credentials("p")["claudeAiOauth"]["refreshToken"] == world.fake.live_refresh_token("p")
    assert not (world.profiles / "p" / ".storage-write.lock").exists()


def test_add_force_takes_the_storage_write_lock_too(world, tmp_path):
    account(world, "p")
    source = tmp_path / "login.json"
    source.write_text(json.dumps({"claudeAiOauth": {"accessToken": "sk-ant-oat01-new-login-0000000000000000",
                                                    "refreshToken": "sk-ant-ort01-new-login-0000000000000000",
                                                    "expiresAt": int(time.time() * 1000) + 3_600_000,
                                                    "scopes": ["user:inference", "user:profile"]}}))
    os.chmod(source, 0o600)
    holder = Holder(world.profiles / "p" / ".storage-write.lock", hold_s=1.5)
    proc = world.run("add", "p", "--force", "--from", str(source))
    holder.join()
    assert proc.returncode == 0, proc.stderr
    assert os.stat(world.profiles / "p" / ".credentials.json").st_mtime >= holder.released_at - 0.05


def test_a_stale_storage_write_lock_is_taken_after_15s_not_before(world):
    account(world, "p")
    lock = world.profiles / "p" / ".storage-write.lock"
    lock.mkdir()
    os.utime(lock, (time.time() - 16, time.time() - 16))
    started = time.monotonic()
    proc = world.run("refresh", "p")
    assert proc.returncode == 0 and time.monotonic() - started < 10, proc.stderr
    assert "stale" in proc.stderr and not lock.exists()


def test_claude_temp_files_are_never_touched_nor_discovered(world):
    account(world, "p", expires_in=-60)
    temp = world.profiles / "p" / ".credentials.json.tmp.0a1b2c3d"
    loose = world.profiles / ".credentials.json.tmp.deadbeef"
    for path in (temp, loose):
        path.write_text('{"claudeAiOauth": {"accessToken": "half-written"}}')
    rc, out = world.run_json("status")
    assert rc == 0 and [r["name"] for r in out["data"]] == ["p"], out
    proc = world.run("refresh", "p")
    assert proc.returncode == 0, proc.stderr
    for path in (temp, loose):
        assert path.read_text() == '{"claudeAiOauth": {"accessToken": "half-written"}}'


# -- aliased credentials (issue #20 item 1) ---------------------------------------------

def test_a_claude_refreshing_through_an_alias_holds_roost_back(world):
    account(world, "a")
    (world.profiles / "a1").mkdir(mode=0o700)
    (world.profiles / "a1" / ".credentials.json").symlink_to(world.profiles / "a" / ".credentials.json")
    for lock in (world.profiles / "a1" / ".oauth_refresh.lock", world.profiles / "a1.lock",
                 world.profiles / "a1" / ".storage-write.lock"):
        holder = Holder(lock, hold_s=1.0)
        proc = world.run("refresh", "a", CLAUDE_LB_REFRESH_MIN_INTERVAL="0")
        holder.join()
        assert proc.returncode == 0, proc.stderr
        if lock.name == ".storage-write.lock":  # it guards claude's writes, not its refresh: roost's write waits
            written = os.stat(world.profiles / "a" / ".credentials.json").st_mtime
            assert written >= holder.released_at - 0.05, f"wrote while {lock.name} was held"
        else:
            assert token_posts(world)[-1]["t"] > holder.released_mono, f"POSTed while {lock.name} was held"
    assert world.fake.reuse_count == 0 and len(token_posts(world)) == 3
    # A lock held past the wait: CONFLICT (7), no POST, nothing written.
    before = (world.profiles / "a" / ".credentials.json").read_bytes()
    holder = Holder(world.profiles / "a1" / ".oauth_refresh.lock", hold_s=3)
    proc = world.run("refresh", "a", "--json", CLAUDE_LB_LOCK_WAIT="1", CLAUDE_LB_REFRESH_MIN_INTERVAL="0")
    assert proc.returncode == 7, proc.stdout + proc.stderr
    assert len(token_posts(world)) == 3 and (world.profiles / "a" / ".credentials.json").read_bytes() == before
    holder.join()


# -- wiped (logged-out) files ------------------------------------------------------------

WIPED = {"claudeAiOauth": {"accessToken": "", "refreshToken": "", "expiresAt": 0,
                           "scopes": ["user:inference", "user:profile"], "subscriptionType": "max"}}


@pytest.mark.parametrize("argv", [
    ("status",), ("show", "w"), ("pick",), ("probe", "w"), ("trace", "w"), ("refresh", "w"),
    ("refresh", "--expired"), ("exec", "--", "true"), ("pick", "--auto-refresh"),
])
def test_a_wiped_file_is_logged_out_everywhere_without_a_post(world, argv):
    world.make_profile("w", document=WIPED)
    proc = world.run(*argv, "--json") if argv[0] != "exec" else world.run("exec", "--json", "--", "true")
    assert "Traceback" not in proc.stderr, proc.stderr
    assert world.fake.requests == [] or all(r["path"] != "/v1/oauth/token" for r in world.fake.requests)
    assert not any(r["path"] == "/api/oauth/usage" for r in world.fake.requests)
    text = proc.stdout + proc.stderr
    assert proc.returncode in (0, 2), text
    if argv[0] in ("status", "show", "probe"):
        out = json.loads(proc.stdout)["data"]
        record = out if isinstance(out, dict) and "health" in out else \
            [r for r in (out["profiles"] if isinstance(out, dict) else out) if r["name"] == "w"][0]
        assert record["health"] == "auth_dead" and record["error"] == "logged out: run claude login"
    else:
        assert "auth_dead" in text or "logged out" in text or "authentication" in text, text
    assert world.credentials("w") == WIPED  # never rewritten


def test_snapshot_and_add_of_a_wiped_file_say_logged_out(world, tmp_path):
    """Both copy it as asked, and say it cannot work (a snapshot used to promise 'until 1970')."""
    world.make_profile("w", document=WIPED)
    out = tmp_path / "snap.json"
    rc, data = world.run_json("snapshot", "w", str(out))
    proc = world.run("snapshot", "w", str(tmp_path / "snap2.json"))
    assert rc == 0 and data["data"]["expires_at"] is None and json.loads(out.read_text()) == WIPED
    assert "logged out" in proc.stderr and "1970" not in proc.stderr, proc.stderr
    source = tmp_path / "wiped.json"
    source.write_text(json.dumps(WIPED))
    os.chmod(source, 0o600)
    proc = world.run("add", "w2", "--from", str(source))
    assert proc.returncode == 0 and "is logged out" in proc.stderr and "roost add w2 --force" in proc.stderr


def test_refresh_of_a_wiped_file_says_logged_out(world):
    world.make_profile("w", document=WIPED)
    proc = world.run("refresh", "w")
    assert proc.returncode == 2 and "logged out: run claude login" in proc.stderr, proc.stderr
    assert token_posts(world) == []


# -- a dead refresh token is spent once ---------------------------------------------------

def test_dead_token_is_posted_once_then_auth_dead_until_the_file_changes(world):
    account(world, "d", expires_in=-60)
    world.fake.set_token_behaviour("d", TokenBehaviour(grant_error="expired"))
    world.fake.rotate_out_of_band("d")
    assert world.run("refresh", "d").returncode == 2
    assert len(token_posts(world)) == 1
    for _ in range(3):
        proc = world.run("refresh", "d")
        assert proc.returncode == 2 and "idle too long" in proc.stderr and "not sent again" in proc.stderr
    assert len(token_posts(world)) == 1
    rc, out = world.run_json("show", "d")
    assert out["data"]["health"] == "auth_dead" and "idle too long" in out["data"]["error"], out
    rc, out = world.run_json("trace", "d")
    assert out["data"]["request"] is None and "idle too long" in out["data"]["classification"]["reasons"][0], out
    rc, out = world.run_json("status")
    assert [r["health"] for r in out["data"] if r["name"] == "d"] == ["auth_dead"]
    rc, out = world.run_json("pick", "--auto-refresh")
    assert rc == 2 and len(token_posts(world)) == 1, out
    raw = (world.config / "rejected-tokens.json").read_text()
    stored = world.credentials("d")["claudeAiOauth"]["refreshToken"]
    assert stored not in raw and stored[-8:] not in raw  # a fingerprint, never the token
    # A new login (another refresh token) clears it: no state to reset by hand.
    access, refresh = world.fake.live_access_token("d"), world.fake.live_refresh_token("d")
    world.make_profile("d", access=access, refresh=refresh, expires_in=-60)
    proc = world.run("refresh", "d")
    assert proc.returncode == 0, proc.stderr
    assert len(token_posts(world)) == 2


def test_doctor_says_logged_out_for_a_wiped_file(world):
    world.make_profile("w", document=WIPED)
    rc, out = world.run_json("doctor", "--skip-network")
    assert rc == 9, out  # a failed check
    row = {r["name"]: r for r in out["error"]["details"]["checks"]}["profile:w"]
    assert row["level"] == "fail" and row["message"].startswith("logged out: run claude login"), row
