""".ci/apt-install as CI sees it: the log keeps apt's output, a failure shows its tail, one retry."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INSTALLER = ROOT / ".ci" / "apt-install"


def fake_apt(tmp_path: Path, fail_times: int) -> dict[str, str]:
    """An apt-get on PATH that fails its first ``fail_times`` installs, with a reason."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    counter = tmp_path / "count"
    counter.write_text("0")
    script = bin_dir / "apt-get"
    script.write_text(f"""#!/usr/bin/env bash
[ "$1" = update ] && {{ echo "Hit:1 fake stable InRelease"; exit 0; }}
n=$(cat {counter}); echo $((n+1)) > {counter}
if [ "$n" -lt {fail_times} ]; then
  echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt-get)" >&2
  exit 100
fi
echo "Setting up $3 ..."
""")
    script.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "CI_APT_RETRY_DELAY": "0"}


def run(tmp_path: Path, fail_times: int) -> tuple[subprocess.CompletedProcess[str], str]:
    log = tmp_path / "apt.log"
    proc = subprocess.run([str(INSTALLER), str(log), "zsh", "fish"], env=fake_apt(tmp_path, fail_times),
                          capture_output=True, text=True, timeout=30)
    return proc, log.read_text()


def test_success_is_quiet_and_logged(tmp_path: Path) -> None:
    proc, log = run(tmp_path, fail_times=0)
    assert proc.returncode == 0
    assert proc.stderr == ""
    assert "Setting up" in log and "Hit:1" in log


def test_a_failure_shows_why_and_is_retried_once(tmp_path: Path) -> None:
    proc, log = run(tmp_path, fail_times=1)
    assert proc.returncode == 0
    assert "Could not get lock" in proc.stderr  # the tail of the log, not a bare "could not install"
    assert "(try 1)" in proc.stderr
    assert log.count("== apt-get install zsh fish") == 2


def test_two_failures_give_up_with_the_reason(tmp_path: Path) -> None:
    proc, log = run(tmp_path, fail_times=2)
    assert proc.returncode == 1
    assert proc.stderr.count("Could not get lock") >= 2
    assert "tests needing zsh fish will skip" in proc.stderr
