"""The files backend's optional log members: ``log_stats`` and ``truncate_log``, and usage_log over them."""

from __future__ import annotations

import io
import json
import os

import pytest

from roost_core.context import RoostContext
from roost_core.errors import RoostError
from roost_core.output import Output
from roost_plugins import usage_log




def test_stats_of_a_missing_log_are_zero_and_create_nothing(backend):
    stats = backend.log_stats("usage-log.ndjson")
    assert stats == {"location": str(backend.config_dir / "usage-log.ndjson"), "records": 0, "bytes": 0,
                     "backend": "files", "degraded": False}
    assert not backend.config_dir.exists()


def test_stats_count_lines_and_bytes(backend):
    for i in range(3):
        backend.append_line("usage-log.ndjson", json.dumps({"i": i}))
    size = (backend.config_dir / "usage-log.ndjson").stat().st_size
    stats = backend.log_stats("usage-log.ndjson")
    assert (stats["records"], stats["bytes"]) == (3, size) and size > 0


def test_truncate_empties_in_place_and_returns_bytes(backend):
    backend.append_line("usage-log.ndjson", "x" * 10)
    path = backend.config_dir / "usage-log.ndjson"
    inode = path.stat().st_ino
    assert backend.truncate_log("usage-log.ndjson") == 11
    assert path.read_bytes() == b"" and path.stat().st_ino == inode  # same file: appenders stay safe
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    backend.append_line("usage-log.ndjson", "after")
    assert list(backend.iter_lines("usage-log.ndjson")) == ["after\n"]
    assert backend.truncate_log("missing.log") == 0 and not (backend.config_dir / "missing.log").exists()


def test_truncate_never_follows_a_symlink(backend, tmp_path):
    target = tmp_path / "precious"
    target.write_text("keep me\n")
    backend.config_dir.mkdir()
    os.symlink(target, backend.config_dir / "usage-log.ndjson")
    with pytest.raises(RoostError, match="cannot truncate"):
        backend.truncate_log("usage-log.ndjson")
    assert target.read_text() == "keep me\n"


def test_stats_of_an_unreadable_log_warn(backend):
    (backend.config_dir / "usage-log.ndjson").mkdir(parents=True)
    stats = backend.log_stats("usage-log.ndjson")
    assert stats["records"] == 0 and backend.warnings and "unreadable" in backend.warnings[0]


def _ctx(roost_env) -> RoostContext:
    return RoostContext(env=roost_env.env(), out=Output(stdout=io.StringIO(), stderr=io.StringIO()))


def test_usage_log_status_and_truncate_go_through_the_backend(roost_env):
    ctx = _ctx(roost_env)
    ctx.state.append_line(usage_log.USAGE_LOG, '{"ts":"t","profile":"a"}')
    data = usage_log._status_data(ctx)
    assert data["path"] == str(roost_env.config / usage_log.USAGE_LOG)
    assert (data["records"], data["backend"], data["degraded"]) == (1, "files", False)
    assert data["bytes"] == (roost_env.config / usage_log.USAGE_LOG).stat().st_size
    assert {"enabled", "source", "marker", "environment", "config", "marker_path"} <= set(data)
    assert usage_log.truncate(ctx) == data["bytes"]
    assert usage_log._status_data(ctx)["records"] == 0


class _OldBackend:
    """A third-party backend with only the required log members (no log_stats, truncate_log)."""

    name = "old"

    def __init__(self, config_dir):
        self.config_dir = config_dir

    def iter_lines(self, log):
        yield from (self.config_dir / log).read_text().splitlines()


def test_a_backend_without_the_optional_members_gets_the_documented_defaults(roost_env):
    # The state backend's optional members are no longer looked up with getattr (falling back to the
    # config dir's file): a backend that does not subclass StateBackendBase gets its defaults grafted
    # on when opened (roost_core.backend.adopt): log_stats counts iter_lines, truncate_log is UNAVAILABLE.
    from roost_core.backend import adopt
    from roost_core.errors import ExitCode

    ctx = _ctx(roost_env)
    roost_env.config.mkdir(parents=True, exist_ok=True)
    (roost_env.config / usage_log.USAGE_LOG).write_text('{"a":1}\n{"a":2}\n')
    ctx.__dict__["state"] = adopt(_OldBackend(roost_env.config))
    data = usage_log._status_data(ctx)
    assert (data["records"], data["bytes"], data["backend"], data["degraded"]) == (2, None, "old", False)
    assert data["path"] == f"old:{usage_log.USAGE_LOG}"
    with pytest.raises(RoostError) as info:
        usage_log.truncate(ctx)
    assert info.value.exit_code == ExitCode.UNAVAILABLE and "old" in info.value.message
    assert (roost_env.config / usage_log.USAGE_LOG).read_bytes() == b'{"a":1}\n{"a":2}\n'  # nothing dropped


def test_status_text_when_the_size_is_unknown():
    data = {"enabled": True, "source": "environment", "marker_path": "m", "path": "redis://h:1/0 k (stream)",
            "records": None, "reason": "state backend 'redis' is unavailable"}
    assert "unknown" in usage_log._describe(data) and "unavailable" in usage_log._describe(data)
