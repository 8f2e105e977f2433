"""Fixtures of the scale-out suite: a real redis-server and a unit-level RedisBackend factory.

Test modules import them (``from fleetkit.fixtures import *``) instead of a
conftest.py here: a second ``conftest`` module would shadow tests/conftest.py
for the suites that ``from conftest import ...``. ``needs_redis`` skips a
module cleanly when ``redis-server`` is missing.
"""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from .redisserver import REDIS_SERVER, RedisServer


def _missing() -> str:
    """Why the suite cannot run here: only a missing external tool skips. roost-redis ships in
    this repository, so a missing plugin is a failure (the tests import it), never a skip."""
    return "" if REDIS_SERVER is not None else "redis-server is not installed (apt-get install redis-server)"


MISSING = _missing()
needs_redis = pytest.mark.skipif(bool(MISSING), reason=MISSING or "ok")


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path / "redis").start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def key_file(tmp_path) -> Path:
    from roost_redis.crypto import write_key_file

    path = tmp_path / "fleet.key"
    write_key_file(path)
    return path


class BackendMaker:
    """Builds RedisBackend instances as separate "machines" (own config and profiles dirs)."""

    def __init__(self, root: Path, server: RedisServer, key_file: Path):
        self.root = root
        self.server = server
        self.key_file = key_file
        self.made = []

    def settings(self, **overrides):
        from roost_redis.settings import RedisSettings

        values = dict(url=self.server.url, key_file=self.key_file, timeout=0.5, connect_timeout=0.5, retries=0,
                      lock_ttl=3.0, intent_ttl=30.0, restore_hold=0.0)
        values.update(overrides)
        return RedisSettings(**values)

    def machine(self, label: str = "a", now=time.time, **overrides):
        from roost_core.paths import Paths
        from roost_redis.backend import RedisBackend

        base = self.root / f"machine-{label}"
        (base / "profiles").mkdir(parents=True, exist_ok=True)
        warnings: list[str] = []
        paths = Paths(base / "config", base / "profiles", None)
        backend = RedisBackend(self.settings(**overrides), base / "config", paths, warnings.append, now)
        backend.warnings = warnings  # type: ignore[attr-defined]
        backend.ctx = SimpleNamespace(state=backend, now=now, warn=warnings.append)  # type: ignore[attr-defined]
        backend.base = base  # type: ignore[attr-defined]
        self.made.append(backend)
        return backend

    def close(self):
        for backend in self.made:
            try:
                backend.close()
            except Exception:
                pass


@pytest.fixture
def machines(tmp_path, redis_server, key_file):
    maker = BackendMaker(tmp_path, redis_server, key_file)
    try:
        yield maker
    finally:
        maker.close()


@pytest.fixture
def fleet(tmp_path, redis_server, key_file, fake):
    """Two machines (``fleet.a``, ``fleet.b``) on one store, against the fake Anthropic."""
    from .machines import Fleet

    world = Fleet(tmp_path / "fleet", redis_server.url, key_file, fake)
    world.a, world.b = world.add("a"), world.add("b")  # type: ignore[attr-defined]
    world.redis = redis_server  # type: ignore[attr-defined]
    return world


def _sentinel_missing() -> str:
    from .sentinel import REDIS_SENTINEL

    if MISSING:
        return MISSING
    if REDIS_SENTINEL is None:
        return "redis-sentinel is not installed (apt-get install redis-sentinel)"
    import subprocess

    try:
        subprocess.run([REDIS_SENTINEL, "--version"], capture_output=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"redis-sentinel cannot run here ({exc})"
    return ""


SENTINEL_MISSING = _sentinel_missing()
needs_sentinel = pytest.mark.skipif(bool(SENTINEL_MISSING), reason=SENTINEL_MISSING or "ok")


@pytest.fixture
def sentinel_cluster(tmp_path):
    """A primary, a replica and three Sentinels on 127.0.0.1 (fleetkit.sentinel)."""
    from .sentinel import SentinelCluster

    cluster = SentinelCluster(tmp_path / "cluster").start()
    try:
        yield cluster
    finally:
        cluster.stop()
