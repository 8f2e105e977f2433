"""Fixtures of the reliability suite (docs/RELIABILITY.md).

``rel`` is a RelWorld: an isolated roost world (tests/conftest.py roost_env)
wired to the reliability fake token server. After each test it asserts the
standing invariants (no traceback in any roost output, every owned file
parses, 0600/0700 modes, no canary slice anywhere) unless the test turned a
check off for a reason; the canary totals of the whole run are printed in
the terminal summary (G10).
"""

from __future__ import annotations

import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from relkit.fts import ReliabilityFake  # noqa: E402
from relkit.world import RelWorld  # noqa: E402


@dataclass
class SuiteTotals:
    tests: int = 0
    texts: int = 0
    files: int = 0
    hits: int = 0
    seconds: float = 0.0
    cpu: float = 0.0  # CPU seconds of this process and its children during reliability tests
    per_test: dict[str, tuple[float, float]] = field(default_factory=dict)  # nodeid -> (wall, cpu)


_TOTALS_KEY = pytest.StashKey[SuiteTotals]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_TOTALS_KEY] = SuiteTotals()


@pytest.fixture
def fts():
    with ReliabilityFake() as server:
        yield server


@pytest.fixture
def rel(request: pytest.FixtureRequest, roost_env, fts) -> RelWorld:
    roost_env.extra.update(fts.env())
    world = RelWorld(roost_env, fts)
    started, cpu_started = time.monotonic(), _cpu()
    yield world
    totals = request.config.stash[_TOTALS_KEY]
    wall, cpu = time.monotonic() - started, _cpu() - cpu_started
    totals.per_test[request.node.nodeid] = (wall, cpu)
    totals.cpu += cpu
    try:
        world.check(**world.checks)
    finally:
        totals.tests += 1
        totals.texts += world.scanner.scanned_texts
        totals.files += world.scanner.scanned_files
        totals.hits += len(world.scanner.hits)
        totals.seconds += wall


def _cpu() -> float:
    """CPU seconds used by this process and its reaped children (the roost subprocesses)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    totals = config.stash.get(_TOTALS_KEY, None)
    if totals and totals.tests:
        terminalreporter.write_line(
            f"G10 (whole reliability run): canary hits={totals.hits} in {totals.texts} outputs and "
            f"{totals.files} files across {totals.tests} tests")
        terminalreporter.write_line(
            f"G14: reliability tests took {totals.seconds:.1f}s wall and {totals.cpu:.1f} CPU-s "
            f"(~{totals.cpu / 2:.1f}s on an idle 2-core box); heaviest:")
        heaviest = sorted(totals.per_test.items(), key=lambda kv: -kv[1][1])[:8]
        for nodeid, (wall, cpu) in heaviest:
            terminalreporter.write_line(f"    {cpu:6.1f} CPU-s {wall:6.1f}s wall  {nodeid}")
