"""Today's wire on the redis backend: one machine's usage 429 holds the whole fleet back until the
account's next probe time (the shared health document, like the probe budget)."""

from __future__ import annotations

from fleetkit.fixtures import fleet, key_file, needs_redis, redis_server  # noqa: F401 (fixtures)
from fleetkit.machines import check
from roost_plugins.fakeserver import Scenario

pytestmark = needs_redis

USAGE = "/api/oauth/usage"


def test_a_429_on_one_machine_blocks_the_account_on_every_machine(fleet):
    a, b, fake = fleet.a, fleet.b, fleet.fake
    fleet.seed(a, "p")
    fake.set_chain_usage("p", Scenario.rate_limited("3600"))
    rc, out = a.run_json("probe", "p")
    record = out["data"][0]
    assert record["health"] == "rate_limited" and record["next_probe_at"], out
    calls = fake.count("GET", USAGE)
    proc = b.run("probe", "p")
    assert proc.returncode == 0 and "next probe at" in proc.stderr, proc.stderr
    rc, out = b.run_json("status", "--no-platform-status")
    assert out["data"][0]["next_probe_at"] == record["next_probe_at"]
    assert fake.count("GET", USAGE) == calls  # no machine asked before the next probe time
    fake.set_chain_usage("p", Scenario.ok())
    check(b.run("probe", "p", "--force"))
    assert fake.count("GET", USAGE) == calls + 1


def test_a_machines_local_copy_is_written_under_claudes_storage_write_lock(fleet):
    import os
    import subprocess
    import time

    a, b, fake = fleet.a, fleet.b, fleet.fake
    fleet.seed(a, "p")
    check(a.run("refresh", "p"))  # the store moves on: b's local copy is stale
    path = b.profiles / "p" / ".credentials.json"
    before = path.read_bytes()
    lock = b.profiles / "p" / ".storage-write.lock"
    os.mkdir(lock)
    proc = b.popen("show", "p")
    held_until = time.monotonic() + 2.5
    while time.monotonic() < held_until:  # a live claude holds it: b must not write meanwhile
        os.utime(lock)
        assert path.read_bytes() == before, "b rewrote its copy while claude held .storage-write.lock"
        time.sleep(0.1)
    os.rmdir(lock)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and "Traceback" not in err, err
    assert b.credentials("p")["claudeAiOauth"]["accessToken"] == fake.live_access_token("p")
