"""The probe engine against respx: cache validity, budget, backoff, 429 memory, 401 re-read, fan-out."""

from __future__ import annotations

import asyncio
import json
import os
import time

import httpx
import pytest
import respx

from roost_core import healthcache
from roost_core.probe import budget_meta, cached_records, get_records, probe_many, probe_raw, probe_traced
from roost_core.profiles import discover
from roostkit import get_profile
from roost_core.records import Health

USAGE_URL = "https://api.test/api/oauth/usage"


def ok_body(session=10.0, weekly=20.0, **extra):
    return {"five_hour": {"utilization": session, "resets_at": "2099-01-01T00:00:00Z"},
            "seven_day": {"utilization": weekly, "resets_at": "2099-01-02T00:00:00Z"}, **extra}


def token(roost_env, name: str, key: str = "accessToken") -> str:
    """A profile's token, read back from its credentials file."""
    return roost_env.credentials(name)["claudeAiOauth"][key]


class Api:
    """Per-token answers for the usage endpoint; records every bearer it sees."""

    def __init__(self, router: respx.MockRouter, roost_env):
        self.roost_env = roost_env
        self.answers: dict[str, object] = {}
        self.calls: list[str] = []
        self.requests: list[httpx.Request] = []
        self.in_flight = self.max_in_flight = 0
        self.delay = 0.0
        router.get(USAGE_URL).mock(side_effect=self.handle)

    def count(self, name: str) -> int:
        return self.calls.count(token(self.roost_env, name))

    async def handle(self, request: httpx.Request) -> httpx.Response:
        token = request.headers["authorization"].removeprefix("Bearer ")
        self.calls.append(token)
        self.requests.append(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            answer = self.answers.get(token, httpx.Response(200, json=ok_body()))
            if callable(answer):
                answer = await answer()
            if self.delay:
                await asyncio.sleep(self.delay)
            if isinstance(answer, Exception):
                raise answer
            return answer
        finally:
            self.in_flight -= 1

    def set(self, name: str, answer: object) -> None:
        self.answers[token(self.roost_env, name)] = answer


@pytest.fixture
def api(roost_env):
    with respx.mock(assert_all_called=False) as router:
        yield Api(router, roost_env)


def profiles(roost_env, *names, **kw):
    for name in names:
        roost_env.make_profile(name, **kw)
    return discover(health_paths(roost_env))


def health_paths(roost_env):
    from roost_core.paths import Paths

    return Paths.from_env(roost_env.env())


def one(records, name):
    return next(r for r in records if r.name == name)


def test_cold_then_warm_cache(roost_env, health_ctx, api):
    ps = profiles(roost_env, "a", "b")
    ctx = health_ctx()
    first = get_records(ctx, ps)
    assert [r.name for r in first] == ["a", "b"] and {r.source for r in first} == {"probe"}
    assert first[0].health is Health.OK and first[0].session_pct == 10.0 and first[0].plan == "max"
    again = get_records(health_ctx(), ps)
    assert {r.source for r in again} == {"cache"} and len(api.calls) == 2
    assert [r.to_dict()["health"] for r in cached_records(health_ctx(), ps)] == ["ok", "ok"]


def test_request_headers(roost_env, health_ctx, api):
    get_records(health_ctx(), profiles(roost_env, "a"))
    headers = api.requests[0].headers
    assert headers["anthropic-beta"] == "oauth-2025-04-20"
    assert headers["user-agent"].startswith("claude-code/")
    assert headers["accept"] == "application/json" and headers["content-type"] == "application/json"


def test_records_follow_the_given_order(roost_env, health_ctx, api):
    ps = profiles(roost_env, "a", "b", "c")
    order = [ps[2], ps[0], ps[1]]
    assert [r.name for r in get_records(health_ctx(), order)] == ["c", "a", "b"]


def test_ttl_expiry_reprobes(roost_env, health_ctx, api):
    ps = profiles(roost_env, "a")
    get_records(health_ctx(), ps)
    health_ctx.clock.advance(299)
    assert get_records(health_ctx(), ps)[0].source == "cache"
    health_ctx.clock.advance(2)
    assert get_records(health_ctx(), ps)[0].source == "probe" and api.count("a") == 2


def test_credentials_mtime_change_invalidates(roost_env, health_ctx, api):
    ps = profiles(roost_env, "a")
    get_records(health_ctx(), ps)
    path = roost_env.profiles / "a" / ".credentials.json"
    os.utime(path, ns=(time.time_ns(), path.stat().st_mtime_ns + 1_000_000))
    assert get_records(health_ctx(), ps)[0].source == "probe" and api.count("a") == 2


def test_valid_entry_capped_at_token_expiry(roost_env, health_ctx, api):
    ps = profiles(roost_env, "a", expires_in=120)
    record = get_records(health_ctx(), ps)[0]
    assert record.health is Health.OK
    health_ctx.clock.advance(121)
    records = get_records(health_ctx(), ps)
    assert records[0].health is Health.AUTH_EXPIRED and api.count("a") == 1
    assert cached_records(health_ctx(), ps)[0].health is Health.AUTH_EXPIRED


def test_local_expiry_and_unusable_credentials_make_no_request(roost_env, health_ctx, api):
    roost_env.make_profile("old", expires_in=-60)
    roost_env.make_profile("empty", document={"claudeAiOauth": {"accessToken": "", "expiresAt": 0}})
    roost_env.make_profile("mcp-only", document={"mcpOAuth": {}})
    roost_env.make_profile("no-access", document={"claudeAiOauth": {"refreshToken": "sk-ant-ort01-only" + "r" * 30}})
    (roost_env.profiles / "broken").mkdir()
    (roost_env.profiles / "broken" / ".credentials.json").write_text("{not json")
    ps = discover(health_paths(roost_env))
    records = {r.name: r for r in get_records(health_ctx(), ps)}
    assert records["old"].health is Health.AUTH_EXPIRED and records["old"].error == "access token expired"
    # No tokens and expiresAt 0: the file claude wipes after its own invalid_grant (logged out).
    assert records["empty"].health is Health.AUTH_DEAD and records["empty"].error == "logged out: run claude login"
    assert records["no-access"].health is Health.AUTH_EXPIRED and "refresh" in records["no-access"].error
    assert records["mcp-only"].health is Health.AUTH_DEAD and "no access token" in records["mcp-only"].error
    assert records["broken"].health is Health.AUTH_DEAD and "not valid JSON" in records["broken"].error
    assert api.calls == []


def test_never_probed_offline(roost_env, health_ctx, api):
    records = get_records(health_ctx(), profiles(roost_env, "a"), offline=True)
    assert records[0].health is Health.UNKNOWN and records[0].error == "not probed yet" and api.calls == []


def test_stale_cached_record_offline(roost_env, health_ctx, api):
    ps = profiles(roost_env, "a")
    get_records(health_ctx(), ps)
    health_ctx.clock.advance(600)
    record = cached_records(health_ctx(), ps)[0]
    assert record.health is Health.OK and record.stale and record.source == "cache"


@pytest.mark.parametrize("failures,expected", [(1, 30), (2, 60), (3, 120), (4, 240), (5, 480), (6, 480), (9, 480)])
def test_backoff_delays(failures, expected):
    assert healthcache.backoff_delay(failures) == expected


def test_network_error_backoff_doubles_then_success_resets(roost_env, health_ctx, api):
    ps = profiles(roost_env, "a")
    api.set("a", httpx.ConnectError("refused"))
    seen = []
    for _ in range(6):
        record = get_records(health_ctx(), ps)[0]
        assert record.health is Health.NETWORK_ERROR
        entry = healthcache.entries(health_ctx())["a"]
        delay = entry["valid_until"] - entry["checked_at"]
        seen.append(round(delay))
        health_ctx.clock.advance(delay - 1)
        assert get_records(health_ctx(), ps)[0].source == "cache"  # still backing off
        health_ctx.clock.advance(1.5)
    assert seen == [30, 60, 120, 240, 480, 480]
    api.set("a", httpx.Response(200, json=ok_body()))
    assert get_records(health_ctx(), ps)[0].health is Health.OK
    assert healthcache.entries(health_ctx())["a"]["backoff"] == 0
    api.set("a", httpx.ConnectError("refused"))
    health_ctx.clock.advance(301)
    get_records(health_ctx(), ps)
    entry = healthcache.entries(health_ctx())["a"]
    assert entry["backoff"] == 1 and round(entry["valid_until"] - entry["checked_at"]) == 30


def test_timeout_bounds_every_probe(roost_env, health_ctx, api):
    ps = profiles(roost_env, "slow", "fast")

    async def never():
        await asyncio.sleep(30)

    api.set("slow", never)
    started = time.monotonic()
    records = get_records(health_ctx(), ps, timeout=0.3)
    assert time.monotonic() - started < 2.0
    assert one(records, "slow").health is Health.NETWORK_ERROR and one(records, "fast").health is Health.OK


def test_429_keeps_last_good_usage_as_stale(roost_env, health_ctx, api):
    ps = profiles(roost_env, "a")
    get_records(health_ctx(), ps)
    good_at = health_ctx.clock.now
    api.set("a", httpx.Response(429, headers={"retry-after": "0"}, json={"error": {"type": "rate_limit_error"}}))
    health_ctx.clock.advance(400)
    record = get_records(health_ctx(), ps)[0]
    assert record.health is Health.RATE_LIMITED and record.retry_after_s == 60
    assert record.stale and record.session_pct == 10.0 and record.weekly_pct == 20.0
    from roost_plugins.anthropic.usage import to_epoch

    assert to_epoch(record.last_good_at) == pytest.approx(good_at, abs=1)
    cached = get_records(health_ctx(), ps)[0]
    assert cached.source == "cache" and cached.stale and cached.last_good_at == record.last_good_at


def test_429_without_history_has_no_figures(roost_env, health_ctx, api):
    ps = profiles(roost_env, "a")
    api.set("a", httpx.Response(429, headers={"retry-after": "42"}))
    record = get_records(health_ctx(), ps)[0]
    assert record.health is Health.RATE_LIMITED and record.retry_after_s == 42 and record.session_pct is None
    assert not record.stale and record.last_good_at is None


def test_401_rereads_rotated_token_and_reprobes(roost_env, health_ctx, api):
    ps = profiles(roost_env, "a")
    first = token(roost_env, "a")
    rotated = "sk-ant-oat01-ROTATEDbyanotherprocess0000000000"

    async def rotate_then_401():
        roost_env.make_profile("a", access=rotated)
        return httpx.Response(401, json={"type": "error", "error": {"type": "authentication_error"}})

    api.set("a", rotate_then_401)
    api.answers[rotated] = httpx.Response(200, json=ok_body(session=55.0))
    record = get_records(health_ctx(), ps)[0]
    assert record.health is Health.OK and record.session_pct == 55.0
    assert api.calls == [first, rotated]
    reasons = healthcache.entries(health_ctx())["a"]["reasons"]
    assert "re-probed with it" in reasons[0] and len(reasons) >= 1
    assert healthcache.budget(healthcache.read(health_ctx()), "a", health_ctx.clock.now, 20)["used"] == 2
    # The entry is bound to the new file, so it stays valid.
    assert get_records(health_ctx(), ps)[0].source == "cache"


def rotate_to(roost_env, new: str):
    """An answer that rotates profile a's token to ``new`` (another process refreshed) and says 401."""
    async def reply():
        roost_env.make_profile("a", access=new)
        return httpx.Response(401, json={"type": "error", "error": {"type": "authentication_error"}})
    return reply


def test_401_follows_a_token_rotated_twice_during_the_probe(roost_env, health_ctx, api):
    """A busy refresher can rotate again between the re-read and the re-probe: follow it."""
    ps = profiles(roost_env, "a")
    first = token(roost_env, "a")
    second, third = (f"sk-ant-oat01-ROTATED{n}byanotherprocess000000000000" for n in (2, 3))
    api.set("a", rotate_to(roost_env, second))
    api.answers[second] = rotate_to(roost_env, third)
    api.answers[third] = httpx.Response(200, json=ok_body(session=44.0))
    record = get_records(health_ctx(), ps)[0]
    assert record.health is Health.OK and record.session_pct == 44.0
    assert api.calls == [first, second, third]


def test_401_stops_following_rotations_after_a_few(roost_env, health_ctx, api):
    ps = profiles(roost_env, "a")
    tokens = [f"sk-ant-oat01-ROTATED{n}byanotherprocess000000000000" for n in range(8)]
    api.set("a", rotate_to(roost_env, tokens[0]))
    for old, new in zip(tokens, tokens[1:]):
        api.answers[old] = rotate_to(roost_env, new)
    record = get_records(health_ctx(), ps)[0]
    assert record.health is Health.AUTH_DEAD and len(api.calls) == 4  # the first probe and three re-probes


def test_401_waits_for_a_refresh_in_flight_before_believing_it(roost_env, health_ctx, api):
    """The token endpoint has rotated the token (the probed one is dead) but the refresher has not
    written the new one yet: the probe waits for its refresh lock, reads again and re-probes."""
    import threading
    import time

    from roost_core.refresh import refresh_lock

    ps = profiles(roost_env, "a")
    first = token(roost_env, "a")
    rotated = "sk-ant-oat01-ROTATEDwhilethelockwasheld000000000"
    held, written = threading.Event(), threading.Event()

    def refresher() -> None:
        with refresh_lock(health_ctx(), ps[0], 5.0):
            held.set()
            time.sleep(0.4)
            roost_env.make_profile("a", access=rotated)
            written.set()

    api.set("a", httpx.Response(401, json={"type": "error", "error": {"type": "authentication_error"}}))
    api.answers[rotated] = httpx.Response(200, json=ok_body(session=33.0))
    thread = threading.Thread(target=refresher)
    thread.start()
    assert held.wait(5)
    try:
        record = get_records(health_ctx(), ps)[0]
    finally:
        thread.join(10)
    assert written.is_set() and record.health is Health.OK and record.session_pct == 33.0
    assert api.calls == [first, rotated]


def test_401_with_unchanged_token_is_auth_dead(roost_env, health_ctx, api):
    ps = profiles(roost_env, "a")
    api.set("a", httpx.Response(401, json={"error": {"type": "authentication_error", "message": "Invalid"}}))
    record = get_records(health_ctx(), ps)[0]
    assert record.health is Health.AUTH_DEAD and api.count("a") == 1 and record.valid_until is None
    health_ctx.clock.advance(10 * 86400)
    assert get_records(health_ctx(), ps, offline=True)[0].health is Health.AUTH_DEAD


def test_budget_spent_serves_cache_then_force_probes(roost_env, health_ctx, api):
    ps = profiles(roost_env, "a")
    for _ in range(3):
        assert get_records(health_ctx(CLAUDE_LB_PROBE_BUDGET="3"), ps)[0].source == "probe"
        health_ctx.clock.advance(301)
    ctx = health_ctx(CLAUDE_LB_PROBE_BUDGET="3")
    record = get_records(ctx, ps)[0]
    assert record.source == "cache" and record.stale and api.count("a") == 3
    said = health_ctx.stderr(ctx)
    assert "probe budget spent for 'a' (3/3 probes in the last hour" in said and "ago" in said
    forced = health_ctx(CLAUDE_LB_PROBE_BUDGET="3")
    assert get_records(forced, ps, force=True)[0].source == "probe" and api.count("a") == 4
    assert "over its probe budget" in health_ctx.stderr(forced)
    # The window rolls: an hour after the first probes, probing resumes.
    health_ctx.clock.advance(3600)
    assert get_records(health_ctx(CLAUDE_LB_PROBE_BUDGET="3"), ps)[0].source == "probe"


def test_live_probe_respects_budget_unless_forced(roost_env, health_ctx, api):
    ps = profiles(roost_env, "a")
    for _ in range(2):
        asyncio.run(probe_many(health_ctx(CLAUDE_LB_PROBE_BUDGET="2"), ps))
    ctx = health_ctx(CLAUDE_LB_PROBE_BUDGET="2")
    assert asyncio.run(probe_many(ctx, ps))[0].source == "cache" and api.count("a") == 2
    assert asyncio.run(probe_many(health_ctx(CLAUDE_LB_PROBE_BUDGET="2"), ps, force=True))[0].source == "probe"


def test_budget_is_shared_and_survives_invalidate(roost_env, health_ctx, api):
    ps = profiles(roost_env, "a")
    asyncio.run(probe_many(health_ctx(), ps))
    healthcache.drop(health_ctx(), "a")
    asyncio.run(probe_many(health_ctx(), ps))
    doc = healthcache.read(health_ctx())
    assert healthcache.budget(doc, "a", health_ctx.clock.now, 20) == {"used": 2, "limit": 20, "window_s": 3600}


def test_symlinked_profiles_share_one_probe_budget(roost_env, health_ctx, api):
    ps = profiles(roost_env, "a")
    (roost_env.profiles / "b").mkdir(mode=0o700)
    (roost_env.profiles / "b" / ".credentials.json").symlink_to(roost_env.profiles / "a" / ".credentials.json")
    both = discover(health_ctx().paths)
    assert [p.name for p in both] == ["a", "b"]
    records = asyncio.run(probe_many(health_ctx(CLAUDE_LB_PROBE_BUDGET="3"), both))
    assert [r.source for r in records] == ["probe", "probe"]
    records = asyncio.run(probe_many(health_ctx(CLAUDE_LB_PROBE_BUDGET="3"), both))
    assert sorted(r.source for r in records) == ["cache", "probe"]  # 3 probes of one account, not 4
    assert api.count("a") == 3
    meta = budget_meta(health_ctx(CLAUDE_LB_PROBE_BUDGET="3"), both)
    assert meta["a"]["used"] == meta["b"]["used"] == 3 and ps


def test_live_probe_ignores_ttl_and_backoff(roost_env, health_ctx, api):
    ps = profiles(roost_env, "a")
    api.set("a", httpx.ConnectError("down"))
    get_records(health_ctx(), ps)
    api.set("a", httpx.Response(200, json=ok_body()))
    assert asyncio.run(probe_many(health_ctx(), ps))[0].health is Health.OK


def test_concurrency_is_bounded_on_one_client(roost_env, health_ctx, api):
    ps = profiles(roost_env, *[f"p{i:02d}" for i in range(12)])
    api.delay = 0.05
    records = get_records(health_ctx(CLAUDE_LB_PROBE_CONCURRENCY="3"), ps)
    assert len(records) == 12 and all(r.health is Health.OK for r in records)
    assert api.max_in_flight == 3


def test_fan_out_is_concurrent(roost_env, health_ctx, api):
    ps = profiles(roost_env, *[f"p{i:02d}" for i in range(32)])
    api.delay = 0.1
    started = time.monotonic()
    get_records(health_ctx(), ps)
    assert time.monotonic() - started < 2.5  # 2 waves of 16 (0.2 s), not 32 sequential probes (3.2 s at least)


def test_observer_notified_after_cache_write(roost_env, health_ctx, api):
    from roost_core import hookimpl
    from roost_core.plugins import PluginHost

    seen = []

    class Observer:
        @hookimpl
        def roost_probe_completed(self, profile, outcome, record, ctx):
            seen.append((profile.name, outcome.status, record.health, "a" in healthcache.entries(ctx)))

    ctx = health_ctx()
    ctx.host_override = PluginHost(plugins=[("observer-test", Observer())])
    for entry in ctx.host_override.entries:
        pass
    get_records(ctx, profiles(roost_env, "a"))
    assert seen == [("a", 200, Health.OK, True)]


def test_probe_raw_writes_nothing(roost_env, health_ctx, api):
    p = profiles(roost_env, "a")[0]
    api.set("a", httpx.Response(200, content=b'{"five_hour": null,  "odd_new_key": 1}'))
    result = probe_raw(health_ctx(), p)
    assert result["status"] == 200 and result["text"] == '{"five_hour": null,  "odd_new_key": 1}'
    assert result["body"] == {"five_hour": None, "odd_new_key": 1}
    assert not (roost_env.config / "health.json").exists()


def test_echoed_token_is_redacted_everywhere(roost_env, health_ctx, api):
    p = profiles(roost_env, "a")[0]
    secret = token(roost_env, "a")
    api.set("a", httpx.Response(500, headers={"x-echo": secret},
                                json={"error": {"type": "api_error", "message": f"bad token {secret}"}}))
    outcome, verdict, record = probe_traced(health_ctx(), p)
    dumped = json.dumps([outcome.body.decode(), outcome.headers, verdict.error, verdict.reasons, record.to_dict(),
                         outcome.request])
    assert secret not in dumped and secret[-4:] in dumped
    assert secret not in (roost_env.config / "health.json").read_text()
    assert outcome.request["headers"]["Authorization"] == "Bearer …" + secret[-4:]


def test_corrupt_cache_is_rebuilt_with_a_warning(roost_env, health_ctx, api):
    ps = profiles(roost_env, "a")
    roost_env.config.mkdir(parents=True)
    (roost_env.config / "health.json").write_text('{"profiles": {"a": ')
    ctx = health_ctx()
    assert get_records(ctx, ps)[0].health is Health.OK
    assert "health.json is corrupt" in health_ctx.stderr(ctx)
    assert json.loads((roost_env.config / "health.json").read_text())["profiles"]["a"]["record"]["health"] == "ok"


def test_processes_merge_their_entries(roost_env, health_ctx, api):
    ps = profiles(roost_env, "a", "b")
    get_records(health_ctx(), [ps[0]])
    get_records(health_ctx(), [ps[1]])
    assert set(healthcache.entries(health_ctx())) == {"a", "b"}


def test_waits_for_a_probe_in_flight_elsewhere(roost_env, health_ctx, api):
    import threading

    ps = profiles(roost_env, "a")
    other = health_ctx()
    now = health_ctx.clock.now
    other.state.update_doc("health", lambda d: {**d, "inflight": {"a": now + 5}})

    def finish_elsewhere():
        time.sleep(0.3)
        asyncio.run(probe_many(health_ctx(), ps))

    thread = threading.Thread(target=finish_elsewhere)
    thread.start()
    record = get_records(health_ctx(), ps)[0]
    thread.join()
    assert record.health is Health.OK and record.source == "cache" and api.count("a") == 1


def test_unknown_profile_is_not_found(roost_env):
    from roost_core.errors import NotFound

    with pytest.raises(NotFound):
        get_profile(health_paths(roost_env), "ghost")


def test_unwritable_cache_still_reports(roost_env, health_ctx, api, monkeypatch):
    ps = profiles(roost_env, "a")
    ctx = health_ctx()

    def full_disk(name, fn):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ctx.state, "update_doc", full_disk)
    record = get_records(ctx, ps)[0]
    assert record.health is Health.OK and record.source == "probe"
    assert "could not write the health cache" in health_ctx.stderr(ctx)


@pytest.mark.parametrize("base", ["http://10.1.2.3", "ftp://api.test", "api.test"])
def test_refused_api_base_is_validation_before_any_budget_use(roost_env, health_ctx, api, base):
    from roost_core.errors import ValidationError

    ps = profiles(roost_env, "a")
    with pytest.raises(ValidationError, match="api_base"):
        get_records(health_ctx(CLAUDE_LB_API_BASE=base), ps)
    with pytest.raises(ValidationError, match="api_base"):
        probe_raw(health_ctx(CLAUDE_LB_API_BASE=base), ps[0])
    assert api.calls == [] and not (roost_env.config / "health.json").exists()
