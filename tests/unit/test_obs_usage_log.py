"""The usage-log observer, called directly and through the plugin host."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from roost_core.context import RoostContext
from roost_core.output import Output
from roost_core.plugins import PluginHost
from roost_core.records import Health, HealthRecord, ProbeOutcome, Profile
from roost_plugins import usage_log

T0 = 1_777_896_000.0  # 2026-05-04T12:00:00Z


@pytest.fixture
def make_ctx(roost_env):
    def build(**env: str) -> RoostContext:
        out = Output(stdout=io.StringIO(), stderr=io.StringIO())
        return RoostContext(env=roost_env.env(**env), out=out, clock=lambda: T0)
    return build


def probe_result(name: str = "a", health: Health = Health.OK, status: int | None = 200,
                 error: str | None = None, weekly: float | None = 42.0):
    profile = Profile(name, Path("/nonexistent") / name)
    outcome = ProbeOutcome(source="anthropic", status=status, error=error)
    record = HealthRecord(name, health, plan="max", session_pct=12.0, weekly_pct=weekly, sonnet_pct=3.0,
                          opus_pct=None, overage_pct=50.0, session_resets_at="2026-05-04T14:00:00+00:00",
                          weekly_resets_at="2026-05-07T12:00:00+00:00")
    return profile, outcome, record


def observe(ctx: RoostContext, *args) -> None:
    profile, outcome, record = args or probe_result()
    usage_log.roost_probe_completed(profile=profile, outcome=outcome, record=record, ctx=ctx)


def log_lines(ctx: RoostContext) -> list[dict]:
    path = usage_log.log_path(ctx)
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_off_by_default_writes_nothing(make_ctx):
    ctx = make_ctx()
    observe(ctx)
    assert not usage_log.log_path(ctx).exists()
    assert usage_log.state(ctx).source is None


def test_marker_enables_and_record_has_every_field(make_ctx):
    ctx = make_ctx()
    usage_log.set_marker(ctx, True)
    observe(ctx)
    (line,) = log_lines(ctx)
    assert line == {"ts": "2026-05-04T12:00:00.000Z", "profile": "a", "health": "ok", "session_pct": 12.0,
                    "weekly_pct": 42.0, "sonnet_pct": 3.0, "opus_pct": None, "overage_pct": 50.0,
                    "session_resets_at": "2026-05-04T14:00:00+00:00",
                    "weekly_resets_at": "2026-05-07T12:00:00+00:00"}
    usage_log.set_marker(ctx, False)
    observe(ctx)
    assert len(log_lines(ctx)) == 1


@pytest.mark.parametrize("value,on", [("1", True), ("true", True), ("YES", True), ("on", True),
                                      ("0", False), ("off", False), ("", False)])
def test_environment_switch(make_ctx, value, on):
    ctx = make_ctx(CLAUDE_LB_USAGE_LOG=value)
    observe(ctx)
    assert len(log_lines(ctx)) == (1 if on else 0)
    assert usage_log.state(ctx).source == ("environment" if on else None)


def test_config_file_switch(make_ctx, roost_env):
    roost_env.config.mkdir(parents=True)
    (roost_env.config / "config.toml").write_text("usage_log = true\n")
    ctx = make_ctx()
    assert usage_log.state(ctx).source == "config"
    observe(ctx)
    assert len(log_lines(ctx)) == 1


@pytest.mark.parametrize("health,status,error", [
    (Health.RATE_LIMITED, 429, None), (Health.AUTH_DEAD, 401, None), (Health.NETWORK_ERROR, None, "timeout"),
    (Health.UNKNOWN, 200, None), (Health.OK, 403, None)])
def test_only_successful_probes_are_logged(make_ctx, health, status, error):
    ctx = make_ctx(CLAUDE_LB_USAGE_LOG="1")
    observe(ctx, *probe_result(health=health, status=status, error=error))
    assert log_lines(ctx) == []


def test_limits_are_successful_probes(make_ctx):
    ctx = make_ctx(CLAUDE_LB_USAGE_LOG="1")
    observe(ctx, *probe_result(health=Health.WEEKLY_LIMIT, weekly=100.0))
    assert log_lines(ctx)[0]["health"] == "weekly_limit"


def test_fires_through_the_plugin_host(make_ctx):
    ctx = make_ctx(CLAUDE_LB_USAGE_LOG="1")
    host = PluginHost(entries=[], plugins=[("usage-log", usage_log)])
    profile, outcome, record = probe_result()
    host.notify("roost_probe_completed", "observer", profile=profile, outcome=outcome, record=record, ctx=ctx)
    assert len(log_lines(ctx)) == 1


def test_read_skips_malformed_and_truncate_empties(make_ctx):
    ctx = make_ctx(CLAUDE_LB_USAGE_LOG="1")
    observe(ctx)
    with open(usage_log.log_path(ctx), "a") as handle:
        handle.write('not json\n["a list"]\n{"no": "profile"}\n')
    observe(ctx)
    assert [r["profile"] for r in usage_log.read(ctx)] == ["a", "a"]
    size = usage_log.log_path(ctx).stat().st_size
    assert usage_log.truncate(ctx) == size
    assert usage_log.log_path(ctx).read_bytes() == b""
    observe(ctx)
    assert len(log_lines(ctx)) == 1
    assert usage_log.truncate(make_ctx(XDG_CONFIG_HOME="/nonexistent-dir")) == 0


def test_truncate_without_arguments_uses_the_environment(roost_env, monkeypatch):
    for key, value in roost_env.env(CLAUDE_LB_USAGE_LOG="1").items():
        monkeypatch.setenv(key, value)
    roost_env.config.mkdir(parents=True)
    (roost_env.config / usage_log.USAGE_LOG).write_text('{"ts": "x", "profile": "a"}\n')
    assert usage_log.truncate() > 0
    assert (roost_env.config / usage_log.USAGE_LOG).read_text() == ""
