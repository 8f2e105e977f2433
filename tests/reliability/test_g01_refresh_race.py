"""G1 / F1: many processes refresh one profile at once.

50 real ``roost refresh p`` processes, the FTS holding each POST 500 ms:
exactly one POST, no reuse at the server, no auth_dead, every process exits
0 and the file ends holding the server's live refresh token. The negative
control runs the same race with locking switched off in-process and must
produce more than one POST (reuse / invalid_grant).
"""

from __future__ import annotations

import pytest

from roost_plugins.fakeserver import TokenBehaviour

N = 50
DELAY = TokenBehaviour(delay_s=0.5)


def auth_dead(runs) -> int:
    return sum(1 for r in runs if r.rc == 2 or "auth_dead" in r.stdout or "invalid_grant" in r.stdout)


def race(rel, argv: list[str], n: int, driver: bool = False, **env: str):
    return rel.run_many([argv] * n, driver=driver, **env)


def g1_figures(rel, runs, label: str = "p") -> dict:
    return {
        "posts": rel.fake.token_posts_for(label),
        "reuse": rel.fake.reuse_count,
        "auth_dead": auth_dead(runs),
        "nonzero_exits": sum(1 for r in runs if r.rc != 0),
        "file_holds_live": rel.stored_refresh(label) == rel.fake.live_refresh_token(label),
    }


def test_g1_fifty_concurrent_refreshers_one_post(rel):
    rel.profile("p")
    rel.fake.set_token_behaviour("p", DELAY)
    runs = race(rel, ["refresh", "p", "--json"], N)
    fig = g1_figures(rel, runs)
    statuses = sorted({r.json().get("data", {}).get("status", "error") for r in runs if r.rc == 0})
    message = (f"G1: {N} refreshers -> posts={fig['posts']} reuse={fig['reuse']} auth_dead={fig['auth_dead']} "
               f"nonzero_exits={fig['nonzero_exits']} file_holds_live={fig['file_holds_live']} "
               f"statuses={statuses} slowest={max(r.elapsed for r in runs):.2f}s")
    print(message)
    bad = [r for r in runs if r.rc != 0]
    assert fig == {"posts": 1, "reuse": 0, "auth_dead": 0, "nonzero_exits": 0, "file_holds_live": True}, \
        message + ("\nfirst failure: " + str(bad[0]) if bad else "")


def test_g1_negative_control_without_locks_double_refreshes(rel):
    """The same race through the in-process no-lock driver must spend the token more than once."""
    rel.profile("p")
    rel.fake.set_token_behaviour("p", DELAY)
    runs = race(rel, ["--nolock", "refresh", "p", "--json"], 12, driver=True)
    fig = g1_figures(rel, runs)
    print(f"G1 negative control (locks off): 12 refreshers -> posts={fig['posts']} reuse={fig['reuse']} "
          f"auth_dead={fig['auth_dead']} nonzero_exits={fig['nonzero_exits']}")
    assert fig["posts"] > 1 and fig["reuse"] >= 1, f"locking off changed nothing: {fig}"


def test_g1_mixed_pick_auto_refresh_and_refresh_expired(rel):
    """F1's second recipe, halved for the default tier: 10 ``pick --auto-refresh`` + 10 ``refresh --expired``."""
    rel.profile("p", expires_in=-60)
    rel.fake.set_token_behaviour("p", DELAY)
    argvs = [["pick", "--auto-refresh", "--json"]] * 10 + [["refresh", "--expired", "--json"]] * 10
    runs = rel.run_many(argvs)
    fig = g1_figures(rel, runs)
    message = (f"G1 mixed: 10 pick --auto-refresh + 10 refresh --expired -> posts={fig['posts']} "
               f"reuse={fig['reuse']} auth_dead={fig['auth_dead']} nonzero_exits={fig['nonzero_exits']} "
               f"file_holds_live={fig['file_holds_live']}")
    print(message)
    bad = [r for r in runs if r.rc != 0]
    assert (fig["posts"], fig["reuse"], fig["auth_dead"], fig["file_holds_live"]) == (1, 0, 0, True), message
    assert not bad, message + "\nfirst failure: " + str(bad[0])


@pytest.mark.stress
@pytest.mark.parametrize("family", [False, True], ids=["rotate", "revoke-family"])
def test_g1_stress_twenty_rounds(rel, family):
    rel.profile("p")
    rel.fake.set_token_behaviour("p", TokenBehaviour(delay_s=0.3, revoke_family_on_reuse=family))
    worst = []
    for round_no in range(20):
        rel.fake.reset_counters()
        runs = race(rel, ["refresh", "p", "--json"], N, CLAUDE_LB_REFRESH_MIN_INTERVAL="30")
        fig = g1_figures(rel, runs)
        worst.append((fig["posts"], fig["reuse"], fig["auth_dead"], fig["nonzero_exits"]))
        assert fig["file_holds_live"], f"round {round_no}: {fig}"
        # The next round must refresh again: forget roost's "refreshed a moment ago" memory.
        (rel.config / "refreshes.json").unlink(missing_ok=True)
    print(f"G1 stress ({'family revocation' if family else 'rotation'}): {N} x 20 rounds, "
          f"(posts, reuse, auth_dead, nonzero) per round = {worst}")
    assert all(w == (1, 0, 0, 0) for w in worst), worst
