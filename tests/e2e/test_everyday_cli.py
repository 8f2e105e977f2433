"""What a person sees from the real roost (subprocess output): issue #18 points 5-12."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from roost_plugins.fakeserver import Scenario


def add(world, name: str, scenario: Scenario) -> None:
    world.make_profile(name)
    oauth = world.credentials(name)["claudeAiOauth"]
    world.fake.add_account(name, access_token=oauth["accessToken"], refresh_token=oauth["refreshToken"],
                           usage=scenario)


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
