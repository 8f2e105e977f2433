"""G13 / F15: a local clock 15 minutes off never causes a refresh storm or auth_dead.

With libfaketime (``faketime``, installed by .ci/run) shifting roost's clock
by +15 min and by -15 min, every refresh-capable command runs over three
profiles: one expiring in 10 min (server time), one whose token the server
already rejects (a 401 before the local expiresAt, claude-code #54443) and
a fresh one. Per command run: at most one POST per profile; afterwards no
reuse at the server and no profile auth_dead.
"""

from __future__ import annotations

import shutil

import pytest

from roost_plugins.fakeserver import Scenario

COMMANDS = [["pick", "--auto-refresh", "--json"], ["refresh", "--expired", "--json"],
            ["refresh", "--soon", "30m", "--json"], ["exec", "--auto-refresh", "--", "true"],
            ["pick", "--auto-refresh", "--json"]]


def skewed_world(rel, offset: str):
    world = rel.sibling(f"skew{offset}")
    tag = "ahead" if offset.startswith("+") else "behind"
    names = {"soon": f"{tag}soon", "late": f"{tag}late", "fresh": f"{tag}fresh"}
    world.profile(names["soon"], expires_in=600)
    world.profile(names["late"], expires_in=300)
    world.profile(names["fresh"])
    # The server already considers "late"'s access token expired; its next tokens are fine.
    rel.fake.set_usage(world.tokens[names["late"]][0], Scenario.unauthorized())
    return world, names


def run_skewed(rel, offset: str) -> tuple[dict, list[str]]:
    world, names = skewed_world(rel, offset)
    per_run, problems = [], []
    for argv in COMMANDS:
        before = {n: rel.fake.token_posts_for(n) for n in names.values()}
        run = world.run(*argv, wrap=["faketime", "-f", offset], FAKETIME_DONT_FAKE_MONOTONIC="1")
        posts = {n: rel.fake.token_posts_for(n) - before[n] for n in names.values()}
        per_run.append(max(posts.values()))
        if run.rc != 0:
            problems.append(f"{offset} {argv}: {run}")
        if max(posts.values()) > 1:
            problems.append(f"{offset} {argv}: POSTs per profile {posts}")
    final = world.run("status", "--json").json().get("data") or []
    rows = final if isinstance(final, list) else final.get("profiles", [])
    dead = [r["name"] for r in rows if r.get("health") == "auth_dead"]
    if dead:
        problems.append(f"{offset}: auth_dead after skew: {dead}")
    return {"max_posts_per_profile_per_run": max(per_run), "auth_dead": len(dead),
            "posts": {n: rel.fake.token_posts_for(n) for n in names.values()}}, problems


@pytest.mark.skipif(shutil.which("faketime") is None, reason="faketime (libfaketime) is not installed; "
                    ".ci/run installs it")
def test_g13_clock_skew_plus_minus_15_minutes(rel):
    figures, problems = {}, []
    for offset in ("+15m", "-15m"):
        figures[offset], found = run_skewed(rel, offset)
        problems += found
    message = (f"G13: clock +-15 min over {len(COMMANDS)} commands -> {figures}; server reuse={rel.fake.reuse_count}")
    print(message)
    assert not problems and rel.fake.reuse_count == 0, message + "\n" + "\n".join(problems[:10])
    assert all(f["max_posts_per_profile_per_run"] <= 1 and f["auth_dead"] == 0 for f in figures.values()), message


@pytest.mark.stress
@pytest.mark.skipif(shutil.which("faketime") is None, reason="faketime is not installed")
@pytest.mark.parametrize("offset", ["+1h", "-1h", "+470m", "-1d"])
def test_g13_stress_larger_skews(rel, offset):
    figures, problems = run_skewed(rel, offset)
    print(f"G13 stress {offset}: {figures}")
    assert all("POSTs per profile" not in p for p in problems), problems
