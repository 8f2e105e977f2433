"""What a person sees in a real terminal (tmux): progress on slow probes, top's first frame and its
row budget, the status table's width. Issue #18 points 1-3."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
import time
from pathlib import Path

import pytest

from roost_plugins.fakeserver import Scenario
from test_obs_top_tmux import Tmux  # the tmux helpers of roost top's terminal test

ROOST = str(Path(sys.executable).parent / "roost")
PROGRESS = re.compile(r"probing (\d+)/(\d+)")

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)")


@pytest.fixture
def tmux():
    server = Tmux()
    yield server
    server("kill-server")


def add_profiles(world, count: int, *, delay: float = 0.0, weekly=lambda i: 10 + i % 80) -> list[str]:
    names = [f"acct-{i:02d}" for i in range(count)]
    for i, name in enumerate(names):
        world.make_profile(name)
        oauth = world.credentials(name)["claudeAiOauth"]
        scenario = Scenario.ok(session=5, weekly=weekly(i))
        world.fake.add_account(name, access_token=oauth["accessToken"], refresh_token=oauth["refreshToken"],
                               usage=scenario.with_delay(delay) if delay else scenario)
    return names


def start(world, tmux, tmp_path, command: str, *, width: int = 120, height: int = 40, **env_extra: str) -> None:
    env = {k: v for k, v in world.env().items() if k not in ("COLUMNS", "LINES")}
    env.update(TERM="xterm-256color", **env_extra)
    script = tmp_path / "run.sh"
    exports = "\n".join(f"export {k}={shlex.quote(v)}" for k, v in env.items())
    # The tmux server hands on the environment it started with: the pane's own size must win.
    script.write_text(f"#!/bin/bash\nunset COLUMNS LINES\n{exports}\n{shlex.quote(ROOST)} {command}\n"
                      'echo "EXIT=$?"\nexec sleep 120\n')
    os.chmod(script, 0o755)
    tmux("new-session", "-d", "-s", "top", "-x", str(width), "-y", str(height), str(script))
    tmux("set-option", "-t", "top", "remain-on-exit", "on")


def full_screen(tmux) -> str:
    """The pane with its scrollback (a 50-row table scrolls past the visible screen)."""
    return tmux("capture-pane", "-p", "-J", "-S", "-300", "-t", "top")


def test_status_shows_probing_progress_on_a_terminal_and_erases_it(world, tmux, tmp_path):
    add_profiles(world, 50, delay=1.0)
    start(world, tmux, tmp_path, "status --no-platform-status")
    seen = tmux.wait_for(lambda s: PROGRESS.search(s), "the progress line", timeout=20)
    done, total = map(int, PROGRESS.search(seen).groups())
    assert total == 50 and done < 50
    tmux.wait_for(lambda s: "EXIT=" in s, "status to finish", timeout=60)
    after = full_screen(tmux)
    assert "EXIT=0" in after and "50 profiles: 50 ok" in after
    assert not PROGRESS.search(after), "the progress line was left on the screen"


def test_progress_keeps_its_text_without_colour_under_no_color(world, tmux, tmp_path):
    add_profiles(world, 20, delay=1.0)
    start(world, tmux, tmp_path, "probe", NO_COLOR="1")
    tmux.wait_for(lambda s: PROGRESS.search(s), "the progress line", timeout=20)
    coloured = tmux("capture-pane", "-p", "-e", "-t", "top")
    line = next(l for l in coloured.splitlines() if PROGRESS.search(l))
    assert not re.search(r"\x1b\[[0-9;]*3[0-9]m|\x1b\[[0-9;]*38;", line), repr(line)
    assert re.search("[━─]{24}", line), repr(line)  # the bar too, its track drawn in characters


def test_no_progress_in_a_pipe_or_for_json(world):
    add_profiles(world, 20, delay=0.5)
    for args in (("status", "--no-platform-status"), ("probe", "--json")):
        proc = world.run(*args, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert "probing" not in proc.stderr and "\r" not in proc.stderr



def test_pick_and_exec_show_progress_before_the_child_starts(world, tmux, tmp_path):
    add_profiles(world, 40, delay=1.0)
    marker = tmp_path / "child-ran"
    start(world, tmux, tmp_path, f"exec -- sh -c 'echo CHILD-STARTED; touch {shlex.quote(str(marker))}'")
    seen = tmux.wait_for(lambda s: PROGRESS.search(s), "exec's progress line", timeout=20)
    assert "CHILD-STARTED" not in seen and not marker.exists()
    after = tmux.wait_for(lambda s: "EXIT=" in s, "exec to finish", timeout=60)
    assert "EXIT=0" in after and "CHILD-STARTED" in after and not PROGRESS.search(after)


def test_pick_shows_progress(world, tmux, tmp_path):
    add_profiles(world, 40, delay=1.0)
    start(world, tmux, tmp_path, "pick --strategy least-used")
    tmux.wait_for(lambda s: PROGRESS.search(s), "pick's progress line", timeout=20)
    after = tmux.wait_for(lambda s: "EXIT=" in s, "pick to finish", timeout=60)
    assert "EXIT=0" in after and "acct-00" in after and not PROGRESS.search(after)


def test_status_table_fits_80_columns_and_never_wraps_a_row(world, tmux, tmp_path):
    add_profiles(world, 50)
    start(world, tmux, tmp_path, "status --no-platform-status", width=80, height=60)
    tmux.wait_for(lambda s: "EXIT=" in s, "status to finish", timeout=60)
    screen = full_screen(tmux)
    rows = [line for line in screen.splitlines() if line.startswith("acct-")]
    assert len(rows) == 50, screen  # one line per profile: nothing wrapped onto a second line
    assert all(len(line.rstrip()) <= 80 for line in screen.splitlines())
    header = next(line for line in screen.splitlines() if line.startswith("Profile"))
    assert header.split() == ["Profile", "Health", "5h", "7d", "Resets", "5h", "/", "7d", "Source"]
    # One reset format: hours and minutes, days and hours ("2h 10m", "3d 4h").
    assert all(re.search(r"\b\d+h \d+m / \d+d \d+h\b", row) for row in rows), rows[:3]


def test_top_draws_at_once_from_the_cache_then_fills_rows_as_probes_land(world, tmux, tmp_path):
    add_profiles(world, 6, delay=3.0)
    started = time.monotonic()
    start(world, tmux, tmp_path, "top --interval 30 --no-platform-status")
    first = tmux.wait_for(lambda s: "probing 0/6" in s and "acct-05" in s, "the first frame", timeout=10)
    assert time.monotonic() - started < 2.5, "the first frame waited for the probes"
    assert "6 profiles: 6 unknown" in first  # nothing cached yet: the rows are there, waiting
    filled = tmux.wait_for(lambda s: "6 profiles: 6 ok" in s, "the probed rows", timeout=30)
    assert "probing" not in filled and filled.count(" ok ") >= 6


def test_top_keeps_header_and_summary_and_shows_the_unhealthy_first(world, tmux, tmp_path):
    # acct-45..49 are at their weekly limit: the most relevant rows, though last in name order.
    add_profiles(world, 50, weekly=lambda i: 100 if i >= 45 else 20)
    assert world.run("status", "--no-platform-status").returncode == 0  # warm the cache
    start(world, tmux, tmp_path, "top --interval 30 --no-platform-status", width=100, height=30)
    screen = tmux.wait_for(lambda s: "more" in s and "50 profiles" in s, "a fitted frame", timeout=20)
    lines = screen.rstrip("\n").splitlines()
    assert lines[0].startswith("roost top")
    assert any(line.startswith("50 profiles: 45 ok, 5 weekly_limit") for line in lines)
    shown = [m.group(0) for m in (re.search(r"acct-\d\d", line) for line in lines) if m]
    more = next(line for line in lines if line.startswith("… "))
    assert more.startswith(f"… {50 - len(shown)} more")
    assert len(lines) <= 30 and len(shown) >= 15
    assert shown[:5] == [f"acct-{i}" for i in range(45, 50)], screen


def test_refresh_in_a_terminal_prints_one_sentence_per_profile(world, tmux, tmp_path):
    add_profiles(world, 2)
    start(world, tmux, tmp_path, "refresh --all")
    screen = tmux.wait_for(lambda s: "EXIT=" in s, "refresh to finish", timeout=30)
    assert "EXIT=0" in screen
    for name in ("acct-00", "acct-01"):
        assert screen.count(name) == 1, screen  # the sentence only, not also the data line
        assert f"{name}: refreshed" in screen
    assert "\trefreshed" not in screen and " refreshed 20" not in screen


def test_doctor_in_a_terminal_prints_its_summary_once(world, tmux, tmp_path):
    add_profiles(world, 1)
    start(world, tmux, tmp_path, "doctor --skip-network")
    screen = tmux.wait_for(lambda s: "EXIT=" in s, "doctor to finish", timeout=30)
    summaries = re.findall(r"\d+ ok, \d+ warn, \d+ fail, \d+ skipped", screen)
    assert len(summaries) == 1, screen
