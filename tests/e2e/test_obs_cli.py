"""Observability through the real roost executable, on logs made by real probes and picks
against the fake Anthropic: usage log, report, history, stats, openmetrics, top (plain mode)."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from roost_plugins.fakeserver import Scenario

ROOST = str(Path(sys.executable).parent / "roost")

USAGE_KEYS = {"ts", "profile", "health", "session_pct", "weekly_pct", "sonnet_pct", "opus_pct", "overage_pct",
              "session_resets_at", "weekly_resets_at"}


def add(world, name: str, scenario: Scenario) -> None:
    world.make_account(name, usage=scenario)


def usage_lines(world) -> list[dict]:
    path = world.config / "usage-log.ndjson"
    # json.loads fails on any torn or interleaved line; empty lines (the backend's torn-tail guard) are skipped
    return [json.loads(line) for line in path.read_text().splitlines() if line] if path.exists() else []


def ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def test_usage_log_is_opt_in(world):
    add(world, "a", Scenario.ok(session=5, weekly=10))
    ok(world.run("probe"))
    assert usage_lines(world) == []
    ok(world.run("probe", CLAUDE_LB_USAGE_LOG="yes"))
    assert [r["profile"] for r in usage_lines(world)] == ["a"]


def test_config_usage_log_on_status_off(world):
    rc, body = world.run_json("config", "usage-log", "status")
    assert rc == 0 and body["data"]["enabled"] is False and body["data"]["source"] is None
    proc = ok(world.run("config", "usage-log", "on"))
    assert proc.stdout.strip() == "on" and (world.config / "usage-log.enabled").is_file()
    rc, body = world.run_json("config", "usage-log", "status")
    assert body["data"]["enabled"] is True and body["data"]["source"] == "marker"
    assert ok(world.run("config", "usage-log", "off")).stdout.strip() == "off"
    assert not (world.config / "usage-log.enabled").exists()
    rc, body = world.run_json("config", "usage-log", "status", CLAUDE_LB_USAGE_LOG="1")
    assert body["data"]["source"] == "environment"
    assert world.run("config", "usage-log", "sideways").returncode == 4


def test_report_over_real_probes(world):
    add(world, "max", Scenario.ok(session=10, weekly=20, opus=5, overage=40))
    add(world, "pro", Scenario.forbidden_scope())  # ok, but a Pro plan reports no usage
    ok(world.run("config", "usage-log", "on"))
    for weekly in (20, 30, 40, 50):
        world.fake.set_chain_usage("max", Scenario.ok(session=10, weekly=weekly, opus=5, overage=40))
        ok(world.run("probe"))
    lines = usage_lines(world)
    assert [r["weekly_pct"] for r in lines] == [20.0, 30.0, 40.0, 50.0]
    assert all(set(r) == USAGE_KEYS and r["profile"] == "max" and r["health"] == "ok" for r in lines)
    assert lines[0]["opus_pct"] == 5.0 and lines[0]["overage_pct"] == 40.0
    assert lines[0]["weekly_resets_at"] and lines[0]["session_resets_at"]

    rc, body = world.run_json("report", "--project", "--sparkline")
    assert rc == 0 and body["meta"]["metric"] == "weekly_pct"
    row, pro = body["data"]  # pro has no samples: it still gets its row
    assert (row["profile"], row["samples"], row["min"], row["max"], row["latest"]) == ("max", 4, 20.0, 50.0, 50.0)
    assert (pro["profile"], pro["samples"], pro["min"], pro["latest"]) == ("pro", 0, None, None)
    assert row["avg"] == 35.0 and row["sparkline"] == "▁▃▆█"
    assert row["projection"]["status"] == "projected" and row["projection"]["window_samples"] == 4
    session = world.run_json("report", "--metric", "session_pct", "--project")[1]["data"][0]
    assert session["projection"]["label"] == "—"  # flat at 10 %
    proc = ok(world.run("report", "--sparkline", "--project"))
    for shown in ("Usage report — weekly_pct", "ETA → 100%", "▁▃▆█"):
        assert shown in proc.stderr
    assert re.search(r"│ pro +│ +0 │ no samples │", proc.stderr), proc.stderr
    assert [(r["profile"], r["samples"]) for r in world.run_json("report", "--since", "1h", "--profile", "pro")[1]["data"]] \
        == [("pro", 0)]


def test_concurrent_probing_processes_never_interleave_lines(world):
    names = [f"p{i}" for i in range(4)]
    for name in names:
        add(world, name, Scenario.ok(session=1, weekly=2))
    env = world.env(CLAUDE_LB_USAGE_LOG="1")
    procs = [subprocess.Popen([ROOST, "probe", name], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True) for name in names for _ in range(2)]
    for proc in procs:
        assert proc.wait(timeout=60) == 0, proc.stderr.read()
    lines = usage_lines(world)
    assert sorted(r["profile"] for r in lines) == sorted(names * 2)


def test_many_writers_stress_the_append(world):
    """4 processes x 200 records through the real observer: every line whole, none lost, order kept per writer."""
    script = textwrap.dedent("""
        import sys
        from pathlib import Path
        from roost_core.context import RoostContext
        from roost_core.records import Health, HealthRecord, ProbeOutcome, Profile
        from roost_plugins import usage_log
        ctx, name = RoostContext(), sys.argv[1]
        for i in range(200):
            record = HealthRecord(name, Health.OK, session_pct=1.0, weekly_pct=float(i),
                                  weekly_resets_at="2026-05-07T12:00:00+00:00")
            usage_log.roost_probe_completed(profile=Profile(name, Path("/x")), ctx=ctx, record=record,
                                            outcome=ProbeOutcome(source="anthropic", status=200))
    """)
    env = world.env(CLAUDE_LB_USAGE_LOG="1")
    procs = [subprocess.Popen([sys.executable, "-c", script, f"w{i}"], env=env) for i in range(4)]
    assert all(p.wait(timeout=60) == 0 for p in procs)
    records = usage_lines(world)
    assert len(records) == 4 * 200
    for i in range(4):
        assert [r["weekly_pct"] for r in records if r["profile"] == f"w{i}"] == [float(n) for n in range(200)]


def test_history_and_stats_over_real_picks_and_execs(world):
    add(world, "a", Scenario.ok(session=5, weekly=10))
    add(world, "b", Scenario.ok(session=5, weekly=50))
    for _ in range(3):
        ok(world.run("pick", "--strategy", "least-used"))
    ok(world.run("exec", "--strategy", "least-used", "--", "true"))
    assert world.run("exec", "--strategy", "least-used", "--", "sh", "-c", "exit 3").returncode == 3

    rc, body = world.run_json("history")
    rows = body["data"]
    assert rc == 0 and [r["event"] for r in rows] == ["pick", "pick", "pick", "exec", "exec"]
    assert {r["profile"] for r in rows} == {"a"} and rows[-1]["rc"] == 3 and rows[-2]["rc"] == 0
    assert rows[-1]["duration_s"] is not None and rows[0]["strategy"] == "least-used"
    assert set(rows[0]) == {"ts", "event", "profile", "strategy", "rc", "duration_s", "argv0", "pid", "note",
                            "timestamp", "duration"}
    assert rows[-1]["timestamp"] == rows[-1]["ts"] and rows[-1]["duration"] == rows[-1]["duration_s"]
    assert [r["event"] for r in world.run_json("history", "--tail", "2")[1]["data"]] == ["exec", "exec"]
    assert world.run_json("history", "--profile", "b")[1]["data"] == []
    assert len(world.run_json("history", "--since", "1h")[1]["data"]) == 5
    proc = ok(world.run("history"))
    assert proc.stdout == "" and "History" in proc.stderr

    rc, body = world.run_json("stats")
    data = body["data"]
    assert data["pick"]["total"] == 3 and data["pick"]["by_strategy"] == {"least-used": 3}
    assert data["exec"]["total"] == 2 and data["exec"]["by_rc"] == {"0": 1, "3": 1}
    assert data["exec"]["failures"] == 1 and data["exec"]["failure_rate"] == 0.5
    assert data["exec"]["p50_s"] is not None and data["exec"]["p95_s"] >= data["exec"]["p50_s"]
    assert [p["profile"] for p in data["profiles"]] == ["a"]
    assert world.run_json("stats", "--profile", "b")[1]["data"]["events"] == 0
    assert "picks.log stats" in ok(world.run("stats", "--since", "1d")).stderr


def test_status_openmetrics_parses(world):
    from prometheus_client.openmetrics import parser  # the [test] extra: missing is a broken setup, not a skip
    add(world, "good", Scenario.ok(session=12, weekly=91, opus=30, overage=10))
    add(world, "gone", Scenario.invalid_credentials())
    proc = ok(world.run("status", "--format", "openmetrics", "--no-platform-status"))
    families = {f.name: f for f in parser.text_string_to_metric_families(proc.stdout)}
    health = {(s.labels["profile"], s.labels["health"]): s.value for s in families["roost_profile_health"].samples}
    assert health[("good", "ok")] == 1.0 and health[("gone", "auth_dead")] == 1.0 and health[("gone", "ok")] == 0.0
    weekly = {s.labels["profile"]: s.value for s in families["roost_profile_weekly_percent"].samples}
    assert weekly == {"good": 91.0}
    assert proc.stdout.endswith("# EOF\n")
    assert world.run("status", "--format", "nonsense").returncode == 4
    rc, out = world.run_json("status", "--format", "nonsense")  # a bad value is one in --json mode too
    assert rc == 4 and out["error"]["code"] == "VALIDATION"


def test_top_plain_output_repeats_without_hammering(world):
    add(world, "a", Scenario.ok(session=5, weekly=10))
    add(world, "b", Scenario.ok(session=7, weekly=30))
    world.fake.reset_counters()
    proc = ok(world.run("top", "--interval", "0.5", "-n", "3", "--no-platform-status"))
    assert proc.stdout == ""  # stdout is data only: the table goes to stderr, as status's does
    assert proc.stderr.count("roost top") == 3 and proc.stderr.count("Profile") == 3
    assert "\x1b[" not in proc.stderr  # no escape codes when stderr is not a terminal
    # Three redraws, one probe per profile: the 5-minute ok TTL still applies.
    assert world.fake.count("GET", "/api/oauth/usage") == 2
    proc = ok(world.run("top", "--interval", "0.5", "-n", "2", "--json", "--no-platform-status"))
    frames = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(frames) == 2 and [r["name"] for r in frames[0]["data"]] == ["a", "b"]
    assert world.run("top", "--interval", "0.1").returncode == 4


def test_top_plain_ctrl_c_exits_zero(world):
    add(world, "a", Scenario.ok(session=5, weekly=10))
    proc = subprocess.Popen([ROOST, "top", "--interval", "0.5", "--no-platform-status"], env=world.env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stderr.readline()
        assert "roost top" in first
        time.sleep(0.7)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "interrupted" not in err
