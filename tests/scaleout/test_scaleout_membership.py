"""The fleet's list of profiles: add, remove and rename on one machine reach every other.

No ``roost state sync`` anywhere: every command that discovers profiles first
brings its machine's tree in line with the store. Machines are the real
``roost`` executable with separate HOME, config and profiles trees.
"""

from __future__ import annotations

import json
import os
import sys
import time

from fleetkit.fixtures import fleet, key_file, needs_redis, redis_server  # noqa: F401 (fixtures)
from fleetkit.machines import canary, check, wait_for_lease

pytestmark = needs_redis


def names(machine):
    rc, listed = machine.run_json("list")
    assert rc == 0, listed
    return listed["data"]


def stored_version(fleet, name):
    from roost_redis.keys import Keyspace

    raw = fleet.redis.client().hget(Keyspace().cred(name), "v")
    return None if raw is None else int(raw)


def login_file(machine, name, tag):
    """A fresh login (as ``claude login`` leaves it) outside the tree, known to the fake."""
    access, refresh = canary("access", f"{name}{tag}"), canary("refresh", f"{name}{tag}")
    path = machine.root / f"{name}{tag}.json"
    path.write_text(json.dumps({"claudeAiOauth": {
        "accessToken": access, "refreshToken": refresh, "expiresAt": int((time.time() + 8 * 3600) * 1000),
        "scopes": ["user:inference"], "subscriptionType": "pro"}}))
    os.chmod(path, 0o600)
    return path, access, refresh


def test_a_new_machine_sees_the_fleets_profiles_without_a_sync(fleet):
    a, b = fleet.a, fleet.b
    for name in ("p", "q"):
        a.make_profile(name)
        fleet.fake.add_account(name, access_token=canary("access", name), refresh_token=canary("refresh", name))
    check(a.run("state", "init"))
    assert names(a) == ["p", "q"]  # the first discovery imports both into the store
    assert names(b) == ["p", "q"]  # b never ran 'state sync'
    for name in ("p", "q"):
        local = b.credentials(name)["claudeAiOauth"]
        assert "refreshToken" not in local and local["accessToken"] == canary("access", name)
    check(b.run("refresh", "p"))  # with the store's refresh token
    assert (fleet.fake.token_posts, fleet.fake.reuse_count) == (1, 0)


def test_add_on_one_machine_puts_the_login_in_the_store(fleet):
    a, b = fleet.a, fleet.b
    check(a.run("state", "init"))
    path, access, refresh = login_file(a, "n", "1")
    fleet.fake.add_account("n", access_token=access, refresh_token=refresh)
    check(a.run("add", "n", "--from", str(path)))
    assert "refreshToken" not in a.credentials("n")["claudeAiOauth"]  # the store holds it
    assert names(b) == ["n"] and b.credentials("n")["claudeAiOauth"]["accessToken"] == access

    rc, again = b.run_json("add", "n", "--from", str(path))
    assert rc == 7 and again["error"]["code"] == "CONFLICT"  # the name is taken fleet-wide
    path2, access2, refresh2 = login_file(b, "n", "2")
    fleet.fake.add_account("n2", access_token=access2, refresh_token=refresh2)
    before = stored_version(fleet, "n")
    check(b.run("add", "n", "--force", "--from", str(path2)))
    assert stored_version(fleet, "n") == before + 1
    check(a.run("show", "n"))
    assert a.credentials("n")["claudeAiOauth"]["accessToken"] == access2


def test_remove_on_one_machine_removes_the_profile_everywhere(fleet):
    a, b = fleet.a, fleet.b
    fleet.seed(a, "p", "q")
    old_version = stored_version(fleet, "p")
    check(a.run("remove", "p"))
    assert stored_version(fleet, "p") is None
    proc = b.run("list")
    assert proc.stdout.split() == ["q"] and "was removed on" in proc.stderr, proc.stderr
    assert not (b.profiles / "p").exists()  # an access-token-only copy: nothing of value to keep
    rc, shown = b.run_json("show", "p")
    assert rc == 3 and shown["error"]["code"] == "NOT_FOUND"

    # The name can come back; its versions continue, so no old mirror outranks the new login.
    path, access, refresh = login_file(b, "p", "new")
    fleet.fake.add_account("p-new", access_token=access, refresh_token=refresh)
    check(b.run("add", "p", "--from", str(path)))
    assert stored_version(fleet, "p") > old_version
    assert names(a) == ["p", "q"]
    check(a.run("refresh", "p"))
    assert fleet.fake.token_posts_for("p-new") == 1 and fleet.fake.reuse_count == 0


def test_remove_is_refused_while_any_machine_holds_a_lease(fleet):
    a, b = fleet.a, fleet.b
    fleet.seed(a, "p")
    child = b.popen("exec", "--lease-for", "60", "--", sys.executable, "-c", "import time; time.sleep(30)")
    try:
        wait_for_lease(fleet.redis, child)
        rc, refused = a.run_json("remove", "p")
        assert rc == 7 and refused["error"]["code"] == "LEASE_HELD", refused
        rc, refused = a.run_json("rename", "p", "r")
        assert rc == 7 and refused["error"]["code"] == "LEASE_HELD", refused
        assert names(a) == ["p"] and stored_version(fleet, "p") is not None
    finally:
        child.terminate()
        child.wait(timeout=10)
    check(a.run("remove", "p"))
    assert names(b) == []


def test_rename_moves_the_record_for_the_whole_fleet(fleet):
    a, b = fleet.a, fleet.b
    fleet.seed(a, "p")
    check(a.run("rename", "p", "r"))
    assert (stored_version(fleet, "p"), names(a)) == (None, ["r"])
    proc = b.run("list")
    assert proc.stdout.split() == ["r"] and "renamed to 'r'" in proc.stderr, proc.stderr
    check(b.run("refresh", "r"))  # the moved record carries the live refresh token
    assert (fleet.fake.token_posts, fleet.fake.reuse_count) == (1, 0)
    assert b.credentials("r")["claudeAiOauth"]["accessToken"] == fleet.fake.live_access_token("p")

    fleet.seed(a, "s")
    rc, taken = b.run_json("rename", "r", "s")
    assert rc == 7 and taken["error"]["code"] == "CONFLICT"
    check(b.run("rename", "r", "s", "--force"))
    assert names(a) == ["s"]
    check(a.run("refresh", "s"))
    assert (fleet.fake.token_posts, fleet.fake.reuse_count) == (2, 0)


def test_retiring_a_copy_that_still_holds_a_refresh_token_keeps_it_aside(fleet):
    a, b = fleet.a, fleet.b
    fleet.seed(a, "p")
    b.make_profile("p", access="b-own-access-0000", refresh="b-own-refresh-1111")  # a login of b's own
    check(a.run("remove", "p"))
    proc = b.run("list")
    assert proc.returncode == 0 and proc.stdout.split() == [], proc.stderr
    kept = [d for d in os.listdir(b.profiles) if d.startswith(".removed-p-")]
    assert len(kept) == 1 and "moved aside" in proc.stderr
    creds = json.loads((b.profiles / kept[0] / ".credentials.json").read_text())
    assert creds["claudeAiOauth"]["refreshToken"] == "b-own-refresh-1111"


def test_a_local_login_the_store_does_not_know_is_kept_before_the_store_wins(fleet):
    a, b = fleet.a, fleet.b
    fleet.seed(a, "p")
    b.make_profile("p", access="b-own-access-0000", refresh="b-own-refresh-2222")
    proc = check(b.run("show", "p"))
    assert "kept it in" in proc.stderr
    aside = list((b.config / "redis" / "aside").iterdir())
    assert len(aside) == 1 and oct(aside[0].stat().st_mode & 0o777) == "0o600"
    assert json.loads(aside[0].read_text())["claudeAiOauth"]["refreshToken"] == "b-own-refresh-2222"
    assert "refreshToken" not in b.credentials("p")["claudeAiOauth"]


def test_status_and_pick_say_degraded_in_their_json_meta(fleet):
    a = fleet.a
    fleet.seed(a, "p")
    check(a.run("probe", "p"))
    rc, status = a.run_json("status", "--no-platform-status")
    assert rc == 0 and "degraded" not in status["meta"]
    fleet.redis.kill()
    rc, status = a.run_json("status", "--no-platform-status")
    assert rc == 0 and status["meta"]["degraded"] is True and status["meta"]["degraded_reason"]
    rc, picked = a.run_json("pick")
    assert rc == 0 and picked["data"]["name"] == "p" and picked["meta"]["degraded"] is True
    rc, refused = a.run_json("refresh", "p")
    assert rc == 9 and refused["error"]["code"] == "UNAVAILABLE"
    # Membership changes fail closed too: nothing local changes without the store.
    path, _, _ = login_file(a, "n", "1")
    for args in (("remove", "p"), ("rename", "p", "r"), ("add", "n", "--from", str(path))):
        rc, refused = a.run_json(*args)
        assert rc == 9 and refused["error"]["code"] == "UNAVAILABLE", (args, refused)
    assert sorted(os.listdir(a.profiles)) == ["p"]


def test_the_config_dir_fallback_is_not_a_fleet_profile(fleet):
    a = fleet.a
    fleet.seed(a, "p")
    single = a.root / "single"
    single.mkdir(mode=0o700)
    (single / ".credentials.json").write_text(json.dumps({"claudeAiOauth": {
        "accessToken": "single-access-3333", "refreshToken": "single-refresh-4444", "expiresAt": 1}}))
    assert names(a) == ["p"]
    rc, listed = a.run_json("list", CLAUDE_CONFIG_DIR=str(single))
    assert listed["data"] == ["p"]
