"""A usage-endpoint 429 through the real roost: next probe at retry-after + 5-15 %, nothing probes before it
(probe, trace and probe --raw included) unless --force, the last good reading served stale."""

from __future__ import annotations

import time
from datetime import datetime

from roost_plugins.fakeserver import Scenario


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def usage_calls(world) -> int:
    return world.fake.count("GET", "/api/oauth/usage")


def blocked_world(world):
    world.make_profile("p")
    oauth = world.credentials("p")["claudeAiOauth"]
    world.fake.add_account("p", access_token=oauth["accessToken"], refresh_token=oauth["refreshToken"],
                           usage=Scenario.ok(session=12, weekly=34))
    assert world.run_json("probe", "p")[0] == 0
    world.fake.set_chain_usage("p", Scenario.rate_limited("3600"))
    started = time.time()
    rc, out = world.run_json("probe", "p")
    return started, out["data"][0]


def test_a_one_hour_429_schedules_the_next_probe_3_to_9_minutes_after_the_deadline(world):
    started, record = blocked_world(world)
    assert record["health"] == "rate_limited" and record["retry_after_s"] == 3600
    assert record["stale"] is True and (record["session_pct"], record["weekly_pct"]) == (12, 34)
    delay = epoch(record["next_probe_at"]) - started
    assert 3600 + 180 - 2 <= delay <= 3600 + 540 + 2, delay
    calls = usage_calls(world)
    # Nothing probes before it: status, pick, probe (with a warning), trace, probe --raw.
    rc, out = world.run_json("status")
    assert out["data"][0]["next_probe_at"] == record["next_probe_at"]
    proc = world.run("probe", "p")
    assert "next probe at" in proc.stderr and "--force" in proc.stderr, proc.stderr
    rc, out = world.run_json("probe", "p")
    assert out["data"][0]["health"] == "rate_limited" and out["data"][0]["next_probe_at"] == record["next_probe_at"]
    rc, out = world.run_json("trace", "p")
    assert out["data"]["request"] is None and "429" in out["data"]["classification"]["reasons"][0]
    rc, out = world.run_json("probe", "p", "--raw")
    assert out["data"][0]["error"] == "rate_limited" and out["data"][0]["next_probe_at"] == record["next_probe_at"]
    rc, out = world.run_json("pick")
    assert rc == 6 and out["error"]["details"]["earliest_recovery_at"][:19] == record["next_probe_at"][:19], out
    rc, out = world.run_json("show", "p")
    assert out["data"]["next_probe_at"] == record["next_probe_at"]
    proc = world.run("show", "p")
    assert "Next probe" in proc.stderr
    # --no-cache ignores the cache and the budget, not the server's wait: served held, with a warning.
    for argv in (("status", "--no-cache"), ("status", "--refresh"), ("pick", "--no-cache")):
        proc = world.run(*argv)
        assert "next probe at" in proc.stderr and "--force" in proc.stderr, (argv, proc.stderr)
    rc, out = world.run_json("status", "--no-cache")
    assert out["data"][0]["health"] == "rate_limited" and out["data"][0]["next_probe_at"] == record["next_probe_at"]
    assert usage_calls(world) == calls
    # --force overrides (trace --force too).
    world.fake.set_chain_usage("p", Scenario.ok(session=13, weekly=35))
    rc, out = world.run_json("probe", "p", "--raw", "--force")
    assert out["data"][0]["status"] == 200 and usage_calls(world) == calls + 1
    calls += 1
    rc, out = world.run_json("trace", "p", "--force")
    assert out["data"]["response"]["status"] == 200 and usage_calls(world) == calls + 1
    calls += 1
    rc, out = world.run_json("probe", "p", "--force")
    assert usage_calls(world) == calls + 1 and out["data"][0]["health"] == "ok"
    assert out["data"][0]["next_probe_at"] is None
    # The endpoint answered again: the block is lifted, a plain probe asks.
    assert world.run_json("probe", "p")[0] == 0 and usage_calls(world) == calls + 2


def test_the_block_outlives_a_refresh_of_the_token(world):
    started, record = blocked_world(world)
    calls = usage_calls(world)
    assert world.run("refresh", "p").returncode == 0  # new credentials: the cache entry is dropped
    rc, out = world.run_json("status")
    assert out["data"][0]["health"] == "rate_limited" and out["data"][0]["next_probe_at"] == record["next_probe_at"]
    assert usage_calls(world) == calls  # the 429 is keyed to the account, not to the token


def test_after_invalidate_the_held_record_keeps_the_429s_evidence_and_trace_says_why(world):
    """invalidate --all drops the entry, not the hold: status/show/trace still carry the 429's
    retry_after_s and checked_at, and trace says plainly that it made no request and why."""
    started, record = blocked_world(world)
    calls = usage_calls(world)
    assert world.run("invalidate", "--all").returncode == 0
    rc, status = world.run_json("status")
    rc, show = world.run_json("show", "p")
    rc, offline = world.run_json("show", "p", "--offline")  # the cache-only read sees the hold too
    for served in (status["data"][0], show["data"], offline["data"]):
        assert served["health"] == "rate_limited" and served["source"] == "cache"
        assert served["retry_after_s"] == 3600 and served["next_probe_at"] == record["next_probe_at"]
        assert served["checked_at"] == served["observed_at"] == record["checked_at"]
        assert served["valid_until"] == record["next_probe_at"]
    rc, trace = world.run_json("trace", "p")
    data = trace["data"]
    assert data["request"] is None and data["classification"]["retry_after_s"] == 3600
    assert data["note"] == (f"no request was made: the usage endpoint asked roost to wait until "
                            f"{record['next_probe_at']} (429); --force probes anyway")
    assert data["evidence"]["decided_by"] == "cache" and "freshest" not in data["evidence"]["why"]
    proc = world.run("trace", "p")
    assert "asked roost to wait until" in proc.stderr and "verdict is local" not in proc.stderr, proc.stderr
    assert usage_calls(world) == calls
