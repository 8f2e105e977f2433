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


def _blocked(roost_env, health_ctx, api, retry_after="3600"):
    """Profile a, probed ok, then a usage 429: (profiles, the 429 record, the probe time)."""
    answers, route = api
    ps = profiles(roost_env, health_ctx, "a")
    get_records(health_ctx(), ps)
    answers.append(httpx.Response(429, headers={"retry-after": retry_after}))
    checked = health_ctx.clock.now
    record = asyncio.run(probe_many(health_ctx(), ps))[0]
    assert record.health is Health.RATE_LIMITED and record.retry_after_s == float(retry_after)
    return ps, record, checked


@pytest.mark.parametrize("drop", ["all", "one"])
def test_a_429_record_keeps_its_evidence_after_invalidate(roost_env, health_ctx, api, drop):
    """invalidate drops the entry but the 429 hold stays (the account's budget): the record served
    meanwhile still says when the 429 came and what it asked (retry_after_s: the 429's own value)."""
    from roost_core.probe.local import iso

    ps, record, checked = _blocked(roost_env, health_ctx, api)
    calls = api[1].call_count
    health_ctx.clock.advance(120)
    if drop == "all":
        healthcache.drop_all(health_ctx())
    else:
        healthcache.drop(health_ctx(), "a")
    for served in (get_records(health_ctx(), ps)[0], asyncio.run(probe_many(health_ctx(), ps))[0]):
        assert served.health is Health.RATE_LIMITED and served.source == "cache"
        assert served.retry_after_s == 3600.0
        assert served.checked_at == served.observed_at == iso(checked) == record.checked_at
        assert served.next_probe_at == served.valid_until == record.next_probe_at
    assert api[1].call_count == calls


def test_a_symlinked_name_held_by_its_account_429_carries_that_429(roost_env, health_ctx, api):
    answers, route = api
    profiles(roost_env, health_ctx, "a")
    (roost_env.profiles / "a1").mkdir(mode=0o700)
    os.symlink(roost_env.profiles / "a" / ".credentials.json", roost_env.profiles / "a1" / ".credentials.json")
    everyone = discover(health_ctx().paths)
    answers.append(httpx.Response(429, headers={"retry-after": "600"}))
    record = asyncio.run(probe_many(health_ctx(), [p for p in everyone if p.name == "a"]))[0]
    a1 = get_records(health_ctx(), [p for p in everyone if p.name == "a1"])[0]
    assert a1.health is Health.RATE_LIMITED and a1.retry_after_s == 600.0
    assert a1.checked_at == record.checked_at and a1.next_probe_at == record.next_probe_at


def test_trace_under_a_429_hold_makes_no_request_and_says_why(roost_env, health_ctx, api):
    """trace respects the hold unless --force, and its dump says so: the note names the wait, the
    evidence is the 429 (not "a probe"), retry_after_s and checked_at are the 429's, after an invalidate too."""
    from roost_plugins.trace import trace_data

    ps, record, checked = _blocked(roost_env, health_ctx, api)
    calls = api[1].call_count
    for step in ("cached", "invalidated"):
        if step == "invalidated":
            healthcache.drop_all(health_ctx())
        outcome, verdict, traced = probe_traced(health_ctx(), ps[0])
        assert outcome is None and verdict.retry_after_s == 3600.0 and traced.retry_after_s == 3600.0
        data = trace_data(health_ctx(), "a", None)
        assert data["request"] is None and data["response"] is None
        assert data["note"] == (f"no request was made: the usage endpoint asked roost to wait until "
                                f"{record.next_probe_at} (429); --force probes anyway")
        assert data["evidence"]["decided_by"] == "cache"
        assert "429" in data["evidence"]["why"] and "freshest" not in data["evidence"]["why"]
        assert data["classification"]["retry_after_s"] == 3600.0
        assert data["record"]["retry_after_s"] == 3600.0 and data["record"]["checked_at"] == record.checked_at
    assert api[1].call_count == calls
    forced = trace_data(health_ctx(), "a", None, force=True)
    assert forced["response"]["status"] == 200 and forced["evidence"]["decided_by"] == "probe"
    assert forced["note"] is None and api[1].call_count == calls + 1


def test_trace_of_a_local_verdict_says_it_is_local(roost_env, health_ctx, api):
    from roost_plugins.trace import trace_data

    roost_env.make_profile("x", expires_in=-60)
    data = trace_data(health_ctx(), "x", None)
    assert data["request"] is None and data["evidence"]["decided_by"] == "local"
    assert "verdict is local" in data["note"] and "probe" not in data["evidence"]["why"]
    assert api[1].call_count == 0


def test_a_rejected_refresh_token_makes_an_expired_profile_auth_dead(roost_env, health_ctx, api):
    roost_env.make_profile("d", expires_in=-60)
    ps = discover(health_ctx().paths)
    assert get_records(health_ctx(), ps)[0].health is Health.AUTH_EXPIRED
    ctx = health_ctx()
    refresh = roost_env.credentials("d")["claudeAiOauth"]["refreshToken"]
    deadtoken.remember(ctx, refresh, "d", "refresh_token_invalid")
    record = get_records(health_ctx(), ps)[0]
    assert record.health is Health.AUTH_DEAD and "not found or invalid" in record.error
