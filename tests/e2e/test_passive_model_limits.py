"""A passive rejection on one model's weekly window (seven_day_opus / seven_day_sonnet) through the real
``roost``: the profile's health is left alone (it stays pickable), and that model's limit is recorded at
100 % until its reset, so ``pick --model`` skips the profile as a probe's limits[] entry would make it."""

from __future__ import annotations

import json

from test_passive_cli import USAGE, account, exec_claude_stream, status

from roost_plugins.fakeserver.passive_docs import rate_limit_event, stop_failure_event, stream_json


def _exec_stream(world, tmp_path, payload: bytes) -> str:
    """roost exec of a fake ``claude -p --output-format stream-json`` writing ``payload``; the picked name."""
    proc = exec_claude_stream(world, tmp_path, payload)
    assert proc.returncode == 0 and proc.stdout == payload, proc.stderr
    (name,) = json.loads((world.config / "passive.json").read_text())["profiles"]
    return name


def test_stream_rejection_on_the_opus_week_blocks_opus_only(world, tmp_path):
    account(world, "work")
    account(world, "home")
    assert {r["health"] for r in status(world).values()} == {"ok"}
    name = _exec_stream(world, tmp_path, stream_json(rate_limit_event("rejected", "seven_day_opus", 1.0,
                                                                      resets_in=86400)))
    other = ({"work", "home"} - {name}).pop()
    row = status(world)[name]
    assert row["health"] == "ok" and row["error"] is None  # not weekly_limit: other models still work
    assert row["opus_pct"] == 100.0 and [(m["model"], m["pct"]) for m in row["model_limits"]] == [("Opus", 100.0)]
    assert row["model_limits"][0]["resets_at"] and "Opus only" in row["evidence"]
    assert world.fake.count("GET", USAGE) == 2  # no probe spent on the reading
    rc, out = world.run_json("pick", "--model", "opus", "--explain")
    assert rc == 0 and out["data"]["name"] == other, out
    rows = {r["profile"]: r for r in out["data"]["explain"]}
    assert rows[name]["status"] == "excluded" and "Opus weekly limit at 100% (--model opus)" in rows[name]["reason"]
    rc, out = world.run_json("pick", "--avoid", other)  # without --model the Opus week binds nothing
    assert rc == 0 and out["data"]["name"] == name, out
    proc = world.run("pick", "--model", "opus", "--avoid", other)
    assert proc.returncode == 9 and "--model" in proc.stderr  # nothing left once opus is asked for


def test_hook_rate_limit_on_the_sonnet_week_blocks_sonnet_only(world):
    account(world, "work")
    account(world, "home")
    status(world)
    event = stop_failure_event("rate_limit", rate_limit_type="seven_day_sonnet", resets_in=7200)
    assert world.run("hook", input=json.dumps(event), AXIOM_CLAUDE_PROFILE="work").returncode == 0
    row = status(world)["work"]
    assert row["health"] == "ok" and row["sonnet_pct"] == 100.0
    rc, out = world.run_json("pick", "--model", "sonnet")
    assert rc == 0 and out["data"]["name"] == "home", out
    rc, out = world.run_json("pick", "--avoid", "home")
    assert rc == 0 and out["data"]["name"] == "work", out


def test_rejections_on_the_account_windows_still_block_the_profile(world):
    account(world, "work")
    status(world)
    event = stop_failure_event("rate_limit", rate_limit_type="seven_day", resets_in=7200)
    assert world.run("hook", input=json.dumps(event), AXIOM_CLAUDE_PROFILE="work").returncode == 0
    assert status(world)["work"]["health"] == "weekly_limit"
    assert world.run("pick").returncode == 9
