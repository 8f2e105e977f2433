"""The rich views of status, show and trace draw every state without touching stdout."""

from __future__ import annotations

import io

from roost_core.records import Health, HealthRecord
from roost_plugins.rich_render.status import render_show, render_status, status_table
from roost_plugins.rich_render.trace import render_trace

NOW = 1_790_000_000.0


class Ctx:
    def __init__(self):
        from roost_core.output import Output

        self.out = Output(stdout=io.StringIO(), stderr=io.StringIO())
        self.env = {"COLUMNS": "160"}

    def now(self) -> float:
        return NOW

    @property
    def drawn(self) -> str:
        return self.out.stderr.getvalue()


def rows(**overrides):
    records = [HealthRecord(h.value, h, plan="max", checked_at="2026-09-21T14:13:20Z").to_dict() for h in Health]
    for record in records:
        record.update(overrides.get(record["name"], {}))
    return records


def test_status_table_every_state_and_optional_overage_column():
    ctx = Ctx()
    render_status(rows(), {"platform_status": None}, ctx)
    lines = ctx.drawn.splitlines()
    assert "Overage" not in ctx.drawn and ctx.out.stdout.getvalue() == ""
    for health in Health:
        assert any(f" {health.value} " in line for line in lines), health
    ctx = Ctx()
    render_status({"profiles": rows(ok={"overage_enabled": True, "overage_pct": 25.0})}, {}, ctx)
    assert "Overage" in ctx.drawn and "25%" in ctx.drawn


def test_status_header_line_above_table_and_stale_age():
    ctx = Ctx()
    meta = {"platform_status": {"indicator": "minor", "description": "Degraded", "fetched_at": "t",
                                "active_incidents": [{"name": "Errors", "status": "identified", "impact": "major"}],
                                "degraded_components": []}}
    data = rows(ok={"stale": True, "checked_at": "2026-09-21T14:03:20Z"})
    render_status(data, meta, ctx)
    lines = ctx.drawn.splitlines()
    assert lines[0] == "· Anthropic: Degraded incident: 'Errors' (identified, major)"
    assert lines[1].startswith("┌") and "ok (stale 10m)" in ctx.drawn


def test_resets_column_says_what_to_wait_for():
    data = rows(rate_limited={"retry_after_s": 60.0, "checked_at": "2026-09-21T14:13:00Z"},
                session_limit={"session_resets_at": "2026-09-21T16:13:20Z"},
                ok={"session_resets_at": "2026-09-21T15:13:20Z", "weekly_resets_at": "2026-09-24T14:13:20Z"})
    ctx = Ctx()
    ctx.out.stderr.isatty = lambda: False
    from roost_plugins.rich_render.console import stderr_console

    console = stderr_console(ctx)
    console.print(status_table(data, NOW))
    text = ctx.drawn
    # Issue #18 point 3: one reset format, hours and minutes / days and hours (was "1h / 3d").
    assert "retry in 40s" in text and "session in 2h 0m" in text and "1h 0m / 3d 0h" in text
    assert "claude login" in text and "roost refresh" in text


def test_show_detail_for_a_never_probed_profile_and_a_full_one():
    ctx = Ctx()
    render_show({**rows(unknown={"checked_at": None})[-1], "cache": {}, "credentials": {}, "reasons": []}, {}, ctx)
    assert "unknown" in ctx.drawn and "never" in ctx.drawn
    full = {**rows(ok={"session_pct": 37.0, "weekly_pct": 62.0, "overage_pct": 25.0})[0],
            "overage": {"is_enabled": True, "monthly_limit": 5000, "used_credits": 1250.0, "currency": "USD"},
            "model_limits": [{"model": "Opus", "percent": 30.0, "resets_at": None, "kind": "weekly_scoped",
                              "is_active": True}],
            "reasons": ["HTTP 200"], "cache": {"age_s": 12.0, "budget": {"used": 3, "limit": 20}, "backoff": 0},
            "credentials": {}}
    ctx = Ctx()
    render_show(full, {}, ctx)
    for text in ("37%", "enabled", "spent 12.50 of 50.00 USD", "Opus", "3/20", "Why: HTTP 200"):
        assert text in ctx.drawn, text


def test_trace_view_with_and_without_a_request():
    verdict = {"health": "auth_expired", "ttl_s": None, "error": "access token expired", "classifier": "taxonomy",
               "reasons": ["local: stored expiresAt is in the past"], "retry_after_s": None}
    ctx = Ctx()
    render_trace({"profile": "a", "request": None, "response": None, "note": "no request was made",
                  "classification": verdict}, {}, ctx)
    assert "no request was made" in ctx.drawn and "until the file changes" in ctx.drawn
    ctx = Ctx()
    render_trace({"profile": "a", "request": {"method": "GET", "url": "https://x/api/oauth/usage",
                                              "headers": {"Authorization": "Bearer …abcd"}},
                  "response": {"status": 429, "headers": {"retry-after": "0"}, "body": {"error": {}}, "json": True,
                               "elapsed_s": 0.1},
                  "classification": {**verdict, "health": "rate_limited", "ttl_s": 60.0, "retry_after_s": 60.0}},
                 {}, ctx)
    assert "Bearer …abcd" in ctx.drawn and "HTTP 429" in ctx.drawn and "retry_after_s: 60.0" in ctx.drawn
