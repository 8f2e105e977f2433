"""The eight-state classifier: every state, its TTL, and the documented order (docs/health.md)."""

from __future__ import annotations

import email.utils
import json

import pytest

from roost_core.records import Health, ProbeOutcome
from roost_plugins.anthropic.usage import iso_utc
from roost_plugins.anthropic.taxonomy import classify_outcome, retry_after_seconds, roost_classify

NOW = 1_790_000_000.0


def outcome(status=200, body=None, headers=None, **kw) -> ProbeOutcome:
    raw = body if isinstance(body, bytes) else json.dumps(body if body is not None else {}).encode()
    return ProbeOutcome("anthropic", status=status, body=raw, headers=headers or {}, **kw)


def usage(session=10.0, weekly=20.0, session_reset=NOW + 3600, weekly_reset=NOW + 86400):
    def window(u, r):
        return {"utilization": u, "resets_at": iso_utc(r) if isinstance(r, float) else r}
    return {"five_hour": window(session, session_reset), "seven_day": window(weekly, weekly_reset)}


def test_ok_five_minutes():
    verdict = classify_outcome(outcome(body=usage()), NOW)
    assert verdict.health is Health.OK and verdict.ttl_s == 300
    assert verdict.usage.session_pct == 10.0 and verdict.error is None and verdict.reasons


def test_session_limit_until_its_reset():
    verdict = classify_outcome(outcome(body=usage(session=100.0)), NOW)
    assert verdict.health is Health.SESSION_LIMIT
    assert verdict.ttl_s == pytest.approx(3600, abs=1)


def test_weekly_limit_until_its_reset_and_wins_over_session():
    verdict = classify_outcome(outcome(body=usage(session=100.0, weekly=100.0)), NOW)
    assert verdict.health is Health.WEEKLY_LIMIT
    assert verdict.ttl_s == pytest.approx(86400, abs=1)


@pytest.mark.parametrize("reset,ttl", [(None, 300), (NOW - 10, 60)])
def test_limit_with_missing_or_past_reset(reset, ttl):
    verdict = classify_outcome(outcome(body=usage(session=100.0, session_reset=reset)), NOW)
    assert verdict.health is Health.SESSION_LIMIT and verdict.ttl_s == ttl


def test_auth_dead_on_401_manual_ttl():
    body = {"type": "error", "error": {"type": "authentication_error", "message": "Invalid authentication credentials"}}
    verdict = classify_outcome(outcome(401, body), NOW)
    assert verdict.health is Health.AUTH_DEAD and verdict.ttl_s is None
    assert verdict.error == "Invalid authentication credentials"


@pytest.mark.parametrize("message", ["OAuth token does not meet scope requirement user:profile",
                                     "OAuth token does not meet scope requirement\n    user:profile"])
def test_403_scope_is_ok_without_usage(message):
    body = {"type": "error", "error": {"type": "permission_error", "message": message}}
    verdict = classify_outcome(outcome(403, body), NOW)
    assert verdict.health is Health.OK and verdict.usage is None and verdict.ttl_s == 300


def test_403_revoked_is_auth_dead_and_other_403_unknown():
    revoked = classify_outcome(outcome(403, b"OAuth token has been revoked"), NOW)
    assert revoked.health is Health.AUTH_DEAD
    other = classify_outcome(outcome(403, {"error": {"type": "permission_error", "message": "nope"}}), NOW)
    assert other.health is Health.UNKNOWN and other.ttl_s == 60


@pytest.mark.parametrize("header,seconds", [
    (None, 60), ("0", 60), ("junk", 60), ("-5", 60), ("30", 30), ("1600", 1600), ("2.5", 2.5),
])
def test_429_retry_after(header, seconds):
    headers = {"retry-after": header} if header is not None else {}
    verdict = classify_outcome(outcome(429, {"error": {"type": "rate_limit_error"}}, headers), NOW)
    assert verdict.health is Health.RATE_LIMITED
    # The next probe is retry-after plus a random 5-15 % of it, never the deadline itself.
    assert seconds * 1.05 <= verdict.ttl_s <= seconds * 1.15 and verdict.retry_after_s == seconds


@pytest.mark.parametrize("header", ["1000000000000", "604800", "600000", "1e12"])
@pytest.mark.parametrize("share", [0.05, 0.15])
def test_429_huge_retry_after_is_capped_before_the_margin(header, share, monkeypatch):
    """A Retry-After past the cap: the deadline is capped first, so the next probe is still 5-15 %
    after it (capping the sum put it exactly at the deadline) and within the week."""
    from roost_plugins.anthropic import taxonomy

    monkeypatch.setattr("random.uniform", lambda low, high: share)
    verdict = classify_outcome(outcome(429, {"error": {"type": "rate_limit_error"}}, {"retry-after": header}), NOW)
    deadline = verdict.retry_after_s
    assert deadline == pytest.approx(taxonomy.MAX_RETRY_AFTER_S / 1.15)
    assert verdict.ttl_s == pytest.approx(deadline * (1 + share)) and verdict.ttl_s > deadline
    assert verdict.ttl_s <= taxonomy.MAX_RETRY_AFTER_S + 1e-6
    assert any("capped" in reason for reason in verdict.reasons)


def test_429_retry_after_http_date():
    date = email.utils.formatdate(NOW + 120, usegmt=True)
    assert retry_after_seconds(date, NOW) == pytest.approx(120, abs=1)
    assert retry_after_seconds(email.utils.formatdate(NOW - 120, usegmt=True), NOW) is None


@pytest.mark.parametrize("error", ["timeout", "connect", "dns", "tls", "protocol"])
def test_network_error_thirty_seconds(error):
    verdict = classify_outcome(ProbeOutcome("anthropic", error=error, error_detail="x"), NOW)
    assert verdict.health is Health.NETWORK_ERROR and verdict.ttl_s == 30


def test_local_expiry_needs_no_response():
    verdict = classify_outcome(ProbeOutcome("local", local_expired=True), NOW)
    assert verdict.health is Health.AUTH_EXPIRED and verdict.ttl_s is None


def test_order_network_exception_before_local_expiry_before_status():
    both = ProbeOutcome("anthropic", error="timeout", local_expired=True, status=200)
    assert classify_outcome(both, NOW).health is Health.NETWORK_ERROR
    expired_with_body = outcome(200, usage(), local_expired=True)
    assert classify_outcome(expired_with_body, NOW).health is Health.AUTH_EXPIRED


@pytest.mark.parametrize("status,body", [(500, {"type": "error", "error": {"type": "api_error"}}),
                                         (529, {}), (404, b"<html>"), (200, b"not json{"), (200, b"[1,2]"),
                                         (302, b"")])
def test_unknown_sixty_seconds(status, body):
    verdict = classify_outcome(outcome(status, body), NOW)
    assert verdict.health is Health.UNKNOWN and verdict.ttl_s == 60


def test_body_over_cap_and_broken_source_are_unknown():
    assert classify_outcome(outcome(200, b"{", error="too_large"), NOW).health is Health.UNKNOWN
    assert classify_outcome(ProbeOutcome("x", error="plugin", error_detail="boom"), NOW).health is Health.UNKNOWN


def test_hook_is_trylast():
    assert roost_classify.roost_impl["trylast"] is True


@pytest.mark.parametrize("body,error", [
    ({"five_hour": {"utilization": "lots", "resets_at": 12}, "seven_day": "x", "extra_usage": 5},
     "malformed usage body: five_hour.utilization is not a number"),
    ({"five_hour": {"utilization": "100"}, "seven_day": {"utilization": "50.0"}},
     "malformed usage body: five_hour.utilization is not a number"),
    ({"five_hour": {"utilization": -5, "resets_at": None}, "seven_day": {"utilization": 20.0, "resets_at": None}},
     "malformed usage body: five_hour.utilization is negative"),
    ({"five_hour": {"utilization": 10.0}, "seven_day": [{"utilization": 100}]},
     "malformed usage body: seven_day is not an object"),
    ({"five_hour": {"utilization": 10.0}, "seven_day": {"utilization": False}},
     "malformed usage body: seven_day.utilization is not a number"),
])
def test_malformed_200_is_unknown_naming_the_field(body, error):
    """docs/health.md "Malformed bodies": these used to classify ok (one with a 1970 session reset,
    one an exhausted session sent as "100" reading as healthy, one with session_pct -5)."""
    verdict = classify_outcome(outcome(body=body), NOW)
    assert verdict.health is Health.UNKNOWN and verdict.ttl_s == 60
    assert verdict.error == error and verdict.usage is None
    assert error.split(": ", 1)[1] in verdict.reasons[0]


def test_a_bad_resets_at_is_ignored_not_1970():
    verdict = classify_outcome(outcome(body=usage(session=100.0, session_reset=12)), NOW)
    assert verdict.health is Health.SESSION_LIMIT and verdict.ttl_s == 300  # "resets_at missing"
    assert verdict.usage.session_resets_at is None
    ok = classify_outcome(outcome(body=usage(session_reset=12, weekly_reset="junk")), NOW)
    assert ok.health is Health.OK and ok.usage.session_resets_at is None and ok.usage.weekly_resets_at is None


def test_above_100_and_null_figures_stay_classified_as_before():
    assert classify_outcome(outcome(body=usage(session=130.0)), NOW).health is Health.SESSION_LIMIT
    body = {"five_hour": {"utilization": None, "resets_at": None}, "seven_day": None, "seven_day_opus": None}
    assert classify_outcome(outcome(body=body), NOW).health is Health.OK


def test_string_is_enabled_gives_no_overage():
    body = {**usage(), "extra_usage": {"is_enabled": "false", "monthly_limit": 1000, "used_credits": 900,
                                       "utilization": 90.0}}
    verdict = classify_outcome(outcome(body=body), NOW)
    assert verdict.health is Health.OK
    assert verdict.usage.overage_enabled is False and verdict.usage.overage_pct is None
