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


# -- never the real macOS keychain (docs/platforms.md) --------------------------------

REAL_SECURITY = "/usr/bin/security"
FAKES = Path(__file__).parent / "fakes"


@pytest.fixture(autouse=True)
def guard_real_security(request, tmp_path_factory, monkeypatch):
    """Fail any test that would run the real ``/usr/bin/security``.

    In this process, starting it raises; a child process (the real roost) that
    was not given ``CLAUDE_LB_SECURITY_BIN`` gets a tripwire in its place,
    whose call is recorded and fails the test at teardown.
    """
    import os
    import subprocess

    if request.node.get_closest_marker("macos"):
        yield  # a live Mac run (pytest -m macos) talks to the real keychain on purpose
        return
    tripwire = tmp_path_factory.mktemp("security-guard") / "calls"
    monkeypatch.setenv("ROOST_TEST_SECURITY_TRIPWIRE", str(tripwire))
    base = subprocess.Popen

    class GuardedPopen(base):  # type: ignore[misc, valid-type]
        def __init__(self, args, *rest, **kwargs):
            argv = [args] if isinstance(args, (str, bytes, os.PathLike)) else list(args)
            if argv and os.fspath(argv[0]) == REAL_SECURITY or kwargs.get("executable") == REAL_SECURITY:
                tripwire.open("a").write(f"in-process: {argv[:2]}\n")
                raise AssertionError(f"a test ran the real {REAL_SECURITY}")
            env = kwargs.get("env")
            if env is not None and "CLAUDE_LB_SECURITY_BIN" not in env:
                kwargs["env"] = {**env, "CLAUDE_LB_SECURITY_BIN": str(FAKES / "security-tripwire")}
            super().__init__(args, *rest, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", GuardedPopen)
    yield
    if tripwire.exists():
        pytest.fail(f"the real {REAL_SECURITY} was called: {tripwire.read_text()[:500]}")
