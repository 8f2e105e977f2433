"""roost refresh through the real executable against the fake token endpoint."""

from __future__ import annotations

import json
import os
import stat
import time

import pytest

from roost_core import leases
from roost_core.context import RoostContext
from roost_plugins.fakeserver import TokenBehaviour


def _account(world, name: str, **kwargs) -> None:
    world.make_account(name, **kwargs)


def _raw(world, name: str) -> bytes:
    return (world.profiles / name / ".credentials.json").read_bytes()


def assert_no_secrets(tokens: list[str], *texts: str) -> None:
    """No 8-character slice of any of ``tokens`` in output (last 4 characters are fine)."""
    for token in tokens:
        for text in texts:
            for i in range(len(token) - 8):
                assert token[i:i + 8] not in text, f"token …{token[-4:]} leaked"


def _tokens(world, name: str) -> list[str]:
    oauth = world.credentials(name)["claudeAiOauth"]
    return [oauth["accessToken"], oauth["refreshToken"]]


def test_refresh_one_profile(world):
    _account(world, "a", extra={"other": [1, 2]})
    rc, out = world.run_json("refresh", "a")
    assert rc == 0 and out["data"]["status"] == "refreshed" and out["data"]["name"] == "a"
    creds = world.credentials("a")
    assert creds["claudeAiOauth"]["refreshToken"] == world.fake.live_refresh_token("a")
    assert creds["claudeAiOauth"]["accessToken"] == world.fake.live_access_token("a")
    assert creds["other"] == [1, 2] and creds["mcpOAuth"] == {"keep": "me"}
    assert creds["claudeAiOauth"]["subscriptionType"] == "max"
    assert stat.S_IMODE((world.profiles / "a" / ".credentials.json").stat().st_mode) == 0o600
    assert out["data"]["expires_at"].startswith("20")
    assert world.fake.token_posts == 1 and world.fake.reuse_count == 0
    assert sorted(os.listdir(world.profiles)) == ["a"]  # claude's lock dirs are gone again
    assert sorted(os.listdir(world.profiles / "a")) == [".credentials.json"]


def test_refresh_text_output_and_no_secrets(world):
    _account(world, "a")
    tokens = _tokens(world, "a")
    proc = world.run("refresh", "a")
    assert proc.returncode == 0, proc.stderr
    tokens += _tokens(world, "a")
    # A pipe gets the data line; the sentence is for a terminal (one rendering, never both).
    assert proc.stdout.startswith("a\trefreshed\t") and "a: refreshed" not in proc.stderr
    assert_no_secrets(tokens, proc.stdout, proc.stderr)
    for path in world.config.rglob("*"):
        if path.is_file():
            assert_no_secrets(tokens, path.read_text(errors="replace"))


@pytest.mark.parametrize("args", [(), ("a", "--all"), ("--all", "--expired"), ("a", "--soon", "1h")])
def test_no_or_conflicting_target_is_validation(world, args):
    _account(world, "a")
    rc, out = world.run_json("refresh", *args)
    assert rc == 4 and out["error"]["code"] == "VALIDATION"
    assert world.fake.token_posts == 0


@pytest.mark.parametrize("selector", [("--all",), ("--expired",), ("--soon", "1h")])
def test_no_profiles_at_all_is_unavailable(world, selector):
    """As status and pick say it: nothing to act on is exit 9, not a quiet success."""
    rc, out = world.run_json("refresh", *selector)
    assert rc == 9 and out["error"]["code"] == "UNAVAILABLE" and out["error"]["details"]["reason"] == "no_profiles"
    assert world.fake.token_posts == 0


def test_unknown_and_invalid_names(world):
    assert world.run("refresh", "nobody").returncode == 3
    assert world.run("refresh", "../x").returncode == 4
    assert world.run("refresh", "--soon", "soonish").returncode == 4


def test_leased_profile_is_never_rotated(world):
    _account(world, "a")
    _account(world, "b")
    before = _raw(world, "a")
    ctx = RoostContext(env=world.env())
    leases.acquire(ctx, "a", 600)  # held by this (live) test process
    rc, out = world.run_json("refresh", "a")
    assert rc == 7 and out["error"]["code"] == "LEASE_HELD"
    assert _raw(world, "a") == before and world.fake.token_posts == 0
    rc, out = world.run_json("refresh", "--all")  # b is refreshed, then the run fails: a was left alone
    assert rc == 7 and out["error"]["code"] == "LEASE_HELD" and out["meta"]["exit_code"] == 7
    assert "leased" in out["error"]["message"] and "a" in out["error"]["details"]["leased"]
    assert out["error"]["details"] == {"leased": ["a"], "failed": []}
    statuses = {r["name"]: r["status"] for r in out["data"]}
    assert statuses == {"a": "skipped_leased", "b": "refreshed"}
    assert _raw(world, "a") == before and world.fake.token_posts_for("a") == 0
    assert world.fake.token_posts_for("b") == 1
    proc = world.run("refresh", "--all")  # text mode: the data lines, then one error line naming a
    assert proc.returncode == 7
    assert [line.split("\t")[:2] for line in proc.stdout.splitlines()] == [["a", "skipped_leased"],
                                                                          ["b", "already_fresh"]]  # < 30 s ago
    assert proc.stderr.strip().splitlines()[-1] == (
        "roost: error: leased by a running roost exec, not refreshed: a (retry after the exec exits) (LEASE_HELD)")


def test_expired_and_soon_fail_only_for_a_leased_profile_that_was_due(world):
    _account(world, "due", expires_in=-60)
    _account(world, "later", expires_in=7200)
    ctx = RoostContext(env=world.env())
    leases.acquire(ctx, "later", 600)
    rc, out = world.run_json("refresh", "--expired")  # leased but not due: not an error
    assert rc == 0 and "error" not in out
    assert {r["name"]: r["status"] for r in out["data"]} == {"due": "refreshed", "later": "skipped_not_due"}
    rc, out = world.run_json("refresh", "--soon", "3h")  # now later is due, and leased
    assert rc == 7 and out["error"]["code"] == "LEASE_HELD" and out["error"]["details"]["leased"] == ["later"]
    assert {r["name"]: r["status"] for r in out["data"]} == {"due": "skipped_not_due", "later": "skipped_leased"}
    assert world.fake.token_posts_for("later") == 0
    leases.acquire(ctx, "due", 600)
    world.make_profile("due", expires_in=-60, access=world.fake.live_access_token("due"),
                       refresh=world.fake.live_refresh_token("due"))
    rc, out = world.run_json("refresh", "--expired")
    assert rc == 7 and out["error"]["details"]["leased"] == ["due"] and "due" in out["error"]["message"]


def test_expired_and_soon_select_by_expiry(world):
    _account(world, "expired", expires_in=-60)
    _account(world, "soon", expires_in=600)
    _account(world, "later", expires_in=7200)
    rc, out = world.run_json("refresh", "--expired")
    assert rc == 0
    assert {r["name"]: r["status"] for r in out["data"]} == {
        "expired": "refreshed", "later": "skipped_not_due", "soon": "skipped_not_due"}
    rc, out = world.run_json("refresh", "--soon", "30m", "--jitter", "0.05")
    assert {r["name"]: r["status"] for r in out["data"]} == {
        "expired": "skipped_not_due", "later": "skipped_not_due", "soon": "refreshed"}
    assert out["meta"]["selector"] == "soon" and out["meta"]["soon_s"] == 1800
    assert world.fake.token_posts == 2


def test_out_of_band_rotation_is_adopted_not_auth_dead(world):
    _account(world, "a")

    def someone_else_refreshes(label: str) -> None:
        access, refresh = world.fake.rotate_out_of_band(label)
        world.make_profile("a", access=access, refresh=refresh)

    world.fake.set_token_behaviour("a", TokenBehaviour(before_commit=someone_else_refreshes))
    rc, out = world.run_json("refresh", "a")
    assert rc == 0 and out["data"]["status"] == "already_fresh"
    assert world.credentials("a")["claudeAiOauth"]["refreshToken"] == world.fake.live_refresh_token("a")


def test_rejected_token_still_on_disk_is_auth_dead_and_untouched(world):
    _account(world, "a")
    world.fake.rotate_out_of_band("a")  # the file's refresh token is now spent
    before = _raw(world, "a")
    rc, out = world.run_json("refresh", "a")
    assert rc == 2 and out["error"]["code"] == "AUTH_REQUIRED"
    assert out["error"]["details"]["health"] == "auth_dead"
    assert _raw(world, "a") == before


def _relogin_fix(world, name: str) -> str:
    return (f"sign {name} in again with 'CLAUDE_CONFIG_DIR={world.profiles / name} claude login' "
            f"(or run 'claude login', then 'roost add {name} --force')")


def test_a_rejected_token_names_the_profile_and_its_directory_in_the_fix(world):
    _account(world, "work")
    world.fake.rotate_out_of_band("work")
    fix = _relogin_fix(world, "work")
    proc = world.run("refresh", "work")  # the invalid_grant answer
    assert proc.returncode == 2 and f"Fix: {fix}" in proc.stderr, proc.stderr
    assert "NAME" not in proc.stderr
    rc, out = world.run_json("refresh", "work")  # known dead: not sent again, same fix
    assert rc == 2 and out["error"]["details"]["fix"] == fix and "not sent again" in out["error"]["message"]
    assert fix in out["error"]["message"] and "NAME" not in out["error"]["message"]
    assert world.fake.token_posts_for("work") == 1
    world.make_profile("gone", document={"claudeAiOauth": {"accessToken": "", "refreshToken": "", "expiresAt": 0,
                                                           "scopes": ["user:inference", "user:profile"]}})
    rc, out = world.run_json("refresh", "gone")  # a wiped (logged-out) file
    assert rc == 2 and "logged out: run claude login" in out["error"]["message"]
    assert out["error"]["details"]["fix"] == _relogin_fix(world, "gone") and "NAME" not in out["error"]["message"]


def test_response_lost_after_commit_needs_a_check(world):
    _account(world, "a")
    world.fake.set_token_behaviour("a", TokenBehaviour(drop_after_commit=True))
    before = _raw(world, "a")
    rc, out = world.run_json("refresh", "a")
    assert rc == 8 and out["error"]["details"]["needs_check"] is True
    assert "needs a check" in out["error"]["message"]
    assert _raw(world, "a") == before and world.fake.token_posts == 1


def test_slow_endpoint_ends_by_the_deadline(world):
    import time

    _account(world, "a")
    world.fake.set_token_behaviour("a", TokenBehaviour(delay_s=30))
    before = _raw(world, "a")
    started = time.monotonic()
    proc = world.run("refresh", "a", CLAUDE_LB_REFRESH_DEADLINE="1")
    assert proc.returncode == 8 and time.monotonic() - started < 10  # the endpoint waits 30 s
    assert _raw(world, "a") == before


def test_429_is_rate_limited_and_spends_nothing(world):
    _account(world, "a")
    world.fake.set_token_behaviour("a", TokenBehaviour(status_override=429))
    before = _raw(world, "a")
    rc, out = world.run_json("refresh", "a")
    assert rc == 6 and out["error"]["code"] == "RATE_LIMITED"
    assert _raw(world, "a") == before
    assert out["error"]["details"]["retry_after_s"] > 0


@pytest.mark.parametrize("body", [b"<html>bad gateway</html>",
                                  b'{"access_token": "sk-ant-oat01-x", "expires_in": "abc"}'])  # more: unit tests
def test_invalid_200_writes_nothing(world, body):
    _account(world, "a")
    world.fake.set_token_behaviour("a", TokenBehaviour(status_override=200, body_override=body))
    before = _raw(world, "a")
    proc = world.run("refresh", "a")
    assert proc.returncode == 8 and "Traceback" not in proc.stderr
    assert _raw(world, "a") == before


def test_multi_profile_exit_code_is_the_most_severe(world):
    _account(world, "good")
    _account(world, "dead")
    world.fake.rotate_out_of_band("dead")
    rc, out = world.run_json("refresh", "--all")
    assert rc == 2
    by_name = {r["name"]: r for r in out["data"]}
    assert by_name["good"]["status"] == "refreshed"
    assert by_name["dead"]["status"] == "error" and by_name["dead"]["error"]["code"] == "AUTH_REQUIRED"
    assert out["error"]["code"] == "AUTH_REQUIRED" and out["error"]["details"]["failed"] == ["dead"]


def test_a_leased_profile_does_not_hide_a_more_severe_failure(world):
    _account(world, "dead")
    _account(world, "held")
    world.fake.rotate_out_of_band("dead")
    leases.acquire(RoostContext(env=world.env()), "held", 600)
    rc, out = world.run_json("refresh", "--all")
    assert rc == 2 and out["error"]["code"] == "AUTH_REQUIRED"
    assert out["error"]["details"] == {"leased": ["held"], "failed": ["dead"]}
    assert "held" in out["error"]["message"] and "dead" in out["error"]["message"]


def test_a_setup_token_has_nothing_to_refresh(world):
    """Access token only, no user:profile scope: nothing to refresh; expired, only a new token helps (exit 2)."""
    world.make_profile("setup", document={"claudeAiOauth": {"accessToken": "sk-ant-oat01-setup-token-xxxxxxxx",
                                                            "expiresAt": 1, "scopes": ["user:inference"]}})
    rc, out = world.run_json("refresh", "setup")
    assert rc == 2 and "nothing to refresh" in out["error"]["message"]
    world.make_profile("fresh", document={"claudeAiOauth": {"accessToken": "sk-ant-oat01-setup-token-yyyyyyyy",
                                                            "expiresAt": int(time.time() * 1000) + 86_400_000,
                                                            "scopes": ["user:inference"]}})
    rc, out = world.run_json("refresh", "fresh")
    assert rc == 0 and out["data"]["status"] == "nothing_to_refresh"
    assert world.fake.token_posts == 0


def test_profile_without_refresh_token_is_auth_required(world):
    world.make_profile("plain", document={"claudeAiOauth": {"accessToken": "sk-ant-oat01-plain-token-xxxxxxxx",
                                                            "expiresAt": 1}})
    rc, out = world.run_json("refresh", "plain")
    assert rc == 2 and "no refresh token" in out["error"]["message"]  # a login problem, not bad input
    assert f"CLAUDE_CONFIG_DIR={world.profiles / 'plain'} claude login" in out["error"]["message"]


def test_corrupt_credentials_are_never_rewritten(world):
    world.make_profile("a")
    path = world.profiles / "a" / ".credentials.json"
    path.write_bytes(b'{"claudeAiOauth": {"accessToken": "sk-ant-oat01-x"')
    proc = world.run("refresh", "a")
    assert proc.returncode == 4 and "Traceback" not in proc.stderr
    assert path.read_bytes() == b'{"claudeAiOauth": {"accessToken": "sk-ant-oat01-x"'


def test_redirect_is_not_followed(world):
    _account(world, "a")
    world.fake.set_token_behaviour("a", TokenBehaviour(status_override=307))
    proc = world.run("refresh", "a")
    assert proc.returncode in (8, 9) and world.fake.token_posts == 1


def test_refresh_drops_the_cache_entry(world):
    _account(world, "a")
    _account(world, "b")
    world.config.mkdir(parents=True)
    (world.config / "health.json").write_text(json.dumps({"version": 1, "profiles": {"a": {"health": "auth_expired"},
                                                                                     "b": {"health": "ok"}}}))
    assert world.run("refresh", "a").returncode == 0
    assert set(json.loads((world.config / "health.json").read_text())["profiles"]) == {"b"}
