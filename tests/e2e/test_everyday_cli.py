"""What a person sees from the real roost (subprocess output): issue #18 points 5-12."""

from __future__ import annotations

import json
import re
import sys

from roost_plugins.fakeserver import Scenario


def add(world, name: str, scenario: Scenario) -> None:
    world.make_account(name, usage=scenario)


def test_report_shows_a_no_samples_row_for_a_profile_without_samples(world):
    add(world, "busy", Scenario.ok(weekly=30))
    add(world, "idle", Scenario.ok(weekly=10))
    assert world.run("config", "usage-log", "on").returncode == 0
    assert world.run("probe", "busy").returncode == 0
    proc = world.run("report")
    assert proc.returncode == 0, proc.stderr
    idle = next(line for line in proc.stderr.splitlines() if " idle " in line)
    assert "no samples" in idle
    rows = {r["profile"]: r["samples"] for r in world.run_json("report")[1]["data"]}
    assert rows == {"busy": 1, "idle": 0}


def test_png_plot_advice_is_for_the_interpreter_running_roost(world, tmp_path):
    add(world, "a", Scenario.ok())
    blocked = tmp_path / "no-pillow"
    (blocked / "PIL").mkdir(parents=True)
    (blocked / "PIL" / "__init__.py").write_text("raise ImportError('Pillow is not installed')\n")
    proc = world.run("report", "--plot", str(tmp_path / "chart.png"), PYTHONPATH=str(blocked))
    assert proc.returncode == 4, proc.stderr
    # The test venv is a pip-installed interpreter: the advice installs into exactly it.
    assert f"{sys.executable} -m pip install 'pillow>=10.1'" in proc.stderr, proc.stderr
    assert "pip install 'roost[plot]'" not in proc.stderr


def test_exec_dry_run_says_plainly_it_did_not_probe_and_what_the_real_run_would(world):
    add(world, "alpha", Scenario.ok(weekly=90))
    add(world, "beta", Scenario.ok(weekly=10))
    proc = world.run("exec", "--dry-run", "--strategy", "least-used", "--", "claude")
    assert proc.returncode == 0, proc.stderr
    assert "nothing was probed; the real run would first probe alpha, beta" in proc.stderr
    assert world.fake.count("GET", "/api/oauth/usage") == 0  # contact nothing
    rc, out = world.run_json("exec", "--dry-run", "--json", "--", "claude")
    assert out["data"]["probed"] is False and out["data"]["would_probe"] == ["alpha", "beta"]
    # Once the cache is warm, the dry run is exactly the real run's pick, and says nothing more.
    assert world.run("status", "--no-platform-status").returncode == 0
    proc = world.run("exec", "--dry-run", "--strategy", "least-used", "--", "claude")
    assert "nothing was probed" not in proc.stderr and proc.stdout.startswith("AXIOM_CLAUDE_PROFILE=beta ")
    real = world.run("exec", "--strategy", "least-used", "--", "sh", "-c", 'echo "$AXIOM_CLAUDE_PROFILE"')
    assert real.stdout == "beta\n"


def test_exec_help_has_no_count_and_count_is_a_usage_error(world):
    proc = world.run("exec", "--help")
    assert proc.returncode == 0 and "--count" not in proc.stdout and "-n," not in proc.stdout
    assert "--count" in world.run("pick", "--help").stdout
    assert world.run("exec", "--count", "2", "--", "true").returncode == 4


def test_a_one_off_exec_avoid_keeps_the_sticky_profile(world):
    add(world, "alpha", Scenario.ok(weekly=10))
    add(world, "beta", Scenario.ok(weekly=50))
    assert world.run("pick").stdout == "alpha\n"  # sticky: least used first, then kept
    proc = world.run("exec", "--avoid", "alpha", "--", "sh", "-c", 'echo "$AXIOM_CLAUDE_PROFILE"')
    assert proc.returncode == 0 and proc.stdout == "beta\n"
    assert json.loads((world.config / "last-pick.json").read_text())["name"] == "alpha"
    assert world.run("pick").stdout == "alpha\n"  # not beta for the next 5 minutes


def test_stats_labels_unattributed_events_none_and_keeps_them_out_of_profile_rates(world):
    add(world, "alpha", Scenario.ok())
    assert world.run("exec", "--", "sh", "-c", "exit 3").returncode == 3  # alpha: 1 exec, 1 failure
    assert world.run("exec", "--", "no-such-command-xyz").returncode == 127  # never started: no profile
    assert world.run("pick", "--avoid", "alpha").returncode != 0  # found nothing: no profile
    proc = world.run("stats")
    assert proc.returncode == 0, proc.stderr
    none_row = next(line for line in proc.stderr.splitlines() if "(none)" in line)
    assert re.search(r"\(none\)\s*│\s*1\s*│\s*1\s*│", none_row), none_row
    assert not re.search(r"│\s+│\s*\d", proc.stderr)  # no row with an empty profile name
    data = world.run_json("stats")[1]["data"]
    assert "" not in data["pick"]["by_profile"] and "" not in data["exec"]["by_profile"]
    assert data["exec"]["by_profile"] == {"alpha": 1}
    rows = {r.get("label") or r["profile"]: r for r in data["profiles"]}
    assert [r.get("label") or r["profile"] for r in data["profiles"]] == ["alpha", "(none)"]
    assert rows["(none)"]["profile"] is None
    assert rows["alpha"]["failure_rate"] == 1.0 and rows["(none)"]["failure_rate"] is None
    assert data["exec"]["total"] == 2  # the totals still count every event


def test_auth_dead_hint_is_a_login_never_refresh_expired(world):
    add(world, "dead", Scenario.invalid_credentials())
    proc = world.run("pick")
    assert proc.returncode == 2, proc.stderr
    assert f"CLAUDE_CONFIG_DIR={world.profiles / 'dead'} claude login" in proc.stderr
    assert "roost add dead --force" in proc.stderr and "refresh --expired" not in proc.stderr


def test_missing_refresh_token_is_auth_required_with_the_login_hint(world):
    world.make_profile("plain", document={"claudeAiOauth": {"accessToken": "sk-ant-oat01-plain-token-xxxxxxxx",
                                                            "expiresAt": 1}})
    proc = world.run("refresh", "plain")
    assert proc.returncode == 2
    assert f"CLAUDE_CONFIG_DIR={world.profiles / 'plain'} claude login" in proc.stderr
    assert "roost add plain --force" in proc.stderr


def test_refresh_and_doctor_in_a_pipe_print_the_data_lines_only(world):
    add(world, "alpha", Scenario.ok())
    proc = world.run("refresh", "alpha")
    assert proc.returncode == 0, proc.stderr
    assert re.fullmatch(r"alpha\trefreshed\t\S+\n", proc.stdout) and "alpha: refreshed" not in proc.stderr
    proc = world.run("doctor", "--skip-network")
    assert re.fullmatch(r"\d+ ok, \d+ warn, \d+ fail, \d+ skipped\n", proc.stdout), proc.stdout
    assert not re.search(r"\d+ ok, \d+ warn", proc.stderr), proc.stderr  # the table does not repeat it
    assert "Network checks skipped (--skip-network)" in proc.stderr


def test_a_network_error_row_says_why_and_when_it_is_retried(world):
    add(world, "flaky", Scenario.drop())
    proc = world.run("status", "--no-platform-status")
    row = next(line for line in proc.stderr.splitlines() if "flaky" in line)
    assert "network_error" in row
    match = re.search(r"│ ([^│]*?) · retry in (\d+)s", row)
    assert match, row
    record = world.run_json("status", "--no-platform-status")[1]["data"][0]
    assert record["error"] == "network error: protocol" and match.group(1).strip() == "protocol"  # the why
