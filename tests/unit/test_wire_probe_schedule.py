"""The usage 429 schedule in the probe engine (respx): next_probe_at, no probe before it in any mode but
FORCE, shared by symlinked profiles, kept across a refresh's cache drop, and the dead-token verdict."""

from __future__ import annotations

import asyncio
import os

import httpx
import pytest
import respx

from roost_core import deadtoken, healthcache
from roost_core.probe import get_records, probe_many, probe_traced
from roost_core.profiles import discover
from roost_core.records import Health

USAGE_URL = "https://api.test/api/oauth/usage"
OK = {"five_hour": {"utilization": 10.0, "resets_at": None}, "seven_day": {"utilization": 20.0, "resets_at": None}}


@pytest.fixture
def api():
    answers: list[httpx.Response] = []
    with respx.mock(assert_all_called=False) as router:
        route = router.get(USAGE_URL).mock(side_effect=lambda request: answers.pop(0) if answers else
                                           httpx.Response(200, json=OK))
        yield answers, route


def profiles(roost_env, health_ctx, *names):
    for name in names:
        roost_env.make_profile(name)
    return discover(health_ctx().paths)


def test_429_sets_next_probe_at_and_nothing_but_force_probes_before_it(roost_env, health_ctx, api):
    answers, route = api
    ps = profiles(roost_env, health_ctx, "a")
    get_records(health_ctx(), ps)
    answers.append(httpx.Response(429, headers={"retry-after": "3600"}, json={"error": {"type": "rate_limit_error"}}))
    now = health_ctx.clock.now
    record = asyncio.run(probe_many(health_ctx(), ps))[0]
    assert record.health is Health.RATE_LIMITED and record.stale and record.session_pct == 10.0
    from roost_plugins.anthropic.usage import to_epoch

    wait = to_epoch(record.next_probe_at) - now
    assert 3600 * 1.05 - 1 <= wait <= 3600 * 1.15 + 1
    calls = route.call_count
    ctx = health_ctx()
    again = asyncio.run(probe_many(ctx, ps))[0]  # probe: held back, with a warning
    assert again.health is Health.RATE_LIMITED and again.next_probe_at == record.next_probe_at
    assert "next probe at" in health_ctx.stderr(ctx)
    outcome, verdict, traced = probe_traced(health_ctx(), ps[0])
    assert outcome is None and verdict.health is Health.RATE_LIMITED and traced.next_probe_at == record.next_probe_at
    healthcache.drop(health_ctx(), "a")  # what a refresh does: the block stays
    assert get_records(health_ctx(), ps)[0].health is Health.RATE_LIMITED
    health_ctx.clock.advance(3600 * 1.05 - 5)  # past retry-after, before the jittered time
    assert get_records(health_ctx(), ps)[0].health is Health.RATE_LIMITED
    assert route.call_count == calls
    assert asyncio.run(probe_many(health_ctx(), ps, force=True))[0].health is Health.OK
    assert route.call_count == calls + 1


def test_the_block_is_per_account_symlinks_share_it(roost_env, health_ctx, api):
    answers, route = api
    ps = profiles(roost_env, health_ctx, "a", "b")
    (roost_env.profiles / "a1").mkdir(mode=0o700)
    os.symlink(roost_env.profiles / "a" / ".credentials.json", roost_env.profiles / "a1" / ".credentials.json")
    answers.append(httpx.Response(429, headers={"retry-after": "600"}))
    asyncio.run(probe_many(health_ctx(), [p for p in ps if p.name == "a"]))
    everyone = discover(health_ctx().paths)
    calls = route.call_count
    records = {r.name: r for r in asyncio.run(probe_many(health_ctx(), everyone))}
    assert records["a1"].health is Health.RATE_LIMITED and records["b"].health is Health.OK
    assert route.call_count == calls + 1  # only b was asked


def test_a_rejected_refresh_token_makes_an_expired_profile_auth_dead(roost_env, health_ctx, api):
    roost_env.make_profile("d", expires_in=-60)
    ps = discover(health_ctx().paths)
    assert get_records(health_ctx(), ps)[0].health is Health.AUTH_EXPIRED
    ctx = health_ctx()
    refresh = roost_env.credentials("d")["claudeAiOauth"]["refreshToken"]
    deadtoken.remember(ctx, refresh, "d", "refresh_token_invalid")
    record = get_records(health_ctx(), ps)[0]
    assert record.health is Health.AUTH_DEAD and "not found or invalid" in record.error
