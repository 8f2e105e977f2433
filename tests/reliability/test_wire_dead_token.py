"""A dead refresh token is spent once: N concurrent ``roost refresh`` of a profile whose stored
refresh token the server already rejects make exactly 1 POST, on the files backend and on redis.

Before issue #14 every process that got the lock POSTed the dead token again (measured: 6 processes,
6 POSTs, on files and on redis). Now the first rejection is recorded by fingerprint under the refresh
lock and every process after it stops without a POST (exit 2, auth_dead).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scaleout"))

from fleetkit.fixtures import fleet, key_file, needs_redis, redis_server  # noqa: E402,F401 (fixtures)
from fleetkit.machines import canary  # noqa: E402
from roost_plugins.fakeserver import TokenBehaviour  # noqa: E402

N = 6


def test_n_refreshers_of_a_dead_token_make_one_post_files(rel):
    rel.profile("p", expires_in=-60)
    rel.fake.rotate_out_of_band("p")  # the stored refresh token is now dead at the server
    rel.fake.set_token_behaviour("p", TokenBehaviour(delay_s=0.3))  # the others queue on the lock
    runs = rel.run_many([["refresh", "p", "--json"]] * N)
    posts = rel.fake.token_posts_for("p")
    codes = sorted(r.rc for r in runs)
    print(f"\ndead token, files backend: {N} concurrent refreshers -> {posts} POST(s) "
          f"(before #14: {N}); exit codes {codes}")
    assert posts == 1, [str(r) for r in runs]
    assert codes == [2] * N
    assert sum("not sent again" in r.stdout for r in runs) == N - 1
    # Later commands see auth_dead, not auth_expired, and still POST nothing.
    rc, status = rel.roost_env.run_json("status")
    assert [r["health"] for r in status["data"] if r["name"] == "p"] == ["auth_dead"]
    assert rel.run("refresh", "--expired", "--json").rc == 2 and rel.fake.token_posts_for("p") == 1


@needs_redis
def test_n_refreshers_of_a_dead_token_make_one_post_redis(fleet):
    fake = fleet.fake
    machines = [fleet.a, fleet.b, *(fleet.add(f"m{i}") for i in range(N - 2))]
    fleet.seed(fleet.a, "p", expires_in=-60)
    fake.rotate_out_of_band("p")
    fake.set_token_behaviour("p", TokenBehaviour(delay_s=0.3))
    procs = [m.popen("refresh", "p", "--json") for m in machines]
    results = [(p.wait(timeout=90), p.stdout.read(), p.stderr.read()) for p in procs]
    for proc in procs:
        proc.stdout.close()
        proc.stderr.close()
    posts = fake.token_posts_for("p")
    codes = sorted(rc for rc, _, _ in results)
    print(f"\ndead token, redis backend: {N} machines refreshing at once -> {posts} POST(s) "
          f"(before #14: {N}); exit codes {codes}")
    assert posts == 1, results
    assert codes == [2] * N, results
    assert all("Traceback" not in err for _, _, err in results)
    assert canary("refresh", "p") not in fleet.redis.persistence_bytes().decode("latin-1")
