"""Status feed: folding summary.json, the 60 s cache, stale fallback, the header line, the doctor check."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from roost_core.platform import header_line, platform_status
from roost_core.records import PlatformStatus
from roost_plugins.status_page import StatusPageCheck, fold

STATUS_URL = "https://status.test/api/v2/summary.json"


def summary(indicator="none", description="All Systems Operational", incidents=(), components=()):
    return {"page": {"id": "p", "name": "Claude"}, "status": {"indicator": indicator, "description": description},
            "components": [{"name": "claude.ai", "status": "operational", "group": False}, *components],
            "incidents": list(incidents), "scheduled_maintenances": []}


INCIDENT = {"name": "Elevated errors on Claude Opus 4.7", "status": "monitoring", "impact": "minor",
            "shortlink": "https://stspg.io/x", "incident_updates": []}


@pytest.fixture
def page():
    with respx.mock(assert_all_called=False) as router:
        route = router.get(STATUS_URL)
        route.mock(return_value=httpx.Response(200, json=summary()))
        yield route


def test_fold_keeps_unresolved_incidents_and_degraded_components():
    body = summary("minor", "Partially Degraded Service",
                   incidents=[INCIDENT, {**INCIDENT, "name": "old", "status": "resolved"}],
                   components=[{"name": "Claude API (api.anthropic.com)", "status": "degraded_performance"},
                               {"name": "A group", "status": "major_outage", "group": True}])
    status = fold(body, "2026-01-01T00:00:00Z")
    assert status.indicator == "minor" and status.description == "Partially Degraded Service"
    assert status.active_incidents == [{"name": INCIDENT["name"], "status": "monitoring", "impact": "minor",
                                        "shortlink": "https://stspg.io/x"}]
    assert status.degraded_components == [{"name": "Claude API (api.anthropic.com)",
                                           "status": "degraded_performance"}]
    assert not status.is_clean


def test_header_line_format_and_silence_when_clean():
    status = PlatformStatus("none", "All Systems Operational", [{"name": INCIDENT["name"], "status": "monitoring",
                                                                "impact": "minor"}], [], "t", 0)
    assert header_line(status) == ("· Anthropic: All Systems Operational incident: "
                                   "'Elevated errors on Claude Opus 4.7' (monitoring, minor)")
    assert header_line(PlatformStatus("none", "All Systems Operational", [], [], "t", 0)) is None
    assert header_line(None) is None
    assert header_line(PlatformStatus(fetch_error="unreachable")) is None
    degraded = header_line({"indicator": "minor", "description": "Degraded", "active_incidents": [],
                            "degraded_components": [{"name": "Claude Code", "status": "partial_outage"}]})
    assert degraded == "· Anthropic: Degraded degraded: Claude Code (partial_outage)"


def test_cached_for_sixty_seconds(roost_env, health_ctx, page):
    first = platform_status(health_ctx())
    assert first.fetch_error is None and first.age_seconds == 0 and page.call_count == 1
    health_ctx.clock.advance(59)
    again = platform_status(health_ctx())
    assert page.call_count == 1 and again.age_seconds == pytest.approx(59) and again.fetched_at == first.fetched_at
    health_ctx.clock.advance(2)
    platform_status(health_ctx())
    assert page.call_count == 2
    stored = json.loads((roost_env.config / "platform-status.json").read_text())
    assert stored["status"]["description"] == "All Systems Operational"


def test_refresh_refetches(health_ctx, page):
    platform_status(health_ctx())
    platform_status(health_ctx(), refresh=True)
    assert page.call_count == 2


@pytest.mark.parametrize("failure", [httpx.Response(503, text="<html>down</html>"), httpx.Response(200, text="nope"),
                                     httpx.ConnectError("refused"), httpx.Response(200, json=["not", "summary"])])
def test_failed_fetch_returns_stale_entry(health_ctx, page, failure):
    platform_status(health_ctx())
    health_ctx.clock.advance(300)
    page.mock(side_effect=[failure] if isinstance(failure, Exception) else None,
              return_value=None if isinstance(failure, Exception) else failure)
    status = platform_status(health_ctx())
    assert status.description == "All Systems Operational" and status.fetch_error
    assert status.age_seconds == pytest.approx(300)


def test_failed_fetch_without_cache(health_ctx, page):
    page.mock(side_effect=httpx.ConnectError("refused"))
    status = platform_status(health_ctx())
    assert status.indicator is None and status.fetched_at is None and "unreachable" in status.fetch_error


def test_miss_times_out_after_two_seconds(health_ctx, page):
    import asyncio
    import time

    async def hang(request):
        await asyncio.sleep(30)

    page.mock(side_effect=hang)
    started = time.monotonic()
    status = platform_status(health_ctx())
    assert time.monotonic() - started < 4 and "timeout" in status.fetch_error  # the page hangs 30 s


def test_corrupt_cache_is_rebuilt(roost_env, health_ctx, page):
    roost_env.config.mkdir(parents=True)
    (roost_env.config / "platform-status.json").write_text("]]")
    ctx = health_ctx()
    assert platform_status(ctx).fetch_error is None
    assert "platform-status.json is corrupt" in health_ctx.stderr(ctx)
    assert json.loads((roost_env.config / "platform-status.json").read_text())["version"] == 1


def test_another_url_is_a_cache_miss(health_ctx, page):
    platform_status(health_ctx())
    with respx.mock(assert_all_called=False) as router:
        other = router.get("https://elsewhere.test/s.json").mock(return_value=httpx.Response(200, json=summary()))
        platform_status(health_ctx(CLAUDE_LB_STATUS_URL="https://elsewhere.test/s.json"))
        assert other.call_count == 1


def test_plain_http_off_loopback_is_refused(health_ctx):
    status = platform_status(health_ctx(CLAUDE_LB_STATUS_URL="http://status.example.com/x.json"))
    assert "https" in status.fetch_error


def test_doctor_check_is_warn_level_and_fresh(health_ctx, page):
    check = StatusPageCheck()
    assert check.needs_network and check.name == "status-page"
    assert check.run(health_ctx()).level == "ok"
    page.mock(return_value=httpx.Response(200, json=summary("minor", "Partial Outage", incidents=[INCIDENT])))
    result = check.run(health_ctx())
    assert result.level == "warn" and "Elevated errors" in result.message and page.call_count == 2
    page.mock(side_effect=httpx.ConnectError("refused"))
    assert check.run(health_ctx()).level == "warn"


def test_without_a_feed_plugin_status_is_only_a_fetch_error(health_ctx):
    ctx = health_ctx()
    ctx.disabled_plugins = ("status-page",)
    status = platform_status(ctx)
    assert status.indicator is None and "unknown status feed 'status-page'" in status.fetch_error
