"""Every command that touches state, on two machines with separate local directories.

What one machine does, the other sees through Redis alone: the health cache,
invalidation, the audit log (history, stats, which writes nothing), leases,
rotations, snapshots, trace, top and doctor. The fake Anthropic counts every
request and rejects a reused refresh token.
"""

from __future__ import annotations

import json
import sys

from fleetkit.fixtures import fleet, key_file, needs_redis, redis_server  # noqa: F401 (fixtures)
from fleetkit.machines import canary, check

pytestmark = needs_redis

USAGE = "/api/oauth/usage"


def events(machine, *args):
    rc, history = machine.run_json("history", "--tail", "100", *args)
    assert rc == 0, history
    return [(row["event"], row["profile"]) for row in history["data"]]


def test_every_state_command_is_shared_between_two_machines(fleet, tmp_path):
    a, b, fake = fleet.a, fleet.b, fleet.fake
    fleet.seed(a, "p", "q")

    # probe / status / show: one machine's probe is the other's cache.
    check(a.run("probe"))
    probes = fake.count("GET", USAGE)
    check(b.run("status", "--no-platform-status"))
    check(b.run("show", "p"))
    assert fake.count("GET", USAGE) == probes

    # invalidate on b: a's next status probes p again, and only p.
    check(b.run("invalidate", "p"))
    check(a.run("status", "--no-platform-status"))
    assert fake.count("GET", USAGE) == probes + 1

    # pick on a is in b's audit trail; which on b writes nothing anywhere.
    rc, picked = a.run_json("pick", "--strategy", "first-healthy")
    assert rc == 0 and picked["data"]["name"] == "p"
    assert events(b) == [("pick", "p")]
    rc, would = b.run_json("which", "--strategy", "first-healthy")
    assert rc == 0 and would["data"]["name"] == "p"
    assert events(a) == [("pick", "p")]

    # exec on b: its run is in a's history and stats.
    check(b.run("exec", "--avoid", "p", "--", sys.executable, "-c", "pass"))
    assert [e for e in events(a) if e[1] == "q"] == [("exec", "q")]
    rc, stats = a.run_json("stats")
    assert rc == 0 and stats["data"]["by_event"] == {"exec": 1, "pick": 1}, stats["data"]
    assert stats["data"]["exec"]["by_profile"] == {"q": 1}

    # refresh on b: a sees the rotated token; a's own refresh spends the new one.
    check(b.run("refresh", "p"))
    rc, shown = a.run_json("show", "p")
    assert rc == 0 and a.credentials("p")["claudeAiOauth"]["accessToken"] == fake.live_access_token("p")
    check(a.run("refresh", "p"))
    assert (fake.token_posts, fake.reuse_count) == (2, 0)

    # snapshot on b: the access token only (the fleet's refresh token never leaves roost).
    out = tmp_path / "snap.json"
    check(b.run("snapshot", "p", str(out)))
    snap = json.loads(out.read_text())["claudeAiOauth"]
    assert snap["accessToken"] == fake.live_access_token("p") and "refreshToken" not in snap

    # trace on b: one probe, redacted.
    proc = check(b.run("trace", "q"))
    assert canary("access", "q") not in proc.stdout + proc.stderr

    # top (one plain redraw) and doctor on b answer from the shared state.
    rc, top = b.run_json("top", "-n", "1", "--no-platform-status")
    assert rc == 0 and json.dumps(top).count('"name": "p"') and json.dumps(top).count('"name": "q"'), top
    rc, doctor = b.run_json("doctor", "--skip-network")
    assert rc == 0, [c for c in doctor["data"] if c.get("status") == "fail"]
    assert any("redis" in json.dumps(check_) for check_ in doctor["data"]), doctor
