"""Faults between roost and Redis: lost replies, a stalled server, restarts with and without data.

A small TCP proxy (fleetkit.proxy) sits between the backend and Redis and
drops the reply of a chosen command *after* Redis ran it, or stalls. Redis
itself is SIGSTOPped, SIGKILLed and restarted, with its AOF or empty.
"""

from __future__ import annotations

import hashlib
import json
import time

import pytest

from fleetkit.fixtures import fleet, key_file, machines, needs_redis, redis_server  # noqa: F401 (fixtures)
from fleetkit.machines import canary, check
from fleetkit.proxy import FaultyProxy
from roost_core.errors import Conflict, Unavailable
from roost_redis import scripts
from test_scaleout_backend import init, make_profile, rotated

pytestmark = needs_redis


def sha(script: str) -> bytes:
    return hashlib.sha1(script.encode()).hexdigest().encode()


@pytest.fixture
def proxy(redis_server):
    # Scripts preloaded: redis-py's first EVALSHA then runs the script instead of
    # answering NOSCRIPT, so "the reply to this script's sha" is its real answer.
    client = redis_server.client()
    for source in scripts.ALL.values():
        client.script_load(source)
    p = FaultyProxy(redis_server.port).start()
    try:
        yield p
    finally:
        p.stop()


def through(machines, proxy, label="a", **overrides):
    return machines.machine(label, url=proxy.url, **overrides)


# -- lost replies: every script is idempotent for its caller --------------------------

def test_lost_reply_to_acquire_is_still_a_grant(machines, proxy, redis_server):
    a = through(machines, proxy, retries=1)
    proxy.drop_reply_to(sha(scripts.ACQUIRE))
    with a.lock("x", timeout=2):
        assert proxy.dropped == 1
        owner = redis_server.client().get(a.keys.lock("x")).decode()
        assert owner == a._held["x"].owner  # the retry found its own owner: granted, not "busy"
    assert redis_server.client().get(a.keys.lock("x")) is None


def test_lost_reply_without_retries_leaves_no_lock_past_its_ttl(machines, proxy, redis_server):
    a = through(machines, proxy, retries=0, lock_ttl=1.0)
    proxy.drop_reply_to(sha(scripts.ACQUIRE))
    with pytest.raises(Unavailable):
        with a.lock("x", timeout=2):
            pass
    key = a.keys.lock("x")
    assert 0 < redis_server.client().pttl(key) <= 1000
    time.sleep(1.1)
    assert redis_server.client().get(key) is None


def test_lost_reply_to_commit_is_not_a_second_rotation(machines, proxy, redis_server):
    direct = machines.machine("direct")
    init(direct)
    make_profile(direct, "p")
    a = through(machines, proxy, retries=1)
    pa = make_profile(a, "p")
    with a.lock("refresh:p", timeout=2):
        old = a.read_credentials(pa)
        a.begin_spend(pa)
        proxy.drop_reply_to(sha(scripts.CAS_CRED))
        a.write_credentials(pa, rotated(old, 1))
    assert proxy.dropped == 1
    assert redis_server.client().hget(a.keys.cred("p"), "v") == b"2"  # +1, not +2
    assert list(a.journal.entries()) == []


def test_lost_commit_reply_without_retries_is_committed_once_next_run(machines, proxy, redis_server):
    direct = machines.machine("direct")
    init(direct)
    a = through(machines, proxy, retries=0, lock_ttl=1.0)
    pa = make_profile(a, "p")
    with a.lock("refresh:p", timeout=2):
        old = a.read_credentials(pa)
        a.begin_spend(pa)
        proxy.drop_reply_to(sha(scripts.CAS_CRED))
        with pytest.raises(Unavailable, match="journal"):
            a.write_credentials(pa, rotated(old, 1))
    assert redis_server.client().hget(a.keys.cred("p"), "v") == b"2"  # it did land
    assert len(list(a.journal.entries())) == 1
    nxt = through(machines, proxy, retries=0)
    with nxt.lock("refresh:p", timeout=3):
        assert b"rot1CANARY" in nxt.read_credentials(pa)
    assert list(nxt.journal.entries()) == []
    assert redis_server.client().hget(a.keys.cred("p"), "v") == b"2"  # "already committed"


def test_lost_reply_to_xadd_is_deduplicated_on_read(machines, proxy, redis_server):
    a = through(machines, proxy, retries=1)
    proxy.drop_reply_to(b"XADD")
    a.append_line("picks.log", "once")
    assert redis_server.client().xlen(a.keys.log("picks.log")) == 2  # the retried XADD landed twice
    assert list(a.iter_lines("picks.log")) == ["once\n"]


# -- a stalled or paused server: every call has a deadline ------------------------------

@pytest.mark.parametrize("fault", ["blackhole", "slow-replies", "sigstop"])
def test_every_call_has_a_deadline(machines, redis_server, fault):
    settings = dict(timeout=0.3, connect_timeout=0.3, retries=1)
    if fault == "sigstop":
        a = machines.machine("a", **settings)
        init(a)
        redis_server.pause()
    else:
        proxy = FaultyProxy(redis_server.port, blackhole=fault == "blackhole", delay_s=5.0).start()
        a = machines.machine("a", url=proxy.url, **settings)
    try:
        bound = a.settings.call_deadline + 1.0
        start = time.monotonic()
        assert a.read_doc("health") == {}  # degraded: the (empty) local copy
        assert time.monotonic() - start < bound
        a.conn._down = None  # forget the memo: time a second, independent call
        start = time.monotonic()
        with pytest.raises(Unavailable):
            with a.lock("refresh:p", timeout=5):
                pass
        assert time.monotonic() - start < bound
    finally:
        if fault == "sigstop":
            redis_server.resume()
        else:
            proxy.stop()


# -- restarts ----------------------------------------------------------------------------

def _refresh_in_process(machine, name):
    from roost_core.refresh import refresh_profile

    return refresh_profile(machine.context(), machine.profile(name), force=True)


def _stored_refresh_token(machine, name):
    return json.loads(machine.backend().creds.read(machine.profile(name)))["claudeAiOauth"]["refreshToken"]


@pytest.mark.parametrize("cycles", [100, pytest.param(500, marks=pytest.mark.stress)])
def test_redis_restarts_with_persistence_lose_no_rotation(fleet, cycles):
    fake, redis = fleet.fake, fleet.redis
    fleet.seed(fleet.a, "p")
    lost = 0
    for i in range(cycles):
        machine = (fleet.a, fleet.b)[i % 2]
        assert _refresh_in_process(machine, "p").status == "refreshed"
        redis.kill()  # SIGKILL right after the acknowledged commit
        redis.restart()
        if _stored_refresh_token(fleet.b, "p") != fake.live_refresh_token("p"):
            lost += 1
    print(f"\n[scale-out] lost credentials across {cycles} Redis SIGKILL+restarts with AOF: {lost}")
    assert lost == 0 and fake.token_posts == cycles and fake.reuse_count == 0


@pytest.mark.parametrize("how", ["no-persistence", pytest.param("wiped", marks=pytest.mark.stress)])
def test_store_restarted_empty_refuses_refresh_until_restore(fleet, how):
    a, b, fake, redis = fleet.a, fleet.b, fleet.fake, fleet.redis
    fleet.seed(a, "p")
    check(a.run("refresh", "p"))
    check(b.run("show", "p", "--offline"))  # b's mirror holds the rotated record
    if how == "wiped":
        redis.wipe()
    else:
        redis.persistence = False
        redis.restart()  # an AOF-less restart: the dataset is gone
        redis.persistence = True
    posts = fake.token_posts
    for machine in (a, b):
        rc, err = machine.run_json("refresh", "p")
        assert rc == 9 and "restore" in err["error"]["message"], err
    assert fake.token_posts == posts
    rc, status = b.run_json("status", "--no-platform-status")
    assert rc == 0  # status still answers from the mirror
    rc, restored = b.run_json("state", "restore")
    assert rc == 0 and restored["data"]["pushed"] == {"p": 2}, restored
    rc, again = a.run_json("state", "restore")
    assert rc == 0 and again["data"]["kept"] == {"p": 2}
    check(a.run("refresh", "p"))
    assert fake.token_posts == posts + 1 and fake.reuse_count == 0
    assert _stored_refresh_token(b, "p") == fake.live_refresh_token("p")


def test_wrong_password_is_a_clear_unavailable(fleet):
    a = fleet.a
    fleet.seed(a, "p")
    client = fleet.redis.client()
    client.config_set("requirepass", "s3cret-pw")
    try:
        rc, err = a.run_json("refresh", "p")
        assert rc == 9 and "redis" in err["error"]["message"]
        assert "authentication" in err["error"]["message"] or "NOAUTH" in err["error"]["message"]
        assert "s3cret" not in json.dumps(err)
    finally:
        import redis as redis_py

        redis_py.Redis(port=fleet.redis.port, password="s3cret-pw").config_set("requirepass", "")


def test_an_acl_user_limited_to_the_prefix_runs_the_fleet(fleet):
    """The ACL of docs/SCALE-OUT.md is enough for every command the fleet runs."""
    a, b, fake = fleet.a, fleet.b, fleet.fake
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "SCALE-OUT.md").read_text()
    line = next(x.strip() for x in doc.splitlines() if x.strip().startswith("ACL SETUSER roost "))
    fleet.redis.client().execute_command(*line.replace(">PASSWORD", ">roost-pw").split())
    url = f"redis://roost:roost-pw@127.0.0.1:{fleet.redis.port}/0"
    for machine in (a, b):
        machine.redis_url = url
        machine.write_config()
    a.make_profile("p")
    fake.add_account("p", access_token=canary("access", "p"), refresh_token=canary("refresh", "p"))
    check(a.run("state", "init"))
    check(a.run("show", "p"))
    check(b.run("state", "sync"))
    check(b.run("refresh", "p"))
    check(a.run("pick"))
    check(b.run("history"))
    check(a.run("state", "status"))
    check(b.run("exec", "--", "true"))
    assert fake.token_posts == 1 and fake.reuse_count == 0
    check(a.run("rename", "p", "r"))  # membership scripts: tombstones, HDEL of the old name
    check(b.run("list"))
    check(b.run("remove", "r"))
    assert a.run("list").stdout.split() == []
    denied = fleet.redis.client()
    denied.set("not-roost:x", "1")  # the roost user cannot touch other keys
    import redis as redis_py

    with pytest.raises(redis_py.exceptions.NoPermissionError):
        redis_py.Redis.from_url(url).get("not-roost:x")


def test_conflicting_journal_is_set_aside_not_retried(machines, redis_server):
    a, b = machines.machine("a", lock_ttl=1.0), machines.machine("b")
    init(a)
    pa, pb = make_profile(a, "p"), make_profile(b, "p")
    old = a.read_credentials(pa)
    b.read_credentials(pb)
    b.write_credentials(pb, rotated(old, 9))  # the store moves on
    with pytest.raises(Conflict):
        a.write_credentials(pa, rotated(old, 1))
    assert list(a.journal.entries()) == [] and len(a.journal.conflicts()) == 1
