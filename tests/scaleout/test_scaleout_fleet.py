"""Two (or more) roost "machines" with separate local directories behave as one fleet.

Every machine is the real ``roost`` executable with its own HOME, config and
profiles tree; only the Redis store is shared. The fake Anthropic rejects a
reused refresh token, so a stale token presented by any machine shows up as
``reuse_count``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from fleetkit.fixtures import fleet, key_file, needs_redis, redis_server  # noqa: F401 (fixtures)
from fleetkit.machines import canary, check, wait_for_lease
from roostkit import ROOST
from roost_plugins.fakeserver import TokenBehaviour

pytestmark = needs_redis

USAGE = "/api/oauth/usage"


def health_of(payload, name):
    data = payload["data"]
    rows = data if isinstance(data, list) else data.get("profiles", data)
    for row in rows:
        if row["name"] == name:
            return row["health"]
    raise AssertionError(f"{name} not in {payload}")


def test_two_machines_behave_as_one_fleet(fleet):
    a, b, fake = fleet.a, fleet.b, fleet.fake
    fleet.seed(a, "p", cli=True)
    # Only the store holds the refresh token; each machine keeps an access-token-only copy.
    for machine in (a, b):
        local = machine.credentials("p")["claudeAiOauth"]
        assert "refreshToken" not in local and local["accessToken"] == canary("access", "p")

    # The health cache is shared: b answers from what a probed, without a request of its own.
    check(a.run("probe", "p"))
    probes = fake.count("GET", USAGE)
    rc, status = b.run_json("status", "--no-platform-status")
    assert rc == 0 and health_of(status, "p") == "ok"
    assert fake.count("GET", USAGE) == probes

    # A rotation on a reaches b: b probes with the new access token (a stale one would be a 401).
    check(a.run("refresh", "p"))
    assert fake.token_posts == 1
    rc, probed = b.run_json("probe", "p")
    assert rc == 0 and health_of(probed, "p") == "ok"
    assert b.credentials("p")["claudeAiOauth"]["accessToken"] == fake.live_access_token("p")

    # b refreshes with the store's refresh token, never with a stale copy.
    check(b.run("refresh", "p"))
    assert (fake.token_posts, fake.reuse_count) == (2, 0)
    assert a.run_json("show", "p", "--offline")[1]["data"]["name"] == "p"

    # Picks on a are b's history and stats; a warm pick still imports neither httpx nor rich.
    rc, picked = a.run_json("pick")
    assert rc == 0 and picked["data"]["name"] == "p"
    rc, history = b.run_json("history")
    assert rc == 0 and [e["profile"] for e in history["data"] if e["event"] == "pick"] == ["p"]
    rc, stats = b.run_json("stats")
    assert rc == 0 and "p" in json.dumps(stats["data"])
    code = ("import sys; from roost_core.cli import cli; cli.main(['pick'], standalone_mode=False); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'httpx', 'rich'}))")
    warm = subprocess.run([sys.executable, "-c", code], env=a.env(), capture_output=True, text=True, timeout=60)
    assert warm.stdout.splitlines()[-1] == "[]", warm.stdout + warm.stderr

    # Nothing in Redis's persistence files is a token.
    dump = fleet.redis.persistence_bytes()
    tokens = [canary("access", "p"), canary("refresh", "p"), fake.live_refresh_token("p"), fake.live_access_token("p")]
    tokens += [r["old_refresh"] for r in fake.rotations]
    fragments = sum(token[i:i + 8].encode() in dump for token in tokens for i in range(13, len(token) - 8))
    print(f"\n[scale-out] token fragments (8-char slices) in Redis's persistence files: {fragments}")
    assert dump and fragments == 0


def test_refresh_on_one_machine_honours_a_lease_taken_on_another(fleet):
    a, b, fake = fleet.a, fleet.b, fleet.fake
    fleet.seed(a, "p")
    child = a.popen("exec", "--lease-for", "60", "--", sys.executable, "-c", "import time; time.sleep(30)")
    try:
        wait_for_lease(fleet.redis, child)
        rc, leased = b.run_json("refresh", "p")
        assert rc == 7 and leased["error"]["code"] == "LEASE_HELD"
        rc, many = b.run_json("refresh", "--all")
        assert rc == 7 and many["error"]["code"] == "LEASE_HELD", many
        assert many["data"][0]["status"] == "skipped_leased", many
        assert fake.token_posts == 0
    finally:
        child.terminate()
        child.wait(timeout=10)
    check(b.run("refresh", "p"))  # the lease went with the exec
    assert fake.token_posts == 1


CHILD = ("import sys, time; log = open(sys.argv[1], 'a'); log.write(f'start {time.time()}\\n'); log.flush(); "
         "time.sleep(float(sys.argv[2])); log.write(f'end {time.time()}\\n')")


def _lease_race(fleet, execs: int, child_s: float) -> tuple[int, int]:
    """a runs ``execs`` leased children one after another while the others refresh in a loop.
    Returns (rotations inside a child's run, rotations in total)."""
    a, fake = fleet.a, fleet.fake
    refreshing = [fleet.b, *(fleet.add(f"r{i}") for i in range(max(0, execs // 10 - 1)))]
    fleet.seed(a, "p")
    fake.set_token_behaviour("p", TokenBehaviour(delay_s=0.1))
    log = a.root / "children.log"
    stop = time.monotonic() + 600
    refreshers = []
    for machine in refreshing:
        loop = ("import subprocess, sys, time\n"
                f"while time.monotonic() < {stop} and not __import__('os').path.exists({str(a.root / 'done')!r}):\n"
                f"    subprocess.run([{ROOST!r}, 'refresh', '--all', '--json'], capture_output=True)\n")
        # No "refreshed by roost moments ago" shortcut: every round really tries to rotate.
        refreshers.append(subprocess.Popen([sys.executable, "-c", loop],
                                           env=machine.env(CLAUDE_LB_REFRESH_MIN_INTERVAL="0")))
    try:
        for _ in range(execs):
            check(a.run("exec", "--", sys.executable, "-c", CHILD, str(log), str(child_s)))
    finally:
        (a.root / "done").touch()
        for proc in refreshers:
            proc.wait(timeout=120)
    marks = [line.split() for line in log.read_text().splitlines()]
    runs = [(float(s[1]), float(e[1])) for s, e in zip(marks[0::2], marks[1::2])]
    inside = [r for r in fake.rotations if any(start <= r["t"] <= end for start, end in runs)]
    assert fake.reuse_count == 0
    return len(inside), len(fake.rotations)


@pytest.mark.parametrize("execs", [3, pytest.param(40, marks=pytest.mark.stress)])
def test_no_rotation_while_any_machine_holds_a_lease(fleet, execs):
    inside, total = _lease_race(fleet, execs, child_s=0.6)
    print(f"\n[scale-out] rotations while a lease was held: {inside} (of {total} rotations, {execs} leased runs)")
    assert inside == 0 and total > 0, "no refresh happened between the leases: the race did not run"


def test_one_machine_probes_a_profile_at_a_time(fleet):
    from roost_plugins.fakeserver import Scenario

    a, b, fake = fleet.a, fleet.b, fleet.fake
    fleet.seed(a, "p")
    fake.set_chain_usage("p", Scenario.ok().with_delay(1.0))
    before = fake.count("GET", USAGE)
    procs = [m.popen("status", "--no-platform-status", "--json") for m in (a, b)]
    results = [(p.wait(timeout=60), p.stdout.read()) for p in procs]
    for proc in procs:
        proc.stdout.close()
        proc.stderr.close()
    assert [rc for rc, _ in results] == [0, 0]
    assert all(health_of(json.loads(out), "p") == "ok" for _, out in results)
    assert fake.count("GET", USAGE) - before == 1  # the other machine waited for the in-flight probe


def test_exec_child_gets_an_access_token_only_file_that_outlasts_its_lease(fleet):
    a, b, fake = fleet.a, fleet.b, fleet.fake
    fleet.seed(a, "p", expires_in=600)  # 10 min left: less than a 30 min lease
    show = "import os; print(open(os.environ['CLAUDE_CONFIG_DIR'] + '/.credentials.json').read())"
    proc = check(b.run("exec", "--lease-for", "30m", "--", sys.executable, "-c", show))
    seen = json.loads(proc.stdout)["claudeAiOauth"]
    assert fake.token_posts == 1  # refreshed first, on b, under the fleet lock
    assert "refreshToken" not in seen and seen["accessToken"] == fake.live_access_token("p")
    assert seen["expiresAt"] / 1000 > time.time() + 30 * 60
    check(a.run("exec", "--lease-for", "30m", "--", "true"))
    assert fake.token_posts == 1  # now it lasts: no second refresh


@pytest.mark.parametrize("machines_n", [8, pytest.param(16, marks=pytest.mark.stress)])
def test_concurrent_refresh_from_many_machines_posts_once(fleet, machines_n):
    fake = fleet.fake
    others = [fleet.add(f"m{i}") for i in range(machines_n - 2)]
    fleet.seed(fleet.a, "p")
    fake.set_token_behaviour("p", TokenBehaviour(delay_s=0.4))
    everyone = [fleet.a, fleet.b, *others]
    procs = [m.popen("refresh", "p", "--json") for m in everyone]
    results = [(p.wait(timeout=60), p.stdout.read(), p.stderr.read()) for p in procs]
    for proc in procs:
        proc.stdout.close()
        proc.stderr.close()
    print(f"\n[scale-out] {machines_n} machines refreshing one profile at once: "
          f"{fake.token_posts} POST(s), {fake.reuse_count} reused token(s)")
    assert fake.token_posts == 1 and fake.reuse_count == 0
    assert all(rc == 0 for rc, _, _ in results), results
    assert all("Traceback" not in err for _, _, err in results)


def test_store_unreachable_refresh_fails_closed_status_degrades(fleet):
    a, b, fake = fleet.a, fleet.b, fleet.fake
    fleet.seed(a, "p")
    check(b.run("probe", "p"))
    b.redis_options.update(timeout="0.5s", connect_timeout="0.5s")
    b.write_config()
    fleet.redis.pause()
    try:
        start = time.monotonic()
        rc, err = b.run_json("refresh", "p")
        elapsed = time.monotonic() - start
        assert rc == 9 and "redis" in err["error"]["message"], err
        assert elapsed < 10
        proc = b.run("status", "--no-platform-status", "--json")
        assert proc.returncode == 0 and "degraded" in proc.stderr
        proc = b.run("pick")
        assert proc.returncode == 0 and proc.stdout.strip() == "p" and "degraded" in proc.stderr
        rc, err = b.run_json("exec", "--json", "--", "true")
        assert rc == 9, err
        rc, err = b.run_json("exec", "--json", "--no-lease", "--", "true")
        assert rc == 9, err
    finally:
        fleet.redis.resume()
    assert fake.token_posts == 0
    rc, history = b.run_json("history")  # b's spooled pick is flushed into the shared log
    assert rc == 0 and [e["event"] for e in history["data"]].count("pick") == 1
    print(f"\n[scale-out] refreshes while redis was unreachable: {fake.token_posts}")


def test_a_degraded_machine_with_a_stale_copy_is_unavailable_not_signed_out(fleet):
    """b's last copy holds an access token that a's refresh retired; with the store unreachable, b's probe
    gets a 401. That is no reason to sign anything in again: exit 9 naming the stale copy, not exit 2."""
    a, b, fake = fleet.a, fleet.b, fleet.fake
    fleet.seed(a, "p")
    check(b.run("probe", "p"))  # b's mirror: the tokens before the rotation
    check(a.run("refresh", "p", CLAUDE_LB_REFRESH_MIN_INTERVAL="0"))
    assert fake.token_posts == 1
    b.redis_options.update(timeout="0.5s", connect_timeout="0.5s")
    b.write_config()
    fleet.redis.pause()
    try:
        rc, err = b.run_json("pick", "--no-cache")
    finally:
        fleet.redis.resume()
    assert rc == 9, err
    details = err["error"]["details"]
    assert details["reason"] == "backend_degraded" and details["auth_reason"] == "all_auth_dead", err
    assert "last copy" in err["error"]["message"] and "rotated" in err["error"]["message"]
    rc, picked = b.run_json("pick", "--no-cache")  # the store is back: the current tokens are fine
    assert rc == 0 and picked["data"]["name"] == "p", picked


def test_plain_install_imports_no_redis(tmp_path):
    """With the files backend (the default), no roost command path imports redis or cryptography."""
    code = ("import sys; from roost_core.cli import cli; "
            "rc = cli.main(['list', '--json'], standalone_mode=False); "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('redis', 'cryptography', 'roost_redis')); "
            "print(bad)")
    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
           "CLAUDE_LB_PROFILES_DIR": str(tmp_path / "profiles"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout + out.stderr
