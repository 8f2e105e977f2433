"""A rotation stored but not yet on a replica is withheld from every machine until one confirms it.

The rule (docs/SCALE-OUT.md, "Durable rotations"): while the store's record of
a profile is past the version its spend intent names (the commit kept the
intent because no replica confirmed it), no roost process on any machine, the
rotating one included, opens the record: nothing is copied into a profile
tree, ``status``/``show`` report the profile ``unknown`` (``source: "store"``)
with the reason and the machine, ``pick`` skips it (exit 7 when nothing else
is left), refresh/exec/snapshot exit 7, and ``state status``/``doctor`` on any
machine list the rotation from the store. The rotating machine keeps it sealed
in its journal and mirror and re-sends it on each run; the hold ends when a
replica confirms it (or, at the latest, when the spend intent's TTL lapses).

Real ``redis-server`` (and, for the real fault, ``redis-sentinel``) on
127.0.0.1, real ``roost`` processes as machines, the fake Anthropic.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from fleetkit.fixtures import (SENTINEL_MISSING, key_file, needs_redis, needs_sentinel, redis_server,  # noqa: F401
                               sentinel_cluster)
from fleetkit.machines import Fleet, check, rotation_no_replica_confirms

pytestmark = needs_redis


def access_token(machine, name: str) -> str:
    return machine.credentials(name)["claudeAiOauth"]["accessToken"]


def status_row(machine, name: str) -> dict:
    rc, out = machine.run_json("status")
    assert rc == 0, out
    return {r["name"]: r for r in out["data"]}[name]


def replication_check(machine) -> dict:
    rc, doctor = machine.run_json("doctor")
    checks = doctor["data"]["checks"] if isinstance(doctor["data"], dict) else doctor["data"]
    return next(c for c in checks if c["name"] == "state-redis-replication")


def keep_intent(store, machine, name: str, host: str, ttl_ms: int = 30_000) -> None:
    """What a commit leaves when no replica confirms it: the spend intent of the spent version stays
    (and the profile's shared health entry is gone: the core drops it after the write)."""
    from roost_core.api import drop_health

    backend = machine.backend()
    record = store.hgetall(backend.keys.cred(name))
    spent = int(record[b"v"]) - 1
    key = backend.keys.intent(name)
    store.hset(key, mapping={"owner": f"{host}:4242:feed", "v": spent, "host": host, "pid": 4242, "boot": "",
                             "pstart": "", "rotation_id": record[b"rotation_id"], "at_ms": 0})
    store.pexpire(key, ttl_ms)
    drop_health(machine.context(), name)


# -- the rule, on one redis-server (no replica: the kept intent is written by hand) -----------------------

def test_min_replicas_0_is_unaffected_and_a_kept_intent_withholds_the_profile_everywhere(tmp_path, redis_server,
                                                                                        key_file, fake):
    world = Fleet(tmp_path / "fleet", redis_server.url, key_file, fake)
    a, b = world.add("a", min_replicas=0), world.add("b", min_replicas=0)
    world.seed(a, "p")
    b_before = access_token(b, "p")

    # No replicas configured: the commit clears its intent, every machine uses the rotation at once.
    check(a.run("refresh", "p", **a.hooks(hostname="host-a")))
    store = redis_server.client()
    backend = a.backend()
    assert not store.exists(backend.keys.intent("p"))
    row = status_row(b, "p")
    assert row["health"] == "ok" and row["source"] != "store", row
    assert access_token(b, "p") == fake.live_access_token("p") != b_before
    rc, picked = b.run_json("pick")
    assert rc == 0 and picked["data"]["name"] == "p", picked
    rc, status = b.run_json("state", "status")
    assert rc == 0 and status["data"]["unreplicated"] == [], status

    # The same store state a commit leaves when no replica confirmed it (another machine's rotation).
    keep_intent(store, a, "p", "host-z")
    b_file = (b.profiles / "p" / ".credentials.json").read_bytes()
    usage_requests = len([r for r in fake.requests if "usage" in r["path"]])
    row = status_row(b, "p")
    assert row["health"] == "unknown" and row["source"] == "store", row
    assert "host-z" in row["error"] and "not replicated yet" in row["error"], row
    assert row["expires_at"] is None, row  # nothing of the record is reported
    rc, shown = b.run_json("show", "p")
    assert rc == 0 and shown["data"]["health"] == "unknown" and shown["data"]["expires_at"] is None, shown
    rc, probed = b.run_json("probe", "p")
    assert rc == 0 and "withheld" in json.dumps(probed), probed
    rc, picked = b.run_json("pick", "--explain")
    assert rc == 7 and picked["error"]["details"]["reason"] == "all_withheld", picked
    assert "host-z" in picked["error"]["message"], picked
    rc, refreshed = b.run_json("refresh", "p")
    assert rc == 7 and "withheld" in refreshed["error"]["message"], refreshed
    assert (b.profiles / "p" / ".credentials.json").read_bytes() == b_file  # nothing copied, nothing touched
    assert len([r for r in fake.requests if "usage" in r["path"]]) == usage_requests  # its token never sent

    # state status and doctor list it from the store on a machine that did not rotate it.
    rc, status = b.run_json("state", "status")
    assert rc == 0, status
    (item,) = status["data"]["unreplicated"]
    assert (item["profile"], item["version"], item["host"], item["this_machine"], item["in_store"]) == \
        ("p", 2, "host-z", False, True), item
    assert 0 < item["intent_ttl_s"] <= 30, item
    assert any("p v2 (rotated on host-z)" in w for w in status["data"]["warnings"]), status
    text = b.run("state", "status")
    assert "unreplicated p v2 (rotated on host-z)" in text.stdout, text.stdout
    check_ = replication_check(b)
    assert check_["level"] == "warn" and "p v2 (rotated on host-z)" in check_["message"], check_

    # The intent goes (a replica confirmed, or it lapsed): the profile is usable again at once.
    store.delete(backend.keys.intent("p"))
    row = status_row(b, "p")
    assert row["health"] == "ok" and row["expires_at"], row
    rc, picked = b.run_json("pick")
    assert rc == 0 and picked["data"]["name"] == "p", picked
    assert (fake.token_posts, fake.reuse_count) == (1, 0)


def test_pick_takes_another_profile_over_a_withheld_one(tmp_path, redis_server, key_file, fake):
    world = Fleet(tmp_path / "fleet", redis_server.url, key_file, fake)
    a = world.add("a")
    world.seed(a, "p", "q")
    check(a.run("refresh", "p"))
    keep_intent(redis_server.client(), a, "p", "host-z")
    check(a.run("status", "--no-cache"))  # q is probed ok; p withheld
    rc, picked = a.run_json("pick", "--strategy", "first-healthy", "--explain")
    assert rc == 0 and picked["data"]["name"] == "q", picked
    check(a.run("exec", "--strategy", "first-healthy", "--", "true"))  # runs on q
    rc, out = a.run_json("exec", "--avoid", "q", "--json", "--", "true")
    assert rc == 7 and out["error"]["details"]["reason"] == "all_withheld", out
    rc, out = a.run_json("snapshot", "p", str(a.root / "snap.json"))  # an access-only copy: withheld too
    assert rc == 7 and "withheld" in out["error"]["message"] and not (a.root / "snap.json").exists(), out


# -- the real fault: a replica that stops between the POST and the commit's WAIT -----------------------

def sentinel_fleet(root: Path, cluster, key: Path, fake, labels, **options) -> Fleet:
    world = Fleet(root, "redis://", key, fake)
    for label in labels:
        machine = world.add(label, **{"retries": 1, **cluster.options(), **options})
        machine.extra = {**machine.extra, **machine.hooks()}  # a hostname of its own (host-LABEL)
    return world


@needs_sentinel
def test_an_unreplicated_rotation_is_used_and_reported_nowhere_until_a_replica_has_it(tmp_path, sentinel_cluster,
                                                                                     key_file, fake):
    world = sentinel_fleet(tmp_path / "fleet", sentinel_cluster, key_file, fake, ["a", "b"], min_replicas=1,
                           wait_timeout="0.5s")
    a, b = world.machines
    world.seed(a, "p")
    a_before, b_before = access_token(a, "p"), access_token(b, "p")
    with rotation_no_replica_confirms(a, sentinel_cluster) as (out, err):
        new_access = fake.live_access_token("p")
        assert json.loads(out)["data"]["status"] == "refreshed" and new_access != a_before

        # Machine b: status, show and pick neither use nor report it; its tree keeps the old copy.
        row = status_row(b, "p")
        assert row["health"] == "unknown" and row["source"] == "store" and row["expires_at"] is None, row
        assert "host-a" in row["error"] and "not replicated yet" in row["error"], row
        rc, shown = b.run_json("show", "p")
        assert rc == 0 and shown["data"]["expires_at"] is None, shown
        rc, picked = b.run_json("pick")
        assert rc == 7 and "host-a" in picked["error"]["message"], picked
        assert access_token(b, "p") == b_before
        rc, status = b.run_json("state", "status")
        assert [(u["profile"], u["version"], u["host"], u["this_machine"]) for u in status["data"]["unreplicated"]] \
            == [("p", 2, "host-a", False)], status

        # Machine a itself: its next run re-sends (no replica yet), then withholds it too; the tree copy
        # was never written, the journal and the sealed mirror keep it.
        row = status_row(a, "p")
        assert row["health"] == "unknown" and "this machine" in row["error"], row
        assert access_token(a, "p") == a_before
        rc, status = a.run_json("state", "status")
        (item,) = status["data"]["unreplicated"]
        assert item["this_machine"] and item["in_store"] and item["in_journal"], item
    sentinel_cluster.wait_stable(strict=False)

    # The replica is back, but only a re-send confirms it: b still withholds until a runs again.
    assert status_row(b, "p")["source"] == "store"
    row = status_row(a, "p")  # re-sent, confirmed, intent cleared, then read and probed
    assert row["health"] == "ok" and row["expires_at"], row
    assert access_token(a, "p") == new_access
    row = status_row(b, "p")
    assert row["health"] == "ok" and row["expires_at"], row
    check(b.run("state", "sync"))  # a read of the record (status may answer from a's fresh probe)
    assert access_token(b, "p") == new_access
    rc, status = b.run_json("state", "status")
    assert status["data"]["unreplicated"] == [], status
    assert (fake.token_posts, fake.reuse_count) == (1, 0)


@needs_sentinel
def test_a_rotation_committed_from_the_journal_without_a_replica_is_withheld_too(tmp_path, sentinel_cluster,
                                                                                key_file, fake):
    """A run killed after its POST leaves the rotation in its journal; the next run commits it. With no
    replica to confirm it, that commit keeps the intent, and the health every machine had cached for the
    spent credentials goes, so nobody keeps picking the profile from the cache."""
    world = sentinel_fleet(tmp_path / "fleet", sentinel_cluster, key_file, fake, ["a", "b"], min_replicas=1,
                           wait_timeout="0.5s")
    a, b = world.machines
    world.seed(a, "p")
    assert status_row(b, "p")["health"] == "ok"  # probed: a cached verdict on the credentials about to be spent
    proc = a.popen("refresh", "p", **a.hooks("journal", kill=True))
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    replica = sentinel_cluster.replica()
    os.kill(replica.proc.pid, signal.SIGSTOP)
    try:
        row = status_row(a, "p")  # commits the journal (no replica confirms it), then withholds it
        assert row["source"] == "store" and "this machine" in row["error"], row
        row = status_row(b, "p")
        assert row["health"] == "unknown" and "host-a" in row["error"] and row["expires_at"] is None, row
        rc, picked = b.run_json("pick")
        assert rc == 7 and picked["error"]["details"]["reason"] == "all_withheld", picked
    finally:
        os.kill(replica.proc.pid, signal.SIGCONT)
    sentinel_cluster.wait_stable(strict=False)
    assert status_row(a, "p")["health"] == "ok"  # re-sent and confirmed
    rc, picked = b.run_json("pick")
    assert rc == 0 and picked["data"]["name"] == "p", picked
    check(b.run("state", "sync"))
    assert access_token(b, "p") == fake.live_access_token("p")
    assert (fake.token_posts, fake.reuse_count) == (1, 0)
