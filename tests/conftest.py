"""Shared fixtures: an isolated roost environment, profiles, the real executable, the fake server.

Every test gets its own HOME, profiles tree and config dir; nothing touches
the user's real files or the internet. Plain helpers live in ``roostkit``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from roostkit import (ROOST, FakeClock, RoostEnv, canary, make_dist_on_path,  # noqa: F401  (re-exported)
                      make_plugin_venv)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Byte-compile the project's sources once, before any roost subprocess starts.

    An editable install leaves them uncompiled, and with PYTHONDONTWRITEBYTECODE
    (set on the CI box) every one of the suite's thousands of roost processes
    would compile them again: a tenth of a second each.
    """
    import compileall

    root = Path(__file__).resolve().parents[1]
    for tree in ("roost_core", "roost_plugins", "plugins/roost-redis/src"):
        if (root / tree).is_dir():
            compileall.compile_dir(str(root / tree), quiet=2)


@pytest.fixture
def roost_env(tmp_path: Path) -> RoostEnv:
    world = RoostEnv(tmp_path)
    world.home.mkdir()
    return world


@pytest.fixture
def fake():
    """A running fake Anthropic on 127.0.0.1 (usage, token and status endpoints)."""
    from roost_plugins.fakeserver import FakeAnthropic

    with FakeAnthropic() as server:
        yield server


@pytest.fixture
def world(roost_env: RoostEnv, fake) -> RoostEnv:
    """roost_env pointed at the fake server."""
    roost_env.extra.update(fake.env())
    roost_env.fake = fake  # type: ignore[attr-defined]
    return roost_env


@pytest.fixture
def health_ctx(roost_env):
    """``make(**env) -> RoostContext`` over roost_env (API at https://api.test), one shared FakeClock.

    Several contexts over one config dir behave like several roost processes.
    ``make.clock`` moves time; ``make.stderr(ctx)`` reads what a context said.
    """
    import io

    from roost_core.context import RoostContext
    from roost_core.output import Output

    clock = FakeClock()

    def make(**overrides: str) -> RoostContext:
        endpoints = {"CLAUDE_LB_API_BASE": "https://api.test",
                     "CLAUDE_LB_STATUS_URL": "https://status.test/api/v2/summary.json"}
        env = roost_env.env(**{**endpoints, **overrides})
        return RoostContext(env=env, out=Output(stdout=io.StringIO(), stderr=io.StringIO()), clock=clock)

    make.clock = clock  # type: ignore[attr-defined]
    make.stderr = lambda ctx: ctx.out.stderr.getvalue()  # type: ignore[attr-defined]
    return make
