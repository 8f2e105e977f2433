"""roost pick / which through the real executable against the fake Anthropic server."""

from __future__ import annotations

import json
import subprocess

import pytest
from roostkit import canary

from roost_plugins.fakeserver import Scenario

LIMITS_OPUS_FULL = [
    {"kind": "session", "group": "session", "percent": 10, "resets_at": None, "scope": None, "is_active": False},
    {"kind": "weekly_scoped", "group": "weekly", "percent": 100, "resets_at": None, "is_active": True,
     "scope": {"model": {"id": None, "display_name": "Claude Opus 4.7"}, "surface": None}},
]


def fleet(world, **scenarios: Scenario) -> None:
    """Profiles named by the keywords ("_" reads as "-"), each answered by its scenario."""
    for key, scenario in scenarios.items():
        name = key.replace("_", "-")
        world.make_profile(name)
        world.fake.add_account(name, access_token=canary("access", name), refresh_token=canary("refresh", name),
                               usage=scenario)


def pick(world, *args: str, **env: str) -> tuple[int, str, str]:
    proc = world.run("pick", *args, **env)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, proc.stdout, proc.stderr


def log_lines(world) -> list[list[str]]:
    path = world.config / "picks.log"
    return [line.split("\t") for line in path.read_text().splitlines()] if path.exists() else []


def last_pick(world) -> dict:
    return json.loads((world.config / "last-pick.json").read_text())


def test_default_pick_is_sticky_least_used_with_log_and_last_pick(world):
    fleet(world, account_a=Scenario.ok(weekly=50), account_b=Scenario.ok(weekly=10))
    rc, out, err = pick(world)
    assert (rc, out, err) == (0, "account-b\n", "")
    [line] = log_lines(world)
    assert line[1:4] == ["pick", "account-b", "sticky"] and line[4] == "" and len(line) == 9
    assert last_pick(world)["name"] == "account-b" and last_pick(world)["strategy"] == "sticky"
    # account-a becomes the least used, but the last pick sticks inside the window ...
    world.fake.set_chain_usage("account-a", Scenario.ok(weekly=1))
    world.fake.set_chain_usage("account-b", Scenario.ok(weekly=60))
    assert pick(world, "--no-cache")[1] == "account-b\n"
    # ... unless stickiness is off (flag or environment), or the sticky pick is avoided.
    assert pick(world, "--stickiness", "0")[1] == "account-a\n"
    world.run("pick", "--strategy", "first-healthy", "--avoid", "account-a")  # last pick: account-b again
    assert pick(world, "--avoid", "account-b")[1] == "account-a\n"
    assert pick(world, CLAUDE_LB_STICKINESS="0")[1] == "account-a\n"


@pytest.mark.parametrize("strategy, expected", [
    ("least-used", "b"),       # weekly 10
    ("weighted", "c"),         # 60 / (59 + 1) = 1.0 beats 10 / 2 and 50 / 1
    ("first-healthy", "a"),
    ("lowest-overage", "a"),   # no overage data counts as 0; b spends 40 %, c 5 %
    ("round-robin", "a"),      # no previous pick
    ("sticky", "b"),           # no previous pick: least-used
])
def test_each_builtin_strategy(world, strategy, expected):
    fleet(world, a=Scenario.ok(weekly=50, session=0), b=Scenario.ok(weekly=10, session=1, overage=40),
          c=Scenario.ok(weekly=60, session=59, overage=5))
    rc, out = world.run_json("pick", "--strategy", strategy)
    assert rc == 0 and out["data"]["name"] == expected
    assert out["data"]["strategy"] == strategy and out["data"]["health"]["health"] == "ok"
    assert out["data"]["rationale"].startswith(strategy)


def test_round_robin_rotates_through_every_profile(world):
    fleet(world, a=Scenario.ok(), b=Scenario.ok(), c=Scenario.ok())
    names = [pick(world, "--strategy", "round-robin")[1].strip() for _ in range(4)]
    assert names == ["a", "b", "c", "a"]


def test_json_shape_and_count(world):
    fleet(world, a=Scenario.ok(weekly=30), b=Scenario.ok(weekly=10), c=Scenario.ok(weekly=20),
          d=Scenario.unauthorized())
    rc, out = world.run_json("pick")
    assert rc == 0 and set(out["data"]) == {"name", "health", "strategy", "rationale"}
    assert out["meta"]["count"] == 1 and out["meta"]["side_effects"] is True
    rc, out = world.run_json("pick", "--count", "5", "--strategy", "least-used")
    assert rc == 0 and [d["name"] for d in out["data"]] == ["b", "c", "a"]  # fewer than asked: what there is
    assert out["meta"]["count"] == 3 and out["meta"]["requested"] == 5
    rc, out = world.run_json("pick", "-n", "2")
    assert [d["name"] for d in out["data"]] == ["b", "c"]
    assert pick(world, "-n", "2", "--strategy", "least-used")[1] == "b\nc\n"
    assert last_pick(world)["name"] == "b"
    assert [line[2] for line in log_lines(world)][-2:] == ["b", "c"]


def test_export_is_shell_sourceable_and_rejected_with_count(world):
    fleet(world, work=Scenario.ok())
    rc, out, _ = pick(world, "--export")
    assert (rc, out) == (0, "AXIOM_CLAUDE_PROFILE=work\n")
    shell = subprocess.run(["bash", "-c", 'eval "$(cat)"; printf %s "$AXIOM_CLAUDE_PROFILE"'],
                           input=out, capture_output=True, text=True)
    assert shell.stdout == "work"
    rc, _, err = pick(world, "--export", "--count", "2")
    assert rc == 4 and "--count" in err
    assert len(log_lines(world)) == 1  # the rejected call logged nothing


def test_avoid_max_cost_and_warn_at(world):
    fleet(world, a=Scenario.ok(weekly=5, overage=85), b=Scenario.ok(weekly=20), c=Scenario.ok(weekly=82, overage=10))
    rc, out, err = pick(world, "--strategy", "least-used", "--max-cost", "80", "--avoid", "b", "--warn-at", "80")
    assert (rc, out) == (0, "c\n")
    assert "roost: warning: c is at weekly 82% (--warn-at 80%)" in err
    rc, out, _ = pick(world, "--strategy", "least-used", "--avoid", "a", "--avoid", "b")
    assert out == "c\n"
    assert pick(world, "-n", "3", "--strategy", "weighted", "--avoid", "b")[1] == "a\nc\n"  # composes with --count
    rc, out = world.run_json("pick", "--avoid", "a", "--avoid", "b", "--avoid", "c")
    assert rc == 9 and out["error"]["details"]["reason"] == "all_filtered"


def test_require_ok_and_uncertain_profiles(world):
    fleet(world, flaky=Scenario.drop(), broken=Scenario.server_error(500), dead=Scenario.unauthorized())
    rc, out, err = pick(world, "--strategy", "first-healthy")
    assert rc == 0 and out == "broken\n"  # unknown/network_error are a last resort, never throttled or dead
    assert "no profile is ok" in err
    rc, out = world.run_json("pick", "--require-ok")
    assert rc == 5 and out["error"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize("scenarios, code, name", [
    ({"a": Scenario.unauthorized(), "b": Scenario.invalid_credentials()}, 2, "AUTH_REQUIRED"),
    ({"a": Scenario.rate_limited("120"), "b": Scenario.session_exhausted()}, 6, "RATE_LIMITED"),
    ({"a": Scenario.weekly_exhausted(), "b": Scenario.weekly_exhausted()}, 9, "UNAVAILABLE"),
    ({"a": Scenario.weekly_exhausted(), "b": Scenario.unauthorized()}, 9, "UNAVAILABLE"),
])
def test_exit_codes_when_nothing_can_be_picked(world, scenarios, code, name):
    fleet(world, **scenarios)
    rc, out = world.run_json("pick")
    assert rc == code and out["error"]["code"] == name
    assert set(out["error"]["details"]["profiles"]) == set(scenarios)
    rc, _, err = pick(world)
    assert rc == code and err.startswith("roost: error:")
    assert [(line[2], line[4], line[8]) for line in log_lines(world)] == [("", str(code), name)] * 2


def test_all_locally_expired_is_auth_required_without_a_request(world):
    world.make_profile("old", expires_in=-3600)
    rc, _, err = pick(world)
    assert rc == 2 and "refresh --expired" in err
    assert world.fake.count("GET", "/api/oauth/usage") == 0


def test_no_profiles_is_unavailable(world):
    rc, out = world.run_json("pick")
    assert rc == 9 and out["error"]["details"]["reason"] == "no_profiles"


def test_unknown_strategy_is_validation_listing_names(world):
    fleet(world, a=Scenario.ok())
    rc, out = world.run_json("pick", "--strategy", "fastest")
    assert rc == 4 and out["error"]["code"] == "VALIDATION"
    assert "lowest-overage" in out["error"]["message"] and "sticky" in out["error"]["details"]["available"]
    assert not (world.config / "picks.log").exists()


def test_fallback(world):
    fleet(world, a=Scenario.rate_limited("60"), b=Scenario.rate_limited("60"))
    rc, out, err = pick(world, "--fallback", "b")
    assert (rc, out) == (0, "b\n") and "using --fallback b" in err
    rc, out = world.run_json("pick", "--fallback", "b")
    assert rc == 0 and out["meta"]["fallback_used"] is True and out["data"]["rationale"].startswith("fallback:")
    rc, _, err = pick(world, "--fallback", "nosuch")
    assert rc == 6 and "--fallback nosuch ignored: no such profile" in err
    rc, _, err = pick(world, "--fallback", "b", "--avoid", "b")
    assert rc == 6 and "also in --avoid" in err


def test_explain_text_json_and_error(world):
    fleet(world, account_a=Scenario.ok(weekly=5), account_b=Scenario.ok(weekly=10), account_c=Scenario.ok(weekly=20))
    rc, out, err = pick(world, "--strategy", "least-used", "--avoid", "account-a", "--explain")
    assert (rc, out) == (0, "account-b\n")
    lines = err.splitlines()
    assert lines[0].strip() == "Pick decision (strategy=least-used)"
    row = {line.split("│")[1].strip(): line.split("│")[2:4] for line in lines if line.startswith("│")}
    assert [c.strip() for c in row["account-a"]] == ["excluded", "avoid (--avoid)"]
    assert [c.strip() for c in row["account-b"]] == ["◀ chosen", "score=10.00"]
    assert [c.strip() for c in row["account-c"]] == ["candidate", "score=20.00"]
    assert lines[-1] == "Rationale: least-used: lowest weekly usage among healthy"
    rc, data = world.run_json("pick", "--strategy", "least-used", "--explain")
    assert [(r["profile"], r["status"]) for r in data["data"]["explain"]] == [
        ("account-a", "chosen"), ("account-b", "candidate"), ("account-c", "candidate")]
    rc, data = world.run_json("pick", "--explain", "--avoid", "account-a", "--avoid", "account-b",
                              "--avoid", "account-c")
    assert rc == 9 and all(r["status"] == "excluded" for r in data["error"]["details"]["explain"])


def test_model_scoped_limit(world):
    fleet(world, a=Scenario.ok(weekly=5, limits=LIMITS_OPUS_FULL), b=Scenario.ok(weekly=40, sonnet=100))
    assert pick(world, "--strategy", "least-used")[1] == "a\n"
    rc, out = world.run_json("pick", "--strategy", "least-used", "--model", "opus", "--explain")
    assert rc == 0 and out["data"]["name"] == "b"
    assert out["data"]["explain"][0]["reason"].startswith("Claude Opus 4.7 weekly limit at 100% (--model opus)")
    rc, out = world.run_json("pick", "--model", "sonnet", "--strategy", "least-used")
    assert out["data"]["name"] == "a"
    rc, out = world.run_json("pick", "--model", "sonnet", "--avoid", "a")
    assert rc == 9


def test_which_has_no_side_effects(world):
    fleet(world, a=Scenario.ok(weekly=50), b=Scenario.ok(weekly=10))
    rc, out = world.run_json("which", "--strategy", "least-used", "--avoid", "b", "--explain")
    assert rc == 0 and out["data"]["name"] == "a" and out["meta"]["side_effects"] is False
    assert out["data"]["explain"][1]["reason"] == "avoid (--avoid)"
    assert world.run("which", "--export").stdout == "AXIOM_CLAUDE_PROFILE=b\n"
    assert world.run("which", "-n", "2").stdout == "b\na\n"
    assert not (world.config / "picks.log").exists() and not (world.config / "last-pick.json").exists()
    assert world.fake.count("GET", "/api/oauth/usage") == 2  # probing for freshness is allowed


def test_team_overrides_from_config(world):
    fleet(world, a=Scenario.ok(weekly=5), b=Scenario.ok(weekly=10), c=Scenario.ok(weekly=50, overage=95))
    world.config.mkdir(parents=True, exist_ok=True)
    (world.config / "config.toml").write_text(
        'strategy = "first-healthy"\n[teams.ci]\nstrategy = "least-used"\navoid = ["a"]\nmax_cost = 90\n'
        '[teams.ops]\nrequire_ok = true\nfallback = "c"\nwarn_at = 1\n')
    assert pick(world, "--stickiness", "0")[1] == "a\n"                         # config file
    assert pick(world, "--stickiness", "0", CLAUDE_LB_TEAM="ci")[1] == "b\n"    # team via environment
    assert world.run("--team", "ci", "which", "--avoid", "b").stdout == "a\n"  # the flag replaces the team's list
    rc, out = world.run_json("which", "--team", "ci", "--avoid", "a", "--avoid", "b")
    assert rc == 9 and out["error"]["details"]["reason"] == "all_filtered"    # c is over the team's max_cost
    rc, out = world.run_json("which", "--team", "ci", "--strategy", "first-healthy")
    assert rc == 0 and out["data"]["name"] == "b" and out["meta"]["team"] == "ci"
    rc, _, err = pick(world, "--team", "ops", "--strategy", "first-healthy")
    assert rc == 0 and "a is at" in err  # team warn_at applies
    assert world.run("--team", "nope", "pick").returncode == 4


def test_auto_refresh_heals_expired_profiles(world):
    world.make_profile("exp", expires_in=-60)
    world.fake.add_account("exp", access_token=canary("access", "exp"), refresh_token=canary("refresh", "exp"),
                           usage=Scenario.ok(weekly=10))
    world.make_profile("gone", expires_in=-60)  # the fake does not know its refresh token: refresh fails
    rc, _, _ = pick(world)
    assert rc == 2
    rc, out, err = pick(world, "--auto-refresh", "--explain")
    assert (rc, out) == (0, "exp\n")
    assert "auto-refresh of gone failed" in err
    assert world.fake.token_posts_for("exp") == 1
    assert world.credentials("exp")["claudeAiOauth"]["accessToken"] == world.fake.live_access_token("exp")


def test_no_cache_forces_a_probe(world):
    fleet(world, a=Scenario.ok())
    pick(world)
    pick(world)
    assert world.fake.count("GET", "/api/oauth/usage") == 1
    pick(world, "--no-cache")
    assert world.fake.count("GET", "/api/oauth/usage") == 2


def test_completion_offers_strategies_and_profiles(world):
    world.make_profile("work")
    world.make_profile("personal")

    def complete(words: str, cword: int) -> list[str]:
        proc = world.run(_ROOST_COMPLETE="bash_complete", COMP_WORDS=words, COMP_CWORD=str(cword))
        return [line.split(",", 1)[1] for line in proc.stdout.splitlines()]

    assert complete("roost pick --strategy l", 3) == ["least-used", "lowest-overage"]
    assert complete("roost which --avoid ", 3) == ["personal", "work"]
    assert complete("roost pick --fallback w", 3) == ["work"]
