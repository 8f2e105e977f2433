"""``roost state rekey``: rotate the fleet's encryption key without a refresh, and without losing a journal.

The key file starts with K1; a profile is seeded; K2 is prepended (new key
first on every machine), ``rekey`` re-seals the store and this machine's
mirrors; K1 is dropped; both machines still read and refresh the profile.
"""

from __future__ import annotations

import time

from fleetkit.fixtures import fleet, key_file, machines, needs_redis, redis_server  # noqa: F401 (fixtures)
from fleetkit.machines import check
from roost_redis.keys import Keyspace
from test_scaleout_backend import init, make_profile, rotated

pytestmark = needs_redis


def _fernet(key: bytes):
    from cryptography.fernet import Fernet

    return Fernet(key.strip())


def _stored(redis_server, name: str) -> dict[str, bytes]:
    raw = redis_server.client().hgetall(Keyspace().cred(name))
    return {k.decode(): v for k, v in raw.items()}


def _prepend_new_key(key_file) -> tuple[bytes, bytes]:
    from roost_redis.crypto import generate_key

    old, new = key_file.read_bytes().strip(), generate_key()
    key_file.write_bytes(new + b"\n" + old + b"\n")
    return old, new


def test_rekey_then_drop_the_old_key(fleet, key_file):
    a, b, fake = fleet.a, fleet.b, fleet.fake
    fleet.seed(a, "p")
    before = _stored(fleet.redis, "p")
    k1, k2 = _prepend_new_key(key_file)

    rc, out = a.run_json("state", "rekey")
    assert rc == 0, out
    assert [(r["name"], r["status"], r["version"]) for r in out["data"]] == [("p", "rekeyed", 1)]
    after = _stored(fleet.redis, "p")
    # Same version, commit time and rotation id; a new blob sealed with K2, a new fingerprint.
    for field in ("v", "updated_ms", "rotation_id", "expires_at_ms"):
        assert after[field] == before[field], field
    assert after["blob"] != before["blob"] and after["fp"] != before["fp"]
    _fernet(k2).decrypt(after["blob"])
    assert after["prior_fps"] == b"1:" + before["fp"]
    # This machine's sealed mirror was re-sealed too; b's is re-sealed on its next read.
    assert a.backend().sealer().is_current(a.backend().local.mirrored_cred("p")["blob"].encode())

    rc, again = a.run_json("state", "rekey")  # nothing left to do: no version moves
    assert rc == 0 and [r["status"] for r in again["data"]] == ["current"]
    assert _stored(fleet.redis, "p") == after

    key_file.write_bytes(k2 + b"\n")  # K1 dropped everywhere
    check(b.run("show", "p"))
    b_mirror = b.backend().local.mirrored_cred("p")
    _fernet(k2).decrypt(b_mirror["blob"].encode())
    check(a.run("refresh", "p"))
    rc, shown = b.run_json("probe", "p")
    assert rc == 0, shown
    assert (fake.token_posts, fake.reuse_count) == (1, 0)
    assert _stored(fleet.redis, "p")["v"] == b"2" and _stored(fleet.redis, "p")["prior_fps"] == b""


def test_a_busy_lock_or_a_spend_intent_elsewhere_is_skipped_with_exit_7(fleet, key_file):
    a, b = fleet.a, fleet.b
    fleet.seed(a, "p", "q")
    _prepend_new_key(key_file)
    before = _stored(fleet.redis, "p")

    holder = a.backend()
    with holder.lock("refresh:p", timeout=1):
        rc, out = b.run_json("state", "rekey", "--wait", "0")
    assert rc == 7, out
    assert {r["name"]: r["status"] for r in out["data"]} == {"p": "skipped", "q": "rekeyed"}
    assert out["meta"]["exit_code"] == 7 and out["meta"]["counts"]["skipped"] == 1
    assert _stored(fleet.redis, "p") == before  # untouched

    # A spend intent of another machine (a rotation in flight): never disturbed.
    keys = Keyspace()
    client = fleet.redis.client()
    client.hset(keys.intent("p"), mapping={"owner": "elsewhere:1:x", "host": "elsewhere", "v": "1",
                                           "pid": "1", "boot": "", "pstart": "", "rotation_id": "r"})
    client.pexpire(keys.intent("p"), 30_000)
    proc = b.run("state", "rekey", "--wait", "0")
    assert proc.returncode == 7 and "rotation is in flight" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert _stored(fleet.redis, "p") == before
    client.delete(keys.intent("p"))
    rc, out = b.run_json("state", "rekey")
    assert rc == 0 and {r["name"]: r["status"] for r in out["data"]} == {"p": "rekeyed", "q": "current"}


def test_a_journal_anchored_on_the_old_fingerprint_still_commits(machines, key_file):
    """A commit that read the record before the rekey (same version, old fingerprint) is not a conflict."""
    from roost_core.errors import Conflict

    a = machines.machine("a")
    init(a)
    pa = make_profile(a, "p")
    old = a.read_credentials(pa)  # a's read mark: v1 and the K1 fingerprint
    _prepend_new_key(key_file)
    rekeyer = machines.machine("rekeyer")
    from roost_redis.rekey import rekey_store

    assert [r.status for r in rekey_store(rekeyer, 1.0)] == ["rekeyed"]
    a.write_credentials(pa, rotated(old, 1))  # e.g. a journal flushed after the rekey
    assert int(a.creds.fetch("p").v) == 2

    # Only the fingerprint the rekey replaced, at that version, is accepted: a stale one is not.
    b = machines.machine("b")
    pb = make_profile(b, "p")
    b.read_credentials(pb)
    b.write_credentials(pb, rotated(old, 2))
    try:
        a.write_credentials(pa, rotated(old, 3))
    except Conflict:
        pass
    else:
        raise AssertionError("a write based on v2 was accepted at v3")


def test_rekey_reports_a_record_no_key_opens(fleet, key_file):
    from roost_redis.crypto import generate_key

    a = fleet.a
    fleet.seed(a, "p")
    key_file.write_bytes(generate_key() + b"\n")  # K1 lost before the rekey: nothing can open p
    started = time.monotonic()
    rc, out = a.run_json("state", "rekey")
    assert rc == 1 and out["data"][0]["status"] == "failed", out
    assert "do not decrypt" in out["data"][0]["detail"]
    assert time.monotonic() - started < 30
