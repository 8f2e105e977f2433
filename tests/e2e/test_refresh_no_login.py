"""A credentials file with no claude login (only ``mcpOAuth``, or ``claudeAiOauth`` null or ``{}``)
through the real ``roost``: logged out, as status says (``auth_dead``), so ``refresh`` exits 2
AUTH_REQUIRED with the profile's sign-in fix, never 4 VALIDATION (it is not bad input); multi-profile
runs list it as a per-profile auth failure; pick/exec pass it over. Nothing is POSTed or written.
A file that is not JSON at all stays VALIDATION (docs/refresh.md step 1)."""

from __future__ import annotations

import json
import os

import pytest

NO_LOGIN = [
    pytest.param({"mcpOAuth": {}}, id="mcp-only"),
    pytest.param({"mcpOAuth": {"srv": {"accessToken": "x"}}, "claudeAiOauth": None}, id="oauth-null"),
    pytest.param({"claudeAiOauth": {}}, id="oauth-empty"),
]


def _no_login(world, name: str, document: dict) -> bytes:
    path = world.make_profile(name, document=document)
    return path.read_bytes()


def _posts(world) -> int:
    return sum(r["path"] == "/v1/oauth/token" for r in world.fake.requests)


def _assert_sign_in_fix(world, name: str, error: dict) -> None:
    login = f"CLAUDE_CONFIG_DIR={world.profiles / name} claude login"
    fix = error["details"]["fix"]
    assert login in fix and f"roost add {name} --force" in fix, error
    assert error["details"]["profile"] == name and error["details"]["health"] == "auth_dead", error
    assert f"Fix: {fix}" in error["message"] and "claudeAiOauth" in error["message"], error


@pytest.mark.parametrize("document", NO_LOGIN)
def test_refresh_of_a_profile_with_no_login_is_auth_required(world, document):
    before = _no_login(world, "mcponly", document)
    rc, out = world.run_json("refresh", "mcponly")
    assert rc == 2 and out["error"]["code"] == "AUTH_REQUIRED", out
    _assert_sign_in_fix(world, "mcponly", out["error"])
    # status calls the same file auth_dead: the two agree it is a logged-out account
    rc, status = world.run_json("status")
    assert [r["health"] for r in status["data"] if r["name"] == "mcponly"] == ["auth_dead"]
    proc = world.run("refresh", "mcponly")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"CLAUDE_CONFIG_DIR={world.profiles / 'mcponly'} claude login" in proc.stderr, proc.stderr
    assert _posts(world) == 0
    assert (world.profiles / "mcponly" / ".credentials.json").read_bytes() == before  # never rewritten
    assert sorted(os.listdir(world.profiles / "mcponly")) == [".credentials.json"]  # no lock, no pending file
    assert sorted(os.listdir(world.profiles)) == ["mcponly"]


def test_the_no_refresh_token_refusal_carries_its_fix_in_details_too(world):
    world.make_profile("plain", document={"claudeAiOauth": {"accessToken": "sk-ant-oat01-plain-token-xxxxxxxx",
                                                            "refreshToken": "", "expiresAt": 1}})
    rc, out = world.run_json("refresh", "plain")
    assert rc == 2 and out["error"]["details"]["reason"] == "no_refresh_token"
    assert out["error"]["details"]["fix"] in out["error"]["message"]
    assert f"CLAUDE_CONFIG_DIR={world.profiles / 'plain'} claude login" in out["error"]["details"]["fix"]


@pytest.mark.parametrize("selector", [("--all",), ("--expired",), ("--soon", "1h")])
@pytest.mark.parametrize("document", NO_LOGIN)
def test_multi_profile_runs_list_it_as_an_auth_failure(world, selector, document):
    world.make_account("a", expires_in=-60)  # due under every selector
    before = _no_login(world, "mcponly", document)
    rc, out = world.run_json("refresh", *selector)
    assert rc == 2 and out["meta"]["exit_code"] == 2, out
    assert out["error"]["code"] == "AUTH_REQUIRED" and out["error"]["details"]["failed"] == ["mcponly"], out
    rows = {r["name"]: r for r in out["data"]}
    assert rows["a"]["status"] == "refreshed"  # the run carried on with the other profiles
    row = rows["mcponly"]
    assert row["status"] == "error" and row["error"]["code"] == "AUTH_REQUIRED" and row["error"]["exit_code"] == 2
    _assert_sign_in_fix(world, "mcponly", row["error"])
    assert _posts(world) == 1  # a's only
    assert (world.profiles / "mcponly" / ".credentials.json").read_bytes() == before
    assert sorted(os.listdir(world.profiles / "mcponly")) == [".credentials.json"]
    proc = world.run("refresh", *selector)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.rstrip().endswith("roost: error: failed: mcponly (AUTH_REQUIRED)"), proc.stderr


@pytest.mark.parametrize("document", NO_LOGIN)
def test_pick_and_exec_pass_over_it(world, document):
    world.make_account("a", expires_in=-60)  # auth_expired: --auto-refresh renews it
    before = _no_login(world, "mcponly", document)
    rc, out = world.run_json("pick", "--auto-refresh")
    assert rc == 0 and out["data"]["name"] == "a", out
    assert _posts(world) == 1
    for argv in (("exec", "--auto-refresh"), ("exec",)):
        proc = world.run(*argv, "--", "sh", "-c", 'echo "$AXIOM_CLAUDE_PROFILE"')
        assert proc.returncode == 0 and proc.stdout == "a\n", proc.stderr
        assert "Traceback" not in proc.stderr
    assert _posts(world) == 1
    assert (world.profiles / "mcponly" / ".credentials.json").read_bytes() == before


@pytest.mark.parametrize("document", NO_LOGIN)
def test_pick_and_exec_with_only_logged_out_profiles_say_sign_in(world, document):
    before = _no_login(world, "mcponly", document)
    for argv in (("pick", "--auto-refresh", "--json"), ("exec", "--auto-refresh", "--json", "--", "true"),
                 ("exec", "--json", "--", "true")):
        proc = world.run(*argv)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, (argv, proc.stdout, proc.stderr)
        error = json.loads(proc.stdout)["error"]
        assert error["code"] == "AUTH_REQUIRED" and error["details"]["profiles"] == {"mcponly": "auth_dead"}
        assert f"CLAUDE_CONFIG_DIR={world.profiles / 'mcponly'} claude login" in error["message"], error
    assert _posts(world) == 0
    assert (world.profiles / "mcponly" / ".credentials.json").read_bytes() == before


def test_a_file_that_is_not_json_stays_validation(world):
    """Damaged, not logged out: VALIDATION 4 (docs/refresh.md step 1, README's exit codes), never rewritten;
    in a multi-profile run it is that profile's failure, and a logged-out one beside it is the run's code."""
    world.make_profile("bad").write_bytes(b"not json {")
    rc, out = world.run_json("refresh", "bad")
    assert rc == 4 and out["error"]["code"] == "VALIDATION" and "not valid JSON" in out["error"]["message"], out
    _no_login(world, "mcponly", {"mcpOAuth": {}})
    rc, out = world.run_json("refresh", "--all")
    rows = {r["name"]: r for r in out["data"]}
    assert rows["bad"]["error"]["code"] == "VALIDATION" and rows["mcponly"]["error"]["code"] == "AUTH_REQUIRED"
    assert rc == 2 and out["error"]["details"]["failed"] == ["bad", "mcponly"], out  # 2 outranks 4
    assert (world.profiles / "bad" / ".credentials.json").read_bytes() == b"not json {"
    assert _posts(world) == 0
