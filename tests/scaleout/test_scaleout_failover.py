"""roost-redis through a failover: Sentinel, durable rotations, a store that went back in time.

Real servers from Debian's ``redis-server`` and ``redis-sentinel`` on
127.0.0.1 (fleetkit.sentinel: a primary, a replica, three Sentinels,
``appendfsync always``), real ``roost`` processes as machines, and the fake
Anthropic, which counts POSTs per refresh token and rejects a reused one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from fleetkit.fixtures import (SENTINEL_MISSING, fleet, key_file, needs_sentinel, redis_server,  # noqa: F401
                               sentinel_cluster)
from fleetkit.machines import Fleet, check, rotation_no_replica_confirms
from fleetkit.sentinel import SentinelCluster
from roostkit import ROOST

pytestmark = needs_sentinel


# -- settings (no server) ------------------------------------------------------------------

def test_sentinel_settings_from_config_and_environment(tmp_path):
    from roost_core.errors import ValidationError
    from roost_redis.settings import RedisSettings

    table = {"sentinels": ["10.0.0.1:26379", "10.0.0.2:26380"], "service": "roost",
             "url": "rediss://roost:s3cret@/2", "key_file": "k"}
    settings = RedisSettings.resolve(table, {}, tmp_path)
    assert settings.sentinels == (("10.0.0.1", 26379), ("10.0.0.2", 26380))
    assert settings.display_url == "sentinels://roost@10.0.0.1:26379,10.0.0.2:26380/roost"
    assert "s3cret" not in settings.display_url
    assert (settings.min_replicas, settings.wait_timeout) == (None, 2.0)
    env = {"CLAUDE_LB_REDIS_SENTINELS": "a:1, b:2", "CLAUDE_LB_REDIS_SERVICE": "svc",
           "CLAUDE_LB_REDIS_MIN_REPLICAS": "2", "CLAUDE_LB_REDIS_WAIT_TIMEOUT": "0.5s"}
    settings = RedisSettings.resolve({"key_file": "k"}, env, tmp_path)
    assert settings.sentinels == (("a", 1), ("b", 2)) and settings.service == "svc"
    assert (settings.min_replicas, settings.wait_timeout, settings.url) == (2, 0.5, "redis://")
    for bad in ({"sentinels": ["nohost"]}, {"sentinels": "a:1", "url": "unix:///tmp/r.sock"},
                {"sentinels": "a:1", "min_replicas": -1}, {"sentinels": "a:1", "wait_timeout": "0s"}):
        with pytest.raises(ValidationError):
            RedisSettings.resolve({"key_file": "k", **bad}, {}, tmp_path)


# -- helpers ---------------------------------------------------------------------------------

def sentinel_fleet(root: Path, cluster: SentinelCluster, key: Path, fake, labels, **options) -> Fleet:
    world = Fleet(root, "redis://", key, fake)
    for label in labels:
        machine = world.add(label, **{"retries": 1, **cluster.options(), **options})
        machine.extra = {**machine.extra, **machine.hooks()}  # a hostname of its own (host-LABEL)
    return world


def stored_refresh_token(machine, name: str) -> str | None:
    backend = machine.backend()
    record = backend.creds.fetch(name)
    _, data = backend.sealer().open(name, record.v, record.blob)
    return json.loads(data)["claudeAiOauth"].get("refreshToken")


def posts_per_token(fake) -> Counter:
    from roost_plugins.fakeserver.server import TOKEN_PATH

    spent = Counter()
    for request in fake.requests:
        if request["method"] == "POST" and request["path"] == TOKEN_PATH:
            spent[json.loads(request["body"]).get("refresh_token")] += 1
    return spent


# -- Sentinel, end to end ------------------------------------------------------------------------

def test_sentinel_fleet_refreshes_across_a_failover_and_holds_refresh_after_it(tmp_path, sentinel_cluster,
                                                                                key_file, fake):
    world = sentinel_fleet(tmp_path / "fleet", sentinel_cluster, key_file, fake, ["a", "b"])
    a, b = world.machines
    world.seed(a, "p", cli=True)
    check(a.run("refresh", "p"))
    rc, status = a.run_json("state", "status")
    assert rc == 0, status
    repl = status["data"]["replication"]
    assert repl["min_replicas"] == 1 and [r["state"] for r in repl["replicas"]] == ["online"]
    assert repl["primary"] == f"127.0.0.1:{sentinel_cluster.primary_port()}"
    assert status["data"]["unreplicated"] == [] and status["data"]["warnings"] == [], status

    sentinel_cluster.failover()
    rc, held = b.run_json("refresh", "p", CLAUDE_LB_LOCK_WAIT="1")
    assert rc == 7 and "failed over" in held["error"]["message"], held
    time.sleep(3.2)  # lock_ttl 3s: the hold is over
    check(b.run("refresh", "p"))
    assert (fake.token_posts, fake.reuse_count) == (2, 0)
    assert stored_refresh_token(a, "p") == fake.live_refresh_token("p")
    rc, history = a.run_json("history")
    assert rc == 0 and "store_failover" in [e["event"] for e in history["data"]], history
    rc, doctor = a.run_json("doctor")
    checks = {c["name"]: c for c in doctor["data"]["checks"]} if isinstance(doctor["data"], dict) else \
        {c["name"]: c for c in doctor["data"]}
    assert checks["state-redis-replication"]["level"] == "ok", checks.get("state-redis-replication")


def test_a_failover_during_a_run_moves_its_next_command_to_the_new_primary(tmp_path, sentinel_cluster, key_file,
                                                                          fake):
    world = sentinel_fleet(tmp_path / "fleet", sentinel_cluster, key_file, fake, ["a"])
    backend = world.machines[0].backend()
    backend.update_doc("health", lambda doc: {"n": 1})  # a pooled connection to this primary
    old = sentinel_cluster.primary_port()
    sentinel_cluster.failover()  # the old primary is demoted and drops its clients
    started = time.monotonic()
    assert backend.update_doc("health", lambda doc: {"n": doc["n"] + 1}) == {"n": 2}
    assert time.monotonic() - started < backend.settings.call_deadline
    assert backend.conn.client.connection_pool.get_master_address()[1] != old
    assert not backend.degraded


@pytest.mark.parametrize("retries", [1, 0])
def test_a_write_that_meets_a_demoted_primary_is_retried_once_or_fails_closed(tmp_path, sentinel_cluster, key_file,
                                                                              fake, retries):
    from roost_core.errors import Unavailable

    world = sentinel_fleet(tmp_path / "fleet", sentinel_cluster, key_file, fake, ["a"], retries=retries)
    backend = world.machines[0].backend()
    backend.update_doc("health", lambda doc: {"n": 1})  # a pooled connection to this primary
    old = sentinel_cluster.primary_port()
    sentinel_cluster.failover(drop_clients=False)  # that connection now reaches a replica: READONLY
    sentinel_cluster.wait_agreed()  # else redis-py may ask a Sentinel that still names the old one
    started = time.monotonic()
    if retries:
        assert backend.update_doc("health", lambda doc: {"n": doc["n"] + 1}) == {"n": 2}
        assert backend.conn.client.connection_pool.get_master_address()[1] != old
        assert not backend.degraded
    else:
        with pytest.raises(Unavailable) as caught:
            backend.update_doc("leases", lambda doc: {"leases": {"x": {"profile": "p", "expires_at": 1e12}}})
        message = caught.value.message
        assert caught.value.exit_code == 9 and "demoted during the command" in message and "fail closed" in message
    assert time.monotonic() - started < backend.settings.call_deadline


def test_unreplicated_rotation_stays_in_the_journal_and_blocks_others_until_a_replica_has_it(
        tmp_path, sentinel_cluster, key_file, fake):
    world = sentinel_fleet(tmp_path / "fleet", sentinel_cluster, key_file, fake, ["a", "b"], min_replicas=1,
                           wait_timeout="0.5s")
    a, b = world.machines
    world.seed(a, "p")
    with rotation_no_replica_confirms(a, sentinel_cluster):
        rc, status = a.run_json("state", "status")
        assert [(u["profile"], u["version"], u["host"], u["this_machine"], u["in_journal"])
                for u in status["data"]["unreplicated"]] == [("p", 2, "host-a", True, True)], status
        assert any("not yet on a replica" in w for w in status["data"]["warnings"]), status
        rc, doctor = a.run_json("doctor")
        checks = doctor["data"]["checks"] if isinstance(doctor["data"], dict) else doctor["data"]
        check_ = next(c for c in checks if c["name"] == "state-redis-replication")
        assert check_["level"] == "warn" and "p v2" in check_["message"], check_
        rc, other = b.run_json("refresh", "p", CLAUDE_LB_LOCK_WAIT="1")
        assert rc == 7 and "withheld" in other["error"]["message"], other  # not used before replicated
    sentinel_cluster.wait_stable(strict=False)
    check(a.run("state", "sync"))  # re-sent, replicated, intent cleared
    rc, status = a.run_json("state", "status")
    assert status["data"]["unreplicated"] == [] and status["data"]["pending_journal"] == 0
    check(b.run("refresh", "p"))
    assert (fake.token_posts, fake.reuse_count) == (2, 0)


# -- a store that went back in time (one redis-server is enough) ---------------------------------------

def test_a_store_that_went_back_in_time_gets_the_newer_record_back(fleet):
    a, b, fake = fleet.a, fleet.b, fleet.fake
    fleet.seed(a, "p")
    store = fleet.redis.client()
    key = a.backend().keys.cred("p")
    old = store.hgetall(key)
    check(a.run("refresh", "p"))  # a mirrors v2; the store goes back to v1 below
    store.delete(key)
    store.hset(key, mapping=old)
    proc = check(a.run("show", "p", "--json"))
    assert "had seen v2" in proc.stderr
    assert int(store.hget(key, "v")) == 2
    assert stored_refresh_token(b, "p") == fake.live_refresh_token("p")
    check(b.run("refresh", "p"))
    assert (fake.token_posts, fake.reuse_count) == (2, 0)
    rc, history = b.run_json("history")
    events = [e for e in history["data"] if e["event"] == "store_rollback"]
    assert rc == 0 and [e["profile"] for e in events] == ["p"], history


# -- the negative control: no WAIT, and a primary killed right after a rotation -------------------------

def _kill_primary_after_a_rotation(tmp_path, key_file, fake, **options):
    """Cut the replica's link, rotate on a, SIGKILL the primary, let the Sentinels promote the replica."""
    cluster = SentinelCluster(tmp_path / "cluster", down_after_ms=3000).start()
    try:
        world = sentinel_fleet(tmp_path / "fleet", cluster, key_file, fake, ["a", "b"], wait_timeout="0.3s",
                               **options)
        a = world.machines[0]
        world.seed(a, "p")
        primary, replica = cluster.primary(), cluster.replica()
        os.kill(replica.proc.pid, signal.SIGSTOP)
        try:
            primary.client().client_kill_filter(_type="replica")  # what was not sent is never sent
            rotated = a.run("refresh", "p", "--json")
            dead = cluster.kill_primary()
        finally:
            os.kill(replica.proc.pid, signal.SIGCONT)
        cluster.heal(dead)
        cluster.wait_stable(strict=False)
        return world, rotated, cluster
    except BaseException:
        cluster.stop()
        raise


def test_negative_control_without_wait_a_killed_primary_loses_the_rotation(tmp_path, key_file, fake):
    world, rotated, cluster = _kill_primary_after_a_rotation(tmp_path, key_file, fake, min_replicas=0)
    try:
        a, b = world.machines
        assert rotated.returncode == 0, rotated.stderr  # acknowledged by the primary alone
        lost = stored_refresh_token(b, "p") != fake.live_refresh_token("p")
        time.sleep(3.2)  # past the failover hold
        b.run("refresh", "p")  # b only ever saw the old copy: it spends the spent token
        print(f"\n[scale-out] min_replicas=0, primary SIGKILLed after a rotation: credentials lost in the store: "
              f"{int(lost)}, POSTs of a spent token: {fake.reuse_count}")
        assert lost and fake.reuse_count >= 1
        check(a.run("show", "p"))  # a's mirror has the rotation: pushed back (store went back in time)
        assert stored_refresh_token(b, "p") == fake.live_refresh_token("p")
    finally:
        cluster.stop()


def _refresh_once_settled(machine, name: str, within_s: float = 15.0):
    """``roost refresh NAME``, asked again while it answers CONFLICT/UNAVAILABLE (7/9) as a cron job
    would: on a loaded machine the Sentinels may still be settling after the hold."""
    deadline = time.monotonic() + within_s
    while True:
        proc = machine.run("refresh", name)
        if proc.returncode not in (7, 9) or time.monotonic() > deadline:
            return proc
        time.sleep(0.5)


def test_with_wait_the_same_fault_loses_nothing(tmp_path, key_file, fake):
    world, rotated, cluster = _kill_primary_after_a_rotation(tmp_path, key_file, fake)
    try:
        b = world.machines[1]
        error = json.loads(rotated.stdout)["error"]
        assert rotated.returncode == 9 and error["details"]["reason"] == "not_replicated", error  # fail closed
        assert "replica" in error["message"]
        assert fake.token_posts == 0
        assert stored_refresh_token(b, "p") == fake.live_refresh_token("p")
        time.sleep(3.2)  # past the failover hold
        check(_refresh_once_settled(b, "p"))
        assert (fake.token_posts, fake.reuse_count) == (1, 0)
        print("\n[scale-out] min_replicas=1 (default), same fault: credentials lost 0, POSTs of a spent token 0")
    finally:
        cluster.stop()


def test_a_killed_primary_still_counts_as_a_replica_until_it_is_back(tmp_path, sentinel_cluster, key_file, fake):
    """After a SIGKILL the Sentinels list the dead primary as a (down) replica of the new one; the next
    failover may promote it once it is back, so a rotation made meanwhile without WAIT would be lost
    by it. The default min_replicas keeps counting it: refreshes fail closed until it has returned."""
    world = sentinel_fleet(tmp_path / "fleet", sentinel_cluster, key_file, fake, ["a"])
    a = world.machines[0]
    world.seed(a, "p", cli=True)
    dead = sentinel_cluster.kill_primary()
    sentinel_cluster._wait_new_primary(dead.port, time.monotonic() + 60)
    time.sleep(3.2)  # lock_ttl 3s: past the failover hold
    rc, refused = a.run_json("refresh", "p")
    assert rc == 9 and refused["error"]["details"]["reason"] == "not_replicated", refused
    assert fake.token_posts == 0  # nothing spent while no replica could take the rotation
    rc, status = a.run_json("state", "status")
    assert rc == 0 and status["data"]["replication"]["min_replicas"] == 1, status
    sentinel_cluster.heal(dead)
    sentinel_cluster.wait_stable(strict=False)
    check(_refresh_once_settled(a, "p"))
    assert (fake.token_posts, fake.reuse_count) == (1, 0)


# -- 8 machines, 20 failovers -------------------------------------------------------------------------

DRIVER = r"""
import json, os, subprocess, sys, time
roost, out, stop, names, child = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(","), sys.argv[5]
env = json.load(open(sys.argv[6]))  # the machine's environment (its hostname hook included)
i = 0
with open(out, "a") as log:
    while not os.path.exists(stop):
        name = names[i % len(names)]
        cmd = [roost, "exec", "--", sys.executable, "-c", child] if i % 3 == 2 else [roost, "refresh", name]
        i += 1
        codes, started = [], time.monotonic()
        for attempt in range(12):
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
            codes.append(proc.returncode)
            if proc.returncode not in (7, 9) or os.path.exists(stop):
                break
            time.sleep(0.3)
        log.write(json.dumps({"cmd": cmd[1], "name": name, "codes": codes, "out": proc.stdout[-400:],
                              "err": proc.stderr[-300:], "t": time.time(), "s": time.monotonic() - started}) + "\n")
        log.flush()
"""

CHILD = r"""
import json, os, urllib.error, urllib.request
doc = json.load(open(os.path.join(os.environ["CLAUDE_CONFIG_DIR"], ".credentials.json")))["claudeAiOauth"]
req = urllib.request.Request(os.environ["CLAUDE_LB_API_BASE"] + "/api/oauth/usage",
                             headers={"Authorization": "Bearer " + doc["accessToken"]})
try:
    code = urllib.request.urlopen(req, timeout=10).status
except urllib.error.HTTPError as exc:
    code = exc.code
print(json.dumps({"usage": code, "has_refresh_token": "refreshToken" in doc}))
"""


def _failover_loop(tmp_path, cluster, key_file, fake, machines_n: int, failovers: int, kills_every: int):
    names = ["p", "q", "r"]
    world = sentinel_fleet(tmp_path / "fleet", cluster, key_file, fake, [f"m{i}" for i in range(machines_n)])
    world.seed(world.machines[0], *names)
    stop = tmp_path / "stop"
    drivers = []
    for i, m in enumerate(world.machines):
        env_file = m.root / "env.json"
        env_file.write_text(json.dumps(m.env(CLAUDE_LB_REFRESH_MIN_INTERVAL="0", CLAUDE_LB_LOCK_WAIT="5")))
        drivers.append(subprocess.Popen([sys.executable, "-c", DRIVER, ROOST, str(m.root / "loop.jsonl"), str(stop),
                                         ",".join(names[i % 3:] + names[:i % 3]), CHILD, str(env_file)]))
    started = time.monotonic()
    try:
        for n in range(failovers):
            time.sleep(0.3)  # let the machines work on this primary
            if kills_every and n % kills_every == kills_every - 1:
                cluster.wait_stable()
                cluster.heal(cluster.kill_primary())
            else:
                cluster.wait_stable(strict=False)
                cluster.failover()
        time.sleep(1.0)
    finally:
        stop.touch()
        for proc in drivers:
            proc.wait(timeout=180)
    elapsed = time.monotonic() - started
    cluster.wait_stable(strict=False)
    pending = list(world.machines)  # every machine's next run flushes its journal (re-sent until replicated)
    for _ in range(10):
        procs = [(m, m.popen("state", "sync")) for m in pending]
        pending = [m for m, proc in procs if proc.communicate(timeout=120) and proc.returncode != 0]
        if not pending:
            break
        time.sleep(0.5)
    return world, names, elapsed


def _figures(world, names, fake):
    runs = [json.loads(line) for m in world.machines for line in (m.root / "loop.jsonl").read_text().splitlines()]
    spent = posts_per_token(fake)
    lost = [n for n in names if stored_refresh_token(world.machines[0], n) != fake.live_refresh_token(n)]
    children = [json.loads(r["out"].strip().splitlines()[-1]) for r in runs
                if r["cmd"] == "exec" and r["codes"][-1] == 0 and r["out"].strip()]
    failed_open = fake.reuse_count + sum(1 for c in children if c["usage"] != 200 or c["has_refresh_token"])
    closed_then_ok = sum(1 for r in runs if len(r["codes"]) > 1 and r["codes"][-1] == 0)
    journals = [p for m in world.machines for p in (m.config / "redis" / "journal").glob("*")]
    return {"commands": len(runs), "refreshes": sum(r["cmd"] == "refresh" and r["codes"][-1] == 0 for r in runs),
            "execs": len(children), "posts": fake.token_posts, "tokens": len(spent),
            "max_posts_per_token": max(spent.values(), default=0), "lost": len(lost),
            "failed_open": failed_open, "failed_closed_then_ok": closed_then_ok,
            "closed_at_stop": sum(1 for r in runs if r["codes"][-1] != 0), "journals": len(journals), "runs": runs}


def _explain(world, fake, tokens) -> str:
    """What happened around a token POSTed twice (for the failure message)."""
    from roost_plugins.fakeserver.server import TOKEN_PATH

    lines = []
    for request in fake.requests:
        if request["method"] == "POST" and request["path"] == TOKEN_PATH and \
                json.loads(request["body"]).get("refresh_token") in tokens:
            lines.append(f"POST {json.loads(request['body'])['refresh_token'][-6:]} at monotonic {request['t']:.2f}")
    for m in world.machines:
        for line in (m.root / "loop.jsonl").read_text().splitlines():
            run = json.loads(line)
            if run["codes"] != [0]:
                lines.append(f"{m.label} {run['cmd']} {run['name']} {run['codes']} {run['err'][-200:]!r}")
    return "\n".join(lines[-80:])


@pytest.mark.parametrize("machines_n,failovers", [(8, 20), pytest.param(8, 60, marks=pytest.mark.stress)])
def test_eight_machines_through_twenty_failovers(tmp_path, sentinel_cluster, key_file, fake, machines_n, failovers):
    world, names, elapsed = _failover_loop(tmp_path, sentinel_cluster, key_file, fake, machines_n, failovers,
                                           kills_every=4)
    f = _figures(world, names, fake)
    print(f"\n[scale-out] {machines_n} machines, {sentinel_cluster.failovers} failovers "
          f"({failovers // 4} of them SIGKILL of the primary) in {elapsed:.0f}s: {f['commands']} commands "
          f"({f['refreshes']} refreshes, {f['execs']} execs); POSTs per refresh token "
          f"{f['posts']}/{f['tokens']} (max {f['max_posts_per_token']}); credentials lost {f['lost']}; "
          f"failed open {f['failed_open']}; failed closed then succeeded on retry {f['failed_closed_then_ok']}; "
          f"failed closed and not yet retried to success when the loop stopped {f['closed_at_stop']}; "
          f"journal entries left (unreplicated or uncommitted) {f['journals']}")
    assert f["posts"] >= failovers // 4 and f["execs"] > 0, "the loop did not run"  # rotations across the run
    twice = [t for t, n in posts_per_token(fake).items() if n > 1]
    assert f["max_posts_per_token"] == 1 and f["posts"] == f["tokens"], _explain(world, fake, twice)
    assert f["lost"] == 0 and f["failed_open"] == 0 and f["journals"] == 0
    assert not [r for r in f["runs"] if "Traceback" in r["err"]]
