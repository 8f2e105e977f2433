"""Today's wire through the real roost against the fake Anthropic: limits[], --model, token_expired,
invalid_grant reasons, CLAUDE_SECURESTORAGE_CONFIG_DIR."""

from __future__ import annotations

import json
import sys
import time

import pytest

from roost_plugins.fakeserver import Scenario, TokenBehaviour

PY = sys.executable


def account(world, name: str, usage: Scenario, **kw) -> None:
    world.make_account(name, usage=usage, **kw)


def by_name(data) -> dict:
    return {r["name"]: r for r in (data["profiles"] if isinstance(data, dict) else data)}


def test_limits_only_and_mixed_bodies_fill_the_record(world):
    account(world, "lo", Scenario.limits_only(session=37, weekly=62, models={"Fable": 100, "Sonnet": 40},
                                              active="Fable"))
    account(world, "mx", Scenario.mixed(session=11, weekly=9, models={"Opus": 30}, flat_weekly=55))
    rc, out = world.run_json("status")
    assert rc == 0, out
    rows = by_name(out["data"])
    lo, mx = rows["lo"], rows["mx"]
    assert lo["health"] == "ok" and (lo["session_pct"], lo["weekly_pct"], lo["sonnet_pct"]) == (37, 62, 40)
    assert lo["opus_pct"] is None
    assert [(m["model"], m["pct"], m["active"]) for m in lo["model_limits"]] == [("Fable", 100, True),
                                                                                 ("Sonnet", 40, False)]
    assert set(lo["model_limits"][0]) == {"model", "id", "pct", "resets_at", "active"}
    assert (lo["model_limits"][0]["model"], lo["model_limits"][0]["id"]) == ("Fable", "claude-fable")
    assert lo["binding_limit"]["kind"] == "weekly_scoped" and lo["binding_limit"]["model"] == "Fable"
    # Mixed: limits[] wins over a disagreeing flat key; Opus comes from the list only.
    assert (mx["weekly_pct"], mx["opus_pct"], mx["binding_limit"]) == (9, 30, None)
    proc = world.run("show", "lo")
    assert proc.returncode == 0, proc.stderr
    assert "Binding limit" in proc.stderr and "Fable" in proc.stderr


def test_pick_model_skips_a_full_model_and_warns_on_an_unknown_one(world):
    account(world, "a", Scenario.limits_only(session=5, weekly=5, models={"Fable": 100}, active="Fable"))
    account(world, "b", Scenario.limits_only(session=50, weekly=50, models={"Fable": 20}))
    rc, out = world.run_json("pick", "--model", "fable", "--explain")
    assert rc == 0 and out["data"]["name"] == "b", out
    rows = {r["profile"]: r for r in out["data"]["explain"]}
    assert rows["a"]["status"] == "excluded" and "Fable weekly limit at 100%" in rows["a"]["reason"]
    assert "binding limit: weekly_scoped (Fable) 100%" in rows["a"]["reason"]
    rc, out = world.run_json("pick", "--stickiness", "0")
    assert rc == 0 and out["data"]["name"] == "a"  # without --model the scoped limit binds nothing
    proc = world.run("pick", "--model", "gpt", "--stickiness", "0")
    assert proc.returncode == 0 and proc.stdout.strip() == "a"
    assert "--model gpt: no profile reports a limit for this model (models seen: claude-fable, Fable)" in proc.stderr
    proc = world.run("exec", "--model", "fable", "--", PY, "-c", "import os; print(os.environ['AXIOM_CLAUDE_PROFILE'])")
    assert proc.returncode == 0 and proc.stdout.strip() == "b", proc.stderr


def _opus_45(percent: float) -> dict:
    """A weekly_scoped limits[] entry for one Opus model, named by id and display name."""
    return {"kind": "weekly_scoped", "group": "weekly", "percent": percent, "resets_at": int(time.time()) + 86400,
            "scope": {"model": {"id": "claude-opus-4.5", "display_name": "Claude Opus 4.5"}}, "is_active": True}


def test_pick_model_matches_a_limits_entry_by_its_id(world):
    """--model with the model's id (scope.model.id) skips the profile whose limit for it is spent."""
    account(world, "op", Scenario.ok(session=5, weekly=5, limits=[_opus_45(100)]))
    account(world, "spare", Scenario.ok(session=50, weekly=50))
    for name in ("claude-opus-4.5", "CLAUDE-OPUS-4.5", "Claude Opus 4.5", "opus"):
        proc = world.run("pick", "--model", name, "--stickiness", "0")
        assert proc.returncode == 0 and proc.stdout.strip() == "spare", (name, proc.stdout, proc.stderr)
        assert "no profile reports a limit" not in proc.stderr, proc.stderr
    rc, out = world.run_json("pick", "--model", "claude-opus-4.5", "--explain", "--stickiness", "0")
    rows = {r["profile"]: r for r in out["data"]["explain"]}
    assert rows["op"]["status"] == "excluded" and "Claude Opus 4.5 weekly limit at 100%" in rows["op"]["reason"]
    rc, out = world.run_json("status")
    (limit,) = by_name(out["data"])["op"]["model_limits"]
    assert (limit["model"], limit["id"], limit["pct"]) == ("Claude Opus 4.5", "claude-opus-4.5", 100)
    proc = world.run("pick", "--model", "gpt", "--stickiness", "0")
    assert proc.returncode == 0 and proc.stdout.strip() == "op"
    assert "(models seen: Claude Opus 4.5, claude-opus-4.5, opus)" in proc.stderr, proc.stderr


def test_pick_model_full_name_matches_the_flat_family_window(world):
    """The flat seven_day_opus at 100 % binds --model "Claude Opus 4.5" as it binds --model opus."""
    account(world, "flat", Scenario.ok(session=5, weekly=5, opus=100))
    account(world, "spare", Scenario.ok(session=50, weekly=50))
    for name in ("opus", "Claude Opus 4.5", "claude-opus-4-5"):
        proc = world.run("pick", "--model", name, "--stickiness", "0")
        assert proc.returncode == 0 and proc.stdout.strip() == "spare", (name, proc.stderr)
    proc = world.run("pick", "--model", "Claude Sonnet 4.5", "--stickiness", "0")
    assert proc.returncode == 0 and proc.stdout.strip() == "flat", proc.stderr


def test_401_token_expired_is_auth_expired_and_refresh_cures_it(world):
    account(world, "skew", Scenario.token_expired())
    rc, out = world.run_json("probe", "skew")
    assert by_name(out["data"])["skew"]["health"] == "auth_expired", out
    world.fake.set_chain_usage("skew", Scenario.ok())
    proc = world.run("refresh", "skew")
    assert proc.returncode == 0, proc.stderr
    rc, out = world.run_json("probe", "skew")
    assert by_name(out["data"])["skew"]["health"] == "ok"


def _rejected_as_expired(world, name: str, answer: Scenario) -> None:
    """A token the server calls expired (a 401) while its expiresAt is hours ahead."""
    account(world, name, Scenario.ok())
    world.fake.set_usage(world.credentials(name)["claudeAiOauth"]["accessToken"], answer)
    rc, out = world.run_json("probe", name)
    assert by_name(out["data"])[name]["health"] == "auth_expired", out


@pytest.mark.parametrize("answer", [Scenario.token_expired()], ids=["error_code"])  # error.details.error_code
@pytest.mark.parametrize("how", [("refresh", "--expired"), ("pick", "--auto-refresh"),
                                 ("exec", "--auto-refresh", "--", "true")])
def test_the_hint_for_a_server_expired_token_refreshes_it(world, how, answer):
    """pick's hint ("run 'roost refresh --expired' (or pick --auto-refresh)") works for a token the
    server rejected as expired, not only for one past its expiresAt."""
    _rejected_as_expired(world, "skew", answer)
    proc = world.run("pick")
    assert proc.returncode == 2 and "refresh --expired" in proc.stderr
    posts = world.fake.token_posts
    proc = world.run(*how)
    assert proc.returncode == 0, proc.stderr
    assert world.fake.token_posts == posts + 1
    rc, out = world.run_json("probe", "skew")
    assert by_name(out["data"])["skew"]["health"] == "ok"
    assert world.run("refresh", "--expired").stdout.split("\t")[1] == "skipped_not_due"  # cured: not due again


@pytest.mark.parametrize("kind, words", [("invalid", "not found or invalid"), ("expired", "idle too long")])
def test_invalid_grant_reasons_shown_by_refresh(world, kind, words):
    account(world, "d", Scenario.ok())
    world.fake.set_token_behaviour("d", TokenBehaviour(grant_error=kind))
    world.fake.rotate_out_of_band("d")  # the stored refresh token is now dead
    rc, out = world.run_json("refresh", "d")
    assert rc == 2, out
    assert words in out["error"]["message"] and "claude login" in out["error"]["message"]
    assert out["error"]["details"]["grant_reason"] == f"refresh_token_{kind}"
    proc = world.run("refresh", "d")
    assert "Traceback" not in proc.stderr and words in proc.stderr


def test_exec_sets_the_secure_storage_dir_with_the_config_dir(world):
    account(world, "solo", Scenario.ok())
    script = "import os; print(os.environ.get('CLAUDE_CONFIG_DIR'), os.environ.get('CLAUDE_SECURESTORAGE_CONFIG_DIR'))"
    proc = world.run("exec", "--", PY, "-c", script, CLAUDE_SECURESTORAGE_CONFIG_DIR="/other/account")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [str(world.profiles / "solo")] * 2
    proc = world.run("exec", "--no-config-dir", "--", PY, "-c", script,
                     CLAUDE_SECURESTORAGE_CONFIG_DIR="/other/account", CLAUDE_CONFIG_DIR="/mine")
    assert proc.returncode == 0 and proc.stdout.split() == ["/mine", "None"], proc.stderr
    rc, out = world.run_json("exec", "--dry-run", "--json", "--", "claude")
    assert out["data"]["env"]["CLAUDE_SECURESTORAGE_CONFIG_DIR"] == str(world.profiles / "solo")
    proc = world.run("exec", "--dry-run", "--no-config-dir", "--", "claude", CLAUDE_SECURESTORAGE_CONFIG_DIR="/x")
    assert proc.stdout.startswith("env -u CLAUDE_SECURESTORAGE_CONFIG_DIR "), proc.stdout


def test_doctor_warns_when_the_secure_storage_dir_is_set(world):
    account(world, "solo", Scenario.ok())
    rc, out = world.run_json("doctor", "--skip-network", CLAUDE_SECURESTORAGE_CONFIG_DIR="/other/account")
    rows = {r["name"]: r for r in out["data"]}
    assert rows["secure-storage-env"]["level"] == "warn" and "/other/account" in rows["secure-storage-env"]["message"]
    rc, out = world.run_json("doctor", "--skip-network")
    assert {r["name"]: r for r in out["data"]}["secure-storage-env"]["level"] == "ok"


def test_a_rejected_refresh_token_names_the_profile_everywhere(world):
    """status, show and trace give the dead token's fix with the real profile and its directory,
    as refresh does, never a literal NAME; the records hold no token."""
    account(world, "d", Scenario.ok(), expires_in=-60)
    world.fake.set_token_behaviour("d", TokenBehaviour(grant_error="invalid"))
    world.fake.rotate_out_of_band("d")
    rc, out = world.run_json("refresh", "d")
    assert rc == 2 and "roost add d --force" in out["error"]["message"], out
    directory = str(world.profiles / "d")
    stored = world.credentials("d")["claudeAiOauth"]
    texts = []
    rc, out = world.run_json("status")
    texts.append(by_name(out["data"])["d"]["error"])
    rc, out = world.run_json("show", "d")
    texts += [out["data"]["error"], *out["data"]["reasons"]]
    rc, out = world.run_json("trace", "d")
    texts.append(out["data"]["classification"]["reasons"][0])
    for text in texts:
        assert "not found or invalid" in text and "roost add d --force" in text and directory in text, text
        assert "NAME" not in text, text
        assert stored["refreshToken"][-8:] not in text and stored["accessToken"][-8:] not in text
    for argv in (("status",), ("show", "d"), ("trace", "d")):
        proc = world.run(*argv)
        assert "NAME" not in proc.stdout + proc.stderr, (argv, proc.stderr)
