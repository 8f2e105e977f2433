"""``roost demo`` through the real executable: every step works and nothing escapes its temp dir."""

from __future__ import annotations

import json
import os
import re

from roostkit import ROOST

TOKEN = re.compile(r"sk-ant-o[ar]t01-demo-[A-Za-z0-9_-]{8,}")


def test_demo_json_runs_every_step_against_the_scripted_fleet(roost_env, tmp_path):
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()
    # The outer environment points at a dead endpoint and another tree: the demo must ignore both.
    proc = roost_env.run("demo", "--json", TMPDIR=str(tmpdir), CLAUDE_LB_PROBE_BUDGET="1", timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout)
    assert out["meta"] == {"ok": True, "steps": 8, "failed": 0}
    steps = out["data"]["steps"]
    assert [s["command"] for s in steps] == [
        "roost status", "roost pick --explain", "roost exec --dry-run -- claude --help", "roost refresh max-expired",
        "roost probe", "roost probe", "roost probe", "roost report --sparkline"]
    assert all(s["ok"] and s["rc"] == 0 and s["output"] is not None for s in steps)

    status = {row["name"]: row for row in steps[0]["output"]["data"]}
    assert {name: row["health"] for name, row in status.items()} == {
        "max-overage": "ok", "max-busy": "ok", "max-weekly": "weekly_limit", "max-expired": "auth_expired",
        "max-dead": "auth_dead", "pro": "ok"}
    assert status["max-overage"]["overage_pct"] == 35.0 and status["max-busy"]["session_pct"] == 93.0
    assert status["pro"]["weekly_pct"] is None and status["pro"]["plan"] == "pro"
    assert steps[1]["output"]["data"]["name"] == "max-overage"
    assert steps[2]["output"]["data"]["env"]["AXIOM_CLAUDE_PROFILE"] == "max-overage"
    last_probe = {row["name"]: row["health"] for row in steps[6]["output"]["data"]}
    assert last_probe["max-expired"] == "ok"  # the refresh worked
    report = {row["profile"]: row for row in steps[7]["output"]["data"]}
    assert report["max-overage"]["samples"] >= 3 and report["max-overage"]["max"] > report["max-overage"]["min"]

    assert "$ roost status" in proc.stderr and "$ roost report --sparkline" in proc.stderr
    assert not TOKEN.search(proc.stdout + proc.stderr)
    # Nothing outside its own temporary directory: HOME, the outer tree and config, TMPDIR all untouched.
    assert list(roost_env.home.iterdir()) == []
    assert not roost_env.profiles.exists() and not roost_env.config.exists()
    assert list(tmpdir.iterdir()) == []


def test_demo_is_listed_and_has_help(roost_env):
    proc = roost_env.run("--help")
    assert "demo" in proc.stdout + proc.stderr
    proc = roost_env.run("demo", "--help")
    assert proc.returncode == 0 and "fake Anthropic" in proc.stdout
    assert os.path.exists(ROOST)
