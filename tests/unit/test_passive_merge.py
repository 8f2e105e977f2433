"""Merging passive evidence with probes: the freshest decides, a stand-in spends no probe, nothing invented."""

from __future__ import annotations

import os

import httpx
import pytest
import respx

from roost_core import passive
from roost_core.probe import cached_records, get_records
from roost_core.profiles import discover
from roost_core.records import Health
from roost_plugins.fakeserver.passive_docs import rate_limit_event, statusline_document, stop_failure_event
from roost_plugins.passive import recording
from roost_plugins.passive.parsers import parse_hook, parse_statusline, parse_stream_event

USAGE_URL = "https://api.test/api/oauth/usage"
BODY = {"five_hour": {"utilization": 50.0, "resets_at": "2099-01-01T00:00:00Z"},
        "seven_day": {"utilization": 62.0, "resets_at": "2099-01-02T00:00:00Z"}}


@pytest.fixture
def usage():
    with respx.mock(assert_all_called=False) as router:
        route = router.get(USAGE_URL).mock(return_value=httpx.Response(200, json=BODY))
        yield route


def setup(roost_env, health_ctx, *names):
    for name in names:
        roost_env.make_profile(name)
    ctx = health_ctx()
    return ctx, discover(ctx.paths)


def cred_mtime(roost_env, name):
    return os.stat(roost_env.profiles / name / ".credentials.json").st_mtime_ns


def test_a_newer_statusline_reading_stands_in_for_the_probe(roost_env, health_ctx, usage):
    ctx, ps = setup(roost_env, health_ctx, "work")
    assert get_records(ctx, ps)[0].source == "probe" and usage.call_count == 1
    health_ctx.clock.advance(200)
    now = health_ctx.clock()
    recording.record(ctx, "work", [parse_statusline(statusline_document(20.0, 70.0, now=now), now)],
                   cred_mtime(roost_env, "work"))
    health_ctx.clock.advance(150)  # the probe's 300 s cache has expired; the reading (at +200 s) still stands
    record = get_records(health_ctx(), ps)[0]
    assert usage.call_count == 1  # no probe, no budget
    assert record.source == "statusline" and record.health is Health.OK
    assert record.session_pct == 20.0 and record.weekly_pct == 70.0
    assert record.observed_at and record.observed_at.endswith("Z") and "statusline" in record.evidence
    health_ctx.clock.advance(151)  # the reading has expired too: probe again
    assert get_records(health_ctx(), ps)[0].source == "probe" and usage.call_count == 2


def test_a_passive_rejection_beats_an_older_probe_ok(roost_env, health_ctx, usage):
    ctx, ps = setup(roost_env, health_ctx, "work")
    get_records(ctx, ps)
    health_ctx.clock.advance(5)
    now = health_ctx.clock()
    reading = parse_stream_event(rate_limit_event("rejected", "five_hour", 1.0, resets_in=900, now=now), now)
    recording.record(ctx, "work", [reading], cred_mtime(roost_env, "work"))
    record = get_records(health_ctx(), ps)[0]
    assert record.health is Health.SESSION_LIMIT and record.source == "stream" and usage.call_count == 1
    assert record.session_pct == 100.0 and record.weekly_pct == 62.0  # the probe's weekly figure, not invented
    health_ctx.clock.advance(901)  # past the reset: the probe decides again
    assert get_records(health_ctx(), ps)[0].health is Health.OK and usage.call_count == 2


def test_a_window_nobody_reported_gets_no_figure(roost_env, health_ctx, usage):
    ctx, ps = setup(roost_env, health_ctx, "fresh")  # never probed
    now = health_ctx.clock()
    reading = parse_stream_event(rate_limit_event("allowed", "five_hour", 0.25, now=now), now)
    recording.record(ctx, "fresh", [reading], cred_mtime(roost_env, "fresh"))
    record = cached_records(health_ctx(), ps)[0]
    assert record.source == "stream" and record.session_pct == 25.0 and record.weekly_pct is None
    assert usage.call_count == 0


def test_a_hook_auth_failure_holds_until_the_credentials_change(roost_env, health_ctx, usage):
    ctx, ps = setup(roost_env, health_ctx, "work")
    get_records(ctx, ps)
    health_ctx.clock.advance(5)
    now = health_ctx.clock()
    recording.record(ctx, "work", [parse_hook(stop_failure_event("account_on_hold", now=now), now)],
                   cred_mtime(roost_env, "work"))
    health_ctx.clock.advance(1)
    later = health_ctx.clock()  # a status line afterwards does not clear it: a person must act
    recording.record(ctx, "work", [parse_statusline(statusline_document(10.0, 10.0, now=later), later)],
                   cred_mtime(roost_env, "work"))
    health_ctx.clock.advance(3600)
    record = get_records(health_ctx(), ps)[0]
    assert record.health is Health.AUTH_DEAD and record.source == "hook" and "account_on_hold" in record.error
    assert usage.call_count == 1
    roost_env.make_profile("work")  # a new login rewrites the file
    assert get_records(health_ctx(), ps)[0].source == "probe" and usage.call_count == 2


def test_a_probe_newer_than_the_readings_decides(roost_env, health_ctx, usage):
    ctx, ps = setup(roost_env, health_ctx, "work")
    now = health_ctx.clock()
    recording.record(ctx, "work", [parse_hook(stop_failure_event("rate_limit", now=now), now)],
                   cred_mtime(roost_env, "work"))
    health_ctx.clock.advance(1)
    assert get_records(health_ctx(), ps)[0].health is Health.RATE_LIMITED and usage.call_count == 0
    health_ctx.clock.advance(61)  # a throttle without a reset stands for the rate_limited cache time only
    record = get_records(health_ctx(), ps)[0]
    assert record.source == "probe" and record.health is Health.OK and usage.call_count == 1
    assert passive.describe(record, passive.Evidence.load(health_ctx()), health_ctx.clock()).startswith(
        "a probe just now decided; the freshest passive reading (hook")


def test_a_window_kept_from_before_the_probe_does_not_override_it(roost_env, health_ctx, usage):
    """A stream event names one window; windows kept from earlier events are older than a later probe."""
    ctx, ps = setup(roost_env, health_ctx, "work")
    now = health_ctx.clock()
    mtime = cred_mtime(roost_env, "work")
    recording.record(ctx, "work", [parse_stream_event(rate_limit_event("allowed", "seven_day", 0.9, now=now), now)],
                     mtime)
    health_ctx.clock.advance(10)
    assert get_records(health_ctx(), ps, force=True)[0].weekly_pct == 62.0 and usage.call_count == 1
    health_ctx.clock.advance(10)
    later = health_ctx.clock()
    recording.record(ctx, "work", [parse_stream_event(rate_limit_event("allowed", "five_hour", 0.3, now=later),
                                                      later)], mtime)
    record = get_records(health_ctx(), ps)[0]
    assert record.source == "stream" and usage.call_count == 1
    assert record.session_pct == 30.0  # the new event's window
    assert record.weekly_pct == 62.0  # the probe's, newer than the kept 90 % seven_day window


def test_the_summary_gives_every_time_in_iso_8601(roost_env, health_ctx, usage):
    ctx, ps = setup(roost_env, health_ctx, "work")
    now = health_ctx.clock()
    recording.record(ctx, "work", [parse_statusline(statusline_document(20.0, 70.0, now=now), now)],
                     cred_mtime(roost_env, "work"))
    shown = passive.summary(health_ctx(), "work", now)["readings"]["statusline"]
    assert shown["observed_at"].endswith("Z")
    for window in shown["windows"].values():
        assert window["resets_at"].endswith("Z") and window["observed_at"].endswith("Z")


def test_explain_says_why_a_probe_decided():
    from roost_core.pick import evidence_text
    from roost_core.records import HealthRecord

    record = HealthRecord(name="home", health=Health.OK, source="cache", observed_at="2026-12-07T12:00:00Z")
    assert evidence_text(record) == ("cache from 2026-12-07T12:00:00Z: the cached probe "
                                     "(still valid, no newer passive reading) decided")
    stale = HealthRecord(name="home", health=Health.OK, source="cache", observed_at="2026-12-07T12:00:00Z", stale=True)
    assert "stale" in evidence_text(stale) and "still valid" not in evidence_text(stale)


SCOPED = {**BODY, "limits": [{"kind": "weekly_scoped", "group": "weekly", "percent": 40,
                              "resets_at": "2099-01-02T00:00:00Z",
                              "scope": {"model": {"id": "claude-opus-4-7", "display_name": "Claude Opus 4.7"}},
                              "is_active": False}]}


def _opus_rejection(now, resets_in=86400, source="stream"):
    if source == "hook":
        return parse_hook(stop_failure_event("rate_limit", rate_limit_type="seven_day_opus", resets_in=resets_in,
                                             now=now), now)
    return parse_stream_event(rate_limit_event("rejected", "seven_day_opus", 1.0, resets_in=resets_in, now=now), now)


@pytest.mark.parametrize("source", ["stream", "hook"])
def test_a_model_week_rejection_adds_that_models_limit_and_keeps_the_probes_health(roost_env, health_ctx, usage,
                                                                                   source):
    """A rejection on seven_day_opus: the profile stays ok (the probe's verdict), with Opus at 100 %
    until its reset in model_limits, so --model opus skips it and no probe is spent."""
    from roost_core.pick import model_usage

    usage.mock(return_value=httpx.Response(200, json=SCOPED))
    ctx, ps = setup(roost_env, health_ctx, "work")
    get_records(ctx, ps)
    health_ctx.clock.advance(5)
    now = health_ctx.clock()
    recording.record(ctx, "work", [_opus_rejection(now, source=source)], cred_mtime(roost_env, "work"))
    record = get_records(health_ctx(), ps)[0]
    assert usage.call_count == 1
    assert record.health is Health.OK and record.source == "cache" and record.error is None
    assert (record.session_pct, record.weekly_pct, record.opus_pct) == (50.0, 62.0, 100.0)
    assert [(m["model"], m["pct"], m["active"]) for m in record.model_limits] == [("Claude Opus 4.7", 100.0, True)]
    assert record.model_limits[0]["resets_at"] == passive.iso(now + 86400)
    assert any(pct >= 100 for _, pct, _ in model_usage(record, "opus"))
    assert not model_usage(record, "sonnet")
    assert "added" in record.evidence and "Opus only" in record.evidence
    health_ctx.clock.advance(300)  # the probe's ok has expired: a new probe decides (and its limits[] says 40 %)
    record = get_records(health_ctx(), ps)[0]
    assert usage.call_count == 2 and record.source == "probe" and record.model_limits[0]["pct"] == 40


def test_a_model_week_rejection_never_clears_a_limit_or_invents_a_model_entry(roost_env, health_ctx, usage):
    ctx, ps = setup(roost_env, health_ctx, "work")
    get_records(ctx, ps)
    health_ctx.clock.advance(5)
    now = health_ctx.clock()
    session = parse_stream_event(rate_limit_event("rejected", "five_hour", 1.0, resets_in=900, now=now), now)
    recording.record(ctx, "work", [session], cred_mtime(roost_env, "work"))
    health_ctx.clock.advance(5)
    now = health_ctx.clock()
    recording.record(ctx, "work", [_opus_rejection(now, source="hook")], cred_mtime(roost_env, "work"))
    record = get_records(health_ctx(), ps)[0]
    assert record.health is Health.SESSION_LIMIT and record.source == "stream"  # the decisive reading stands
    assert [(m["model"], m["pct"]) for m in record.model_limits] == [("Opus", 100.0)]  # no probe entry: one added


def test_a_model_week_rejection_without_a_valid_probe_probes(roost_env, health_ctx, usage):
    ctx, ps = setup(roost_env, health_ctx, "fresh")  # never probed
    now = health_ctx.clock()
    recording.record(ctx, "fresh", [_opus_rejection(now)], cred_mtime(roost_env, "fresh"))
    record = get_records(health_ctx(), ps)[0]
    assert usage.call_count == 1 and record.source == "probe" and record.health is Health.OK


def test_a_model_week_whose_reset_passed_adds_nothing(roost_env, health_ctx, usage):
    ctx, ps = setup(roost_env, health_ctx, "work")
    get_records(ctx, ps)
    health_ctx.clock.advance(5)
    now = health_ctx.clock()
    recording.record(ctx, "work", [_opus_rejection(now, resets_in=10)], cred_mtime(roost_env, "work"))
    health_ctx.clock.advance(20)
    record = get_records(health_ctx(), ps)[0]
    assert record.health is Health.OK and record.opus_pct is None and record.model_limits == []
