"""G7 / F18: a leased profile is never rotated; leases go away however exec ends.

Races: 5 worlds x 4 profiles x 5 rounds = 100. Each round, in each world,
one ``roost refresh --all`` walks the profiles while the FTS holds each POST
600 ms, and one ``roost exec`` per profile (pinned with --avoid; a child that
logs its start and end wall times around a sleep) starts either while the
refresh is two profiles before (the lease should win) or just as the POST for
its own profile arrives (the exec must wait for the refresh lock). A
rotation committed (FTS time) inside any child's run is a rotation under a
live lease: there must be none. Both outcomes must occur (some refreshes
skipped as leased, some rotations between children), or the race was not a
race. The negative control runs the same race with locking switched off
in-process (exec then adds its lease while a refresh is past its lease
check) and must rotate under a child.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time

import pytest

from roost_plugins.fakeserver import TokenBehaviour

GROUPS = 5  # separate worlds, so five refresh walks run side by side
PER_GROUP = 4
POST_DELAY = 0.6
CHILD = ('echo "$AXIOM_CLAUDE_PROFILE start $(date +%s.%N)" >> "$LOG"; sleep "$NAP"; '
         'echo "$AXIOM_CLAUDE_PROFILE end $(date +%s.%N)" >> "$LOG"')


def fleet(rel, delay: float = POST_DELAY, count: int = GROUPS) -> list[tuple[object, list[str]]]:
    """``count`` worlds of PER_GROUP profiles each (names unique across worlds, one FTS)."""
    groups = []
    for g in range(count):
        world = rel if g == 0 else rel.sibling(f"group{g}")
        names = [f"g{g}p{i}" for i in range(PER_GROUP)]
        for name in names:
            world.profile(name)
            rel.fake.set_token_behaviour(name, TokenBehaviour(delay_s=delay))
        groups.append((world, names))
    return groups


def exec_argv(names: list[str], name: str) -> list[str]:
    avoid = [a for other in names if other != name for a in ("--avoid", other)]
    return ["exec", *avoid, "--", "sh", "-c", CHILD]


def wait_post(rel, name: str | None, timeout: float) -> None:
    """Until the FTS has seen a POST for ``name`` (the refresh has reached it), or ``timeout``."""
    deadline = time.monotonic() + timeout
    while name is not None and not rel.fake.posts_for(name) and time.monotonic() < deadline:
        time.sleep(0.01)


def one_round(world, names: list[str], rng: random.Random, log, prefix: list[str], driver: bool,
              post_delay: float) -> dict:
    """One refresh walk over the group's profiles, one exec per profile paced against it.

    "early": the exec starts when the refresh's POST for the profile two
    places before arrives (its lease is usually in place when the refresh
    gets there: the refresh must skip). "during": it starts when the POST for
    its own profile arrives (it asks for its lease while the refresh holds
    the lock and the POST is in flight: it must wait).
    """
    warmed = world.run("status", "--json", CLAUDE_LB_DEBUG="1")
    assert warmed.rc == 0, (warmed.stdout, warmed.stderr)  # re-warm: execs must not pay for probes
    refresher = world.start(*prefix, "refresh", "--all", "--json", driver=driver,
                            CLAUDE_LB_REFRESH_MIN_INTERVAL="0")
    procs = []
    for i, name in enumerate(names):
        early = rng.random() < 0.5
        if early:
            wait_post(world, names[i - 2] if i > 1 else None, timeout=2.0)
        else:
            wait_post(world, name, timeout=4.0)
        # A child outlives the POST it raced (a rotation under it would show); early ones the walk.
        nap = f"{rng.uniform(0.8, 1.2) if early else post_delay + rng.uniform(0.3, 0.7):.2f}"
        procs.append(world.start(*prefix, *exec_argv(names, name), driver=driver, LOG=str(log), NAP=nap))
    failures = [r for r in (p.finish() for p in procs) if r.rc != 0]
    data = refresher.finish().json().get("data") or []
    return {"skipped": sum(1 for r in data if r.get("status") == "skipped_leased"),
            "refreshed": sum(1 for r in data if r.get("status") == "refreshed"), "failures": failures}


def race_rounds(rel, groups, rounds: int, *, driver: bool = False, seed: int = 7,
                post_delay: float = POST_DELAY) -> dict:
    import threading

    log = rel.root / "children.log"
    prefix = ["--nolock"] if driver else []
    results: list[dict] = []

    def lane(g: int, world, names: list[str]) -> None:
        rng = random.Random(seed * 100 + g)
        for _ in range(rounds):
            results.append(one_round(world, names, rng, log, prefix, driver, post_delay))

    threads = [threading.Thread(target=lane, args=(g, w, n)) for g, (w, n) in enumerate(groups)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"children": child_intervals(log), "skipped_leased": sum(r["skipped"] for r in results),
            "refreshed": sum(r["refreshed"] for r in results),
            "exec_failures": [f for r in results for f in r["failures"]]}


def child_intervals(log) -> dict[str, list[tuple[float, float]]]:
    opened: dict[str, float] = {}
    out: dict[str, list[tuple[float, float]]] = {}
    for line in log.read_text().splitlines() if log.exists() else []:
        name, what, at = line.split()
        if what == "start":
            opened[name] = float(at)
        elif name in opened:
            out.setdefault(name, []).append((opened.pop(name), float(at)))
    return out


def rotations_under_lease(rel, children: dict[str, list[tuple[float, float]]]) -> list[tuple[str, float]]:
    bad = []
    for rotation in rel.fake.rotations:
        for start, end in children.get(rotation["label"], []):
            if start < rotation["t"] < end:
                bad.append((rotation["label"], rotation["t"]))
    return bad


def test_g7_no_rotation_of_a_leased_profile_in_100_races(rel):
    groups = fleet(rel)
    fig = race_rounds(rel, groups, rounds=5)
    bad = rotations_under_lease(rel, fig["children"])
    runs = sum(len(v) for v in fig["children"].values())
    message = (f"G7: {runs} exec children raced by {5 * GROUPS} refresh walks -> rotations under a live lease={len(bad)} "
               f"(refreshes skipped as leased={fig['skipped_leased']}, rotations between children="
               f"{len(rel.fake.rotations)}), exec failures={len(fig['exec_failures'])}")
    print(message)
    assert not bad and not fig["exec_failures"], message + "".join(f"\n{r}" for r in fig["exec_failures"][:2])
    assert runs == 5 * GROUPS * PER_GROUP, message
    assert fig["skipped_leased"] and rel.fake.rotations, "no real race happened: " + message


def test_g7_negative_control_without_locks_rotates_under_a_child(rel):
    groups = fleet(rel, delay=2.0, count=3)  # a long POST: the child surely starts while it is in flight
    fig = race_rounds(rel, groups, rounds=1, driver=True, seed=11, post_delay=2.0)
    bad = rotations_under_lease(rel, fig["children"])
    print(f"G7 negative control (locks off): rotations under a live lease={len(bad)} "
          f"of {len(rel.fake.rotations)} rotations")
    assert bad, "locking off changed nothing"


# -- the lease goes away however exec ends -------------------------------------------------

def lease_entries(rel) -> dict:
    path = rel.config / "leases.json"
    return json.loads(path.read_text()).get("leases", {}) if path.exists() else {}


def wait_for_lease(rel, timeout: float = 30, child: bool = False) -> None:
    """Until a lease is recorded (with its child's pid when ``child``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            entries = lease_entries(rel)
            if entries and (not child or all(e.get("child_pid") for e in entries.values())):
                return
        except ValueError:
            pass
        time.sleep(0.05)
    raise AssertionError("exec never took its lease")


def test_g7_lease_released_after_exit_exception_sigint_sigterm(rel):
    rel.profile("p")
    assert rel.run("status", "--json").rc == 0
    outcomes = {}
    # Normal exit, with the child's own exit code passed through.
    run = rel.run("exec", "--", "sh", "-c", "exit 3")
    outcomes["exit"] = (run.rc, lease_entries(rel))
    # An exception inside roost while the child runs (in-process fault injection).
    run = rel.run("--crash-child-wait", "exec", "--", "sleep", "0.1", driver=True)
    outcomes["exception"] = (run.rc, lease_entries(rel))
    # SIGINT as a terminal sends it (to the whole process group) and SIGTERM from a supervisor.
    for name, sig, group in (("SIGINT", signal.SIGINT, True), ("SIGTERM", signal.SIGTERM, False)):
        proc = rel.start("exec", "--", "sleep", "30", preexec=os.setpgrp)
        wait_for_lease(rel)
        time.sleep(0.2)
        (os.killpg if group else os.kill)(proc.popen.pid, sig)
        run = proc.finish(timeout=30)
        outcomes[name] = (run.rc, lease_entries(rel))
    print("G7: lease left after exit/exception/SIGINT/SIGTERM = "
          + ", ".join(f"{k}: rc={rc} leases={len(left)}" for k, (rc, left) in outcomes.items()))
    assert outcomes["exit"][0] == 3
    assert outcomes["exception"][0] == 1
    assert all(not left for rc, left in outcomes.values()), outcomes


def test_g7_sigkilled_holder_lease_stops_blocking_once_roost_and_child_are_gone(rel):
    rel.profile("p")
    assert rel.run("status", "--json").rc == 0
    proc = rel.start("exec", "--", "sleep", "2.5")
    wait_for_lease(rel, child=True)
    killed_at = time.monotonic()
    proc.kill()  # the child keeps running (and keeps roost's stdout pipe open: finish() waits for it)
    blocked = rel.run("refresh", "p", "--json")
    proc.finish()  # returns once the child (sleep 2.5) has exited
    started = time.monotonic()
    after = rel.run("refresh", "p", "--json")
    assert started - killed_at < 60
    print(f"G7: SIGKILLed exec -> refresh while its child runs rc={blocked.rc} (LEASE_HELD expected), "
          f"after the child exits rc={after.rc} within {time.monotonic() - started:.2f}s, not at the 30 min TTL")
    assert blocked.rc == 7 and "LEASE_HELD" in blocked.stdout, blocked
    assert after.rc == 0, after


@pytest.mark.stress
def test_g7_stress_500_races(rel):
    groups = fleet(rel)
    fig = race_rounds(rel, groups, rounds=25, seed=99)
    bad = rotations_under_lease(rel, fig["children"])
    print(f"G7 stress: {sum(len(v) for v in fig['children'].values())} races -> rotations under lease={len(bad)}")
    assert not bad and not fig["exec_failures"]
