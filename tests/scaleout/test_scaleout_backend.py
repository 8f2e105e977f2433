"""The redis state backend, in process, against a real redis-server.

Each ``machines.machine(label)`` is a separate backend instance with its own
config and profiles directories (its own mirror, journal and spool), sharing
one store: what two machines of a fleet see.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
import time
from pathlib import Path

import pytest

from fleetkit.fixtures import key_file, machines, needs_redis, redis_server  # noqa: F401 (fixtures)
from roost_core import leases
from roost_core.errors import Conflict, LeaseHeld, Unavailable
from roost_core.records import Profile

ACCESS = "sk-ant-oat01-accUNITCANARY" + "x" * 24
REFRESH = "sk-ant-ort01-refUNITCANARY" + "x" * 24


pytestmark = needs_redis


def make_profile(backend, name: str, access: str = ACCESS, refresh: str | None = REFRESH,
                 expires_in: float = 8 * 3600) -> Profile:
    directory = backend.paths.profiles_tree / name
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    oauth = {"accessToken": access, "expiresAt": int((time.time() + expires_in) * 1000),
             "scopes": ["user:inference"], "subscriptionType": "max"}
    if refresh:
        oauth["refreshToken"] = refresh
    path = directory / ".credentials.json"
    path.write_text(json.dumps({"claudeAiOauth": oauth, "mcpOAuth": {"keep": "me"}}))
    os.chmod(path, 0o600)
    return Profile(name, directory)


def rotated(data: bytes, n: int) -> bytes:
    doc = json.loads(data)
    doc["claudeAiOauth"]["accessToken"] = f"sk-ant-oat01-rot{n}CANARY" + "y" * 24
    doc["claudeAiOauth"]["refreshToken"] = f"sk-ant-ort01-rot{n}CANARY" + "y" * 24
    return json.dumps(doc).encode()


def init(backend) -> str:
    from roost_redis.restore import init_store

    return init_store(backend)[1]


# -- documents ---------------------------------------------------------------------

def test_documents_are_shared_between_machines(machines):
    a, b = machines.machine("a"), machines.machine("b")
    assert a.read_doc("health") == {}
    a.update_doc("health", lambda d: {"version": 1, "profiles": {"p": {"health": "ok"}}})
    assert b.read_doc("health") == {"version": 1, "profiles": {"p": {"health": "ok"}}}
    b.update_doc("health", lambda d: d["profiles"].update(q={"health": "rate_limited"}))
    assert set(a.read_doc("health")["profiles"]) == {"p", "q"}


def _bump(settings_kwargs, base: str, n: int) -> None:
    from roost_core.paths import Paths
    from roost_redis.backend import RedisBackend
    from roost_redis.settings import RedisSettings

    b = RedisBackend(RedisSettings(**settings_kwargs), Path(base) / "config",
                     Paths(Path(base) / "config", Path(base) / "profiles", None), lambda m: None, time.time)
    for _ in range(n):
        b.update_doc("counter", lambda d: {"n": d.get("n", 0) + 1})


def test_update_doc_loses_no_write_across_processes(machines, tmp_path):
    settings = machines.settings()
    kwargs = {k: getattr(settings, k) for k in settings.__dataclass_fields__}
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_bump, args=(kwargs, str(tmp_path / f"p{i}"), 25)) for i in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert machines.machine("check").read_doc("counter") == {"n": 100}


def test_corrupt_document_warns_and_rebuilds(machines, redis_server):
    a = machines.machine("a")
    redis_server.client().hset(a.keys.doc("leases-not"), mapping={"v": 3, "json": "{nope"})
    assert a.read_doc("leases-not") == {}
    assert any("corrupt" in w for w in a.warnings)
    a.update_doc("leases-not", lambda d: {"ok": True})
    assert machines.machine("b").read_doc("leases-not") == {"ok": True}


# -- locks -------------------------------------------------------------------------

def test_lock_excludes_other_machines_and_times_out_with_conflict(machines):
    a, b = machines.machine("a"), machines.machine("b")
    with a.lock("probe:x", timeout=1):
        start = time.monotonic()
        with pytest.raises(Conflict):
            with b.lock("probe:x", timeout=0.3):
                pass
        assert time.monotonic() - start < 2
    with b.lock("probe:x", timeout=1):
        pass


def test_watchdog_keeps_a_lock_past_its_ttl(machines):
    # A TTL of seconds, not tenths: on a loaded box the watchdog thread may wait that long for the GIL.
    a, b = machines.machine("a", lock_ttl=2.0), machines.machine("b", lock_ttl=2.0)
    with a.lock("long", timeout=1):
        time.sleep(4.5)  # more than twice the TTL
        with pytest.raises(Conflict):
            with b.lock("long", timeout=0.2):
                pass
        assert not a._held["long"].lost


def test_a_stolen_lock_is_detected_as_lost(machines, redis_server):
    a = machines.machine("a", lock_ttl=0.6)
    with a.lock("x", timeout=1):
        redis_server.client().set(a.keys.lock("x"), "someone-else")
        deadline = time.monotonic() + 5  # the watchdog looks every 0.2 s (later on a loaded box)
        while not a._held["x"].lost and time.monotonic() < deadline:
            time.sleep(0.05)
        assert a._held["x"].lost
    # release did not delete the other owner's key
    assert redis_server.client().get(a.keys.lock("x")) == b"someone-else"


# -- logs --------------------------------------------------------------------------

def test_log_is_a_bounded_stream_read_oldest_first(machines):
    a, b = machines.machine("a", stream_maxlen=50), machines.machine("b", stream_maxlen=50)
    for i in range(300):
        (a if i % 2 else b).append_line("picks.log", f"line {i}")
    lines = list(a.iter_lines("picks.log"))
    assert lines[-1] == "line 299\n"
    assert 50 <= len(lines) < 300  # approximate trimming keeps at least MAXLEN
    numbers = [int(x.split()[1]) for x in lines]
    assert numbers == sorted(numbers)


# -- credentials ---------------------------------------------------------------------

def test_credentials_need_an_initialised_store(machines):
    a = machines.machine("a")
    profile = make_profile(a, "p")
    assert json.loads(a.read_credentials(profile))["claudeAiOauth"]["refreshToken"] == REFRESH  # degraded: local
    assert a.degraded and any("not initialised" in w for w in a.warnings)
    with pytest.raises(Unavailable, match="roost state init"):
        with a.lock("refresh:p", timeout=0.5):
            pass


def test_first_read_imports_and_leaves_an_access_only_local_copy(machines, redis_server):
    a, b = machines.machine("a"), machines.machine("b")
    init(a)
    pa = make_profile(a, "p")
    data = a.read_credentials(pa)
    assert json.loads(data)["claudeAiOauth"]["refreshToken"] == REFRESH
    local = json.loads(pa.credentials_path.read_text())
    assert "refreshToken" not in local["claudeAiOauth"]
    assert local["claudeAiOauth"]["accessToken"] == ACCESS and local["mcpOAuth"] == {"keep": "me"}
    # machine b has a stale local copy of its own: the store wins, b's file is never imported
    pb = make_profile(b, "p", access="sk-ant-oat01-STALEb" + "z" * 30, refresh="sk-ant-ort01-STALEb" + "z" * 30)
    assert json.loads(b.read_credentials(pb))["claudeAiOauth"]["refreshToken"] == REFRESH
    assert json.loads(pb.credentials_path.read_text())["claudeAiOauth"]["accessToken"] == ACCESS
    assert REFRESH.encode() not in redis_server.persistence_bytes()


def test_write_is_a_versioned_compare_and_set(machines):
    a, b = machines.machine("a"), machines.machine("b")
    init(a)
    pa, pb = make_profile(a, "p"), make_profile(b, "p")
    old = a.read_credentials(pa)
    b.read_credentials(pb)
    a.write_credentials(pa, rotated(old, 1))
    with pytest.raises(Conflict, match="changed in the store"):
        b.write_credentials(pb, rotated(old, 2))  # b read v1, the store is at v2
    assert b"rot1CANARY" in b.read_credentials(pb)
    b.write_credentials(pb, rotated(old, 3))  # after a fresh read it may write
    assert b"rot3CANARY" in a.read_credentials(pa)
    assert a.creds.reads["p"].v == 3


def test_sealed_blob_is_bound_to_its_profile(machines, redis_server):
    from roost_redis.crypto import IntegrityError

    a = machines.machine("a")
    init(a)
    p, q = make_profile(a, "p"), make_profile(a, "q", access=ACCESS + "q", refresh=REFRESH + "q")
    a.read_credentials(p)
    a.read_credentials(q)
    client = redis_server.client()
    client.hset(a.keys.cred("q"), "blob", client.hget(a.keys.cred("p"), "blob"))
    with pytest.raises(IntegrityError):
        machines.machine("b").creds.read(make_profile(machines.machine("b"), "q"))


def test_refresh_lock_spend_intent_and_commit(machines, redis_server):
    a, b = machines.machine("a"), machines.machine("b")
    init(a)
    pa, pb = make_profile(a, "p"), make_profile(b, "p")
    with a.lock("refresh:p", timeout=1):
        old = a.read_credentials(pa)
        a.begin_spend(pa)
        intent = redis_server.client().hgetall(a.keys.intent("p"))
        assert intent[b"v"] == b"1" and intent[b"host"]
        # a lease cannot be added while the token rotates
        with pytest.raises(Conflict, match="being refreshed"):
            leases.acquire(b.ctx, "p", 60)
        a.write_credentials(pa, rotated(old, 1))
        assert not redis_server.client().exists(a.keys.intent("p"))  # the commit cleared it
    assert b"rot1CANARY" in b.read_credentials(pb)
    assert redis_server.client().hget(a.keys.cred("p"), "fence") == b"1"


def test_spend_intent_blocks_other_machines_after_the_lock_lapses(machines):
    a, b = machines.machine("a", lock_ttl=1.0), machines.machine("b", lock_ttl=1.0)
    init(a)
    pa = make_profile(a, "p")
    make_profile(b, "p")
    lock = a.lock("refresh:p", timeout=1)
    lock.__enter__()
    a.read_credentials(pa)
    a.begin_spend(pa)
    a.held_refresh("p").stop_watchdog()  # a is "paused" after its POST: the lock lapses
    time.sleep(1.2)
    with pytest.raises(Conflict, match="rotation is in flight"):
        with b.lock("refresh:p", timeout=0.5):
            pass
    old = a.creds.read_mirror(pa)
    a.write_credentials(pa, rotated(old, 1))  # the paused holder still commits its rotation
    lock.__exit__(None, None, None)
    with b.lock("refresh:p", timeout=1):
        assert b"rot1CANARY" in b.read_credentials(Profile("p", b.paths.profiles_tree / "p"))


def test_begin_spend_refuses_while_any_machine_holds_a_lease(machines):
    a, b = machines.machine("a"), machines.machine("b")
    init(a)
    pa = make_profile(a, "p")
    make_profile(b, "p")
    lease = leases.acquire(b.ctx, "p", 60)
    assert [x.id for x in leases.active(a.ctx, "p")] == [lease.id]
    with a.lock("refresh:p", timeout=1):
        a.read_credentials(pa)
        with pytest.raises(LeaseHeld):
            a.begin_spend(pa)
    leases.release(b.ctx, lease.id)
    with a.lock("refresh:p", timeout=1):
        a.read_credentials(pa)
        a.begin_spend(pa)


def test_leases_expire_on_the_server_clock(machines):
    skewed = machines.machine("fast-clock", now=lambda: time.time() + 900)
    normal = machines.machine("b")
    lease = leases.acquire(normal.ctx, "p", 1.0)
    # a machine whose clock is 15 min ahead still sees the lease as live
    assert [x.id for x in leases.active(skewed.ctx, "p")] == [lease.id]
    time.sleep(1.2)
    assert leases.active(skewed.ctx, "p") == [] and leases.active(normal.ctx, "p") == []


def test_core_refresh_lock_names_map_to_one_key_on_every_machine(machines):
    a, b = machines.machine("a"), machines.machine("b")
    init(a)
    pa, pb = make_profile(a, "p"), make_profile(b, "p")
    assert os.path.realpath(pa.credentials_path) != os.path.realpath(pb.credentials_path)
    with a.lock("refresh:" + os.path.realpath(pa.credentials_path), timeout=1):
        with pytest.raises(Conflict):
            with b.lock("refresh:" + os.path.realpath(pb.credentials_path), timeout=0.3):
                pass


def test_claim_goes_to_one_machine(machines):
    a, b = machines.machine("a"), machines.machine("b")
    with a.claim("probe:p", 5) as first:
        with b.claim("probe:p", 5) as second:
            assert (first, second) == (True, False)
    with b.claim("probe:p", 5) as again:
        assert again


def test_journal_survives_a_store_outage_and_commits_next_run(machines, redis_server):
    a = machines.machine("a", lock_ttl=1.0)
    init(a)
    pa = make_profile(a, "p")
    lock = a.lock("refresh:p", timeout=1)
    lock.__enter__()
    old = a.read_credentials(pa)
    a.begin_spend(pa)
    redis_server.pause()  # the POST succeeded; now the store stops answering
    try:
        with pytest.raises(Unavailable, match="local journal"):
            a.write_credentials(pa, rotated(old, 1))
        assert len(list(a.journal.entries())) == 1
        a.held_refresh("p").stop_watchdog()
        a._held.clear()
    finally:
        redis_server.resume()
    # the next run on that machine commits the journal before it locks anything
    again = machines.machine("a")
    with again.lock("refresh:p", timeout=3):  # the dead run's lock lapses after its TTL
        assert b"rot1CANARY" in again.read_credentials(pa)
    assert list(again.journal.entries()) == []


def test_unreachable_store_fails_closed_and_reads_degrade(machines, redis_server):
    a = machines.machine("a")
    init(a)
    pa = make_profile(a, "p")
    a.update_doc("health", lambda d: {"profiles": {"p": {"health": "ok"}}})
    a.read_credentials(pa)
    a.read_doc("leases")
    redis_server.pause()
    try:
        cold = machines.machine("a")  # a new run on the same machine
        start = time.monotonic()
        assert cold.read_doc("health") == {"profiles": {"p": {"health": "ok"}}}
        assert cold.degraded
        with pytest.raises(Unavailable, match="redis"):
            with cold.lock("refresh:p", timeout=1):
                pass
        with pytest.raises(Unavailable):
            leases.acquire(cold.ctx, "p", 60)
        assert json.loads(cold.read_credentials(pa))["claudeAiOauth"]["refreshToken"] == REFRESH
        cold.append_line("picks.log", "while down")
        assert time.monotonic() - start < 3  # one timeout, not one per call
    finally:
        redis_server.resume()
    later = machines.machine("a")
    assert "while down\n" in list(later.iter_lines("picks.log"))


def test_store_reset_refuses_refresh_until_restore(machines, redis_server):
    a, b = machines.machine("a"), machines.machine("b")
    init(a)
    pa, pb = make_profile(a, "p"), make_profile(b, "p")
    with a.lock("refresh:p", timeout=1):
        a.write_credentials(pa, rotated(a.read_credentials(pa), 1))
    b.read_credentials(pb)  # b's mirror: v2
    with a.lock("refresh:p", timeout=1):
        a.write_credentials(pa, rotated(a.read_credentials(pa), 2))  # a's mirror: v3
    redis_server.wipe()
    b2 = machines.machine("b")
    with pytest.raises(Unavailable, match="lost roost's data"):
        with b2.lock("refresh:p", timeout=0.5):
            pass
    from roost_redis.restore import restore

    report_b = restore(machines.machine("b", restore_hold=1.0))
    assert report_b.pushed == {"p": 2}
    report_a = restore(machines.machine("a", restore_hold=1.0))
    assert report_a.pushed == {"p": 3}  # the highest version wins, whatever the order
    held = machines.machine("b", restore_hold=1.0)
    with pytest.raises(Conflict, match="restored moments ago"):
        with held.lock("refresh:p", timeout=0.1):
            pass
    time.sleep(1.0)
    with held.lock("refresh:p", timeout=1):
        assert b"rot2CANARY" in held.read_credentials(pb)


def test_no_token_reaches_redis_in_clear(machines, redis_server):
    a = machines.machine("a")
    init(a)
    pa = make_profile(a, "p")
    with a.lock("refresh:p", timeout=1):
        a.write_credentials(pa, rotated(a.read_credentials(pa), 7))
    a.append_line("picks.log", "pick\tp")
    dump = redis_server.persistence_bytes()
    assert dump, "AOF is on: something must have been written"
    for secret in (ACCESS, REFRESH, "sk-ant-oat01-rot7CANARY", "sk-ant-ort01-rot7CANARY"):
        for i in range(0, len(secret) - 8, 4):
            assert secret[i:i + 8].encode() not in dump or secret[i:i + 8].startswith("sk-ant-o")


def test_files_backend_write_conflicts_after_a_concurrent_change(tmp_path):
    from roost_plugins.state_files import FilesBackend

    profile = Profile("p", tmp_path / "tree" / "p")
    profile.directory.mkdir(parents=True)
    # The compare-and-set is on the refresh token (issue #21's credential-store seam): the concurrent
    # change is another writer storing a rotated refresh token.
    profile.credentials_path.write_bytes(b'{"claudeAiOauth": {"refreshToken": "r0"}}')
    mine, other = FilesBackend(tmp_path / "cfg", print), FilesBackend(tmp_path / "cfg", print)
    mine.read_credentials(profile)
    other.read_credentials(profile)
    other.write_credentials(profile, b'{"claudeAiOauth": {"accessToken": "b", "refreshToken": "rb"}}')
    with pytest.raises(Conflict):
        mine.write_credentials(profile, b'{"claudeAiOauth": {"accessToken": "a", "refreshToken": "ra"}}')
    assert b'"b"' in profile.credentials_path.read_bytes()
    mine.read_credentials(profile)
    mine.write_credentials(profile, b'{"claudeAiOauth": {"accessToken": "c", "refreshToken": "rc"}}')
    FilesBackend(tmp_path / "cfg", print).write_credentials(profile, b"{}")  # no read: unconditional
    assert mine.child_credentials_dir(profile) is None and mine.shared is False
    with mine.claim("probe:p", 5) as first, other.claim("probe:p", 5) as second:
        assert (first, second) == (True, False)


def test_watchdog_thread_does_not_outlive_the_lock(machines):
    a = machines.machine("a", lock_ttl=0.3)
    before = threading.active_count()
    with a.lock("x", timeout=1):
        assert threading.active_count() == before + 1
    assert threading.active_count() == before


def test_two_machines_importing_at_once_keep_one_copy(machines):
    a, b = machines.machine("a"), machines.machine("b")
    init(a)
    pa = make_profile(a, "p")
    pb = make_profile(b, "p", access=ACCESS + "b", refresh=REFRESH + "b")
    b.creds.read_mirror(pb)  # nothing mirrored yet
    a.read_credentials(pa)
    # b never saw the record, so it tries to import its own login: the store's copy wins.
    assert b.creds._import(pb).v == 1
    assert json.loads(b.read_credentials(pb))["claudeAiOauth"]["refreshToken"] == REFRESH
