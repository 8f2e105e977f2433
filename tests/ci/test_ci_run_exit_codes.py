""".ci/run fails when pytest cannot collect a module (exit 2) or runs no test (exit 5).

The script runs in a copy of the repository's skeleton with every installer
stubbed: the system tools it looks for are on PATH, ``python3 -m venv`` and
``pip`` do nothing, and ``.venv/bin/python -m pytest`` is this interpreter's
pytest, run with the repository's own pytest configuration.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ("tmux", "zsh", "fish", "faketime", "redis-server", "redis-sentinel", "npm")


def skeleton(tmp_path: Path, tests: dict[str, str]) -> tuple[Path, dict[str, str]]:
    repo = tmp_path / "repo"
    (repo / ".ci").mkdir(parents=True)
    shutil.copy2(ROOT / ".ci" / "run", repo / ".ci" / "run")
    shutil.copy2(ROOT / "pyproject.toml", repo / "pyproject.toml")
    (repo / "tests").mkdir()
    for name, source in tests.items():
        (repo / "tests" / name).write_text(source)
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    for tool in TOOLS:
        (stubs / tool).write_text("#!/bin/sh\nexit 0\n")
    (stubs / "python3").write_text("#!/bin/sh\nexit 0\n")  # python3 -m venv .venv
    venv_bin = repo / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "python").write_text(
        f'#!/bin/sh\n[ "$2" = pip ] && exit 0\nexec {sys.executable} "$@"\n')
    for script in [*stubs.iterdir(), venv_bin / "python"]:
        script.chmod(0o755)
    env = {**os.environ, "PATH": f"{stubs}:/usr/bin:/bin", "ROOST_TEST_WORKERS": "1"}  # one xdist worker: enough
    return repo, env


def run_ci(tmp_path: Path, tests: dict[str, str]) -> subprocess.CompletedProcess[str]:
    repo, env = skeleton(tmp_path, tests)
    return subprocess.run([str(repo / ".ci" / "run")], cwd=repo, env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("tests,expected", [
    ({"test_ok.py": "def test_ok():\n    pass\n"}, 0),
    ({"test_ok.py": "def test_ok():\n    pass\n", "test_broken.py": "import roost_no_such_module\n"}, 2),
    ({"test_nothing.py": "# no tests here\n"}, 5),
])
def test_ci_run_passes_pytest_failures_through(tmp_path, tests, expected):
    proc = run_ci(tmp_path, tests)
    assert proc.returncode == expected, proc.stdout + proc.stderr


def test_nothing_swallows_collection_errors():
    commands = [line for line in (ROOT / ".ci" / "run").read_text().splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    assert not any("continue-on-collection-errors" in line for line in commands)
    assert "continue-on-collection-errors" not in (ROOT / "pyproject.toml").read_text()
    runs = [line for line in commands if "-m pytest" in line]
    assert all("||" not in line for line in runs)
    assert runs[-1].startswith("exec ")  # the test run's status is the script's (collection: the cases above)
