"""The progress display's timing rules and the hot path (issue #18 point 1)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from roost_core.progress import StderrProgress
from roost_plugins.fakeserver import Scenario

ROOST = str(Path(sys.executable).parent / "roost")


class FakeRenderer:
    def __init__(self) -> None:
        self.shown: list[dict] = []
        self.updates: list[dict] = []
        self.stopped = 0

    def render(self, view, state, meta, ctx):
        assert view == "progress"
        self.shown.append(dict(state))
        return self

    def update(self, state):
        self.updates.append(dict(state))

    def stop(self):
        self.stopped += 1


def test_a_batch_under_300ms_shows_nothing():
    renderer = FakeRenderer()
    progress = StderrProgress(None, renderer)
    progress.begin(3)
    for name in "abc":
        progress.landed(name, None)
    progress.end()
    time.sleep(0.4)  # the timer was cancelled: it never fires
    assert renderer.shown == [] and renderer.stopped == 0


def test_a_slow_batch_shows_counts_then_stops():
    renderer = FakeRenderer()
    progress = StderrProgress(None, renderer, delay_s=0.05)
    progress.begin(3)
    progress.landed("a", None)
    time.sleep(0.2)
    progress.landed("b", None)
    progress.end()
    assert renderer.shown == [{"label": "probing", "total": 3, "done": 1}]
    assert renderer.updates == [{"label": "probing", "total": 3, "done": 2}] and renderer.stopped == 1


def _imported(world, *args: str) -> str:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "roost_core", *args], env=world.env(),
                          capture_output=True, text=True, timeout=60, cwd=str(world.root))
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stderr


def test_pick_in_a_pipe_draws_no_progress_and_warm_pick_loads_none(world):
    for name in ("a", "b"):
        world.make_account(name, usage=Scenario.ok())
    # Probes both, but stderr is a pipe: no progress display is looked up or drawn. (httpx itself
    # imports rich for its own CLI whenever a probe runs; that is not roost's display.)
    cold = _imported(world, "pick")
    assert "roost_core.probe.fanout" in cold and "roost_plugins.rich_render" not in cold
    warm = _imported(world, "pick")  # nothing to probe: neither the progress module nor rich
    assert "roost_core.progress" not in warm and "rich" not in warm
