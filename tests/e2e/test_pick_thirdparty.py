"""The reset-aware example, pip-installed from its own package, works like a built-in strategy."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from roostkit import canary, make_plugin_venv

from roost_plugins.fakeserver import Scenario

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "roost-strategy-reset-aware"


def test_reset_aware_package_is_usable_listed_and_completed(world, tmp_path):
    source = tmp_path / "src-copy"  # pip builds in place: keep build/ and *.egg-info out of the repo
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    python = make_plugin_venv(tmp_path, source)
    # a: last 2 % of weekly reopens in 30 min; b: 30 % left all week. least-used says b, reset-aware says a.
    for name, scenario in {"a": Scenario.ok(session=30, session_resets_at=7200, weekly=98, weekly_resets_at=1800),
                           "b": Scenario.ok(session=0, weekly=70, weekly_resets_at=6 * 86400)}.items():
        world.make_profile(name)
        world.fake.add_account(name, access_token=canary("access", name), refresh_token=canary("refresh", name),
                               usage=scenario)

    def run(*args: str, **env: str) -> subprocess.CompletedProcess:
        proc = subprocess.run([str(python), "-m", "roost_core", *args], env=world.env(**env),
                              capture_output=True, text=True, timeout=60)
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc

    proc = run("pick", "--strategy", "reset-aware", "--json", "--explain")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)["data"]
    assert (data["name"], data["strategy"]) == ("a", "reset-aware")
    assert data["rationale"].startswith("reset-aware: most headroom over the next 5h")
    assert [(row["profile"], row["score"]) for row in data["explain"]] == [("a", 88.0), ("b", 30.0)]
    assert run("which", "--strategy", "least-used", "--stickiness", "0").stdout == "b\n"

    help_text = run("pick", "--help").stdout
    assert "reset-aware" in help_text and "Most headroom over the next few hours" in help_text

    completion = run(_ROOST_COMPLETE="bash_complete", COMP_WORDS="roost pick --strategy ", COMP_CWORD="3")
    offered = {line.split(",", 1)[1] for line in completion.stdout.splitlines()}
    assert {"reset-aware", "sticky", "least-used", "lowest-overage"} <= offered

    proc = run("pick", "--strategy", "no-such", "--json")
    assert proc.returncode == 4 and "reset-aware" in json.loads(proc.stdout)["error"]["details"]["available"]

    world.config.mkdir(parents=True, exist_ok=True)
    (world.config / "config.toml").write_text('[plugins.reset-aware]\nhorizon = "never"\n')
    proc = run("which", "--strategy", "reset-aware")
    assert proc.returncode == 4 and "horizon" in proc.stderr
