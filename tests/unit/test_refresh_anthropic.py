"""The "anthropic" token refresher: the request it sends and how it classifies every answer."""

from __future__ import annotations

import json

import pytest

from roost_core.context import RoostContext
from roost_core.errors import RefreshAmbiguous, RefreshNotAttempted, RefreshRejected, ValidationError
from roost_core.http import HttpResult
from roost_plugins.anthropic.refresh import CLIENT_ID, SCOPE, AnthropicRefresher, grant_from_result, retry_after_s
from roost_plugins.fakeserver import TokenBehaviour

OLD_REFRESH = "sk-ant-ort01-oldREFRESH-abcdefghijklmnop"
OLD_ACCESS = "sk-ant-oat01-oldACCESS-abcdefghijklmnop"


def _ok(**body) -> HttpResult:
    payload = {"token_type": "Bearer", "access_token": "sk-ant-oat01-NEW-access-0123456789",
               "refresh_token": "sk-ant-ort01-NEW-refresh-0123456789", "expires_in": 28800,
               "scope": "user:inference user:profile"}
    payload.update(body)
    payload = {k: v for k, v in payload.items() if v is not ...}
    return HttpResult(status=200, body=json.dumps(payload).encode(), sent=True)


def test_request_matches_the_real_client(roost_env, fake):
    fake.add_account("a", access_token=OLD_ACCESS, refresh_token=OLD_REFRESH)
    ctx = RoostContext(env=roost_env.env(**fake.env(), CLAUDE_LB_TOKEN_USER_AGENT="axios/9.9"))
    grant = AnthropicRefresher().refresh(OLD_REFRESH, ctx)
    assert grant.refresh_token == fake.live_refresh_token("a") and grant.expires_in == 28800
    (request,) = [r for r in fake.requests if r["path"] == "/v1/oauth/token"]
    assert request["headers"]["content-type"] == "application/json"
    assert request["headers"]["user-agent"] == "axios/9.9"
    assert json.loads(request["body"]) == {"grant_type": "refresh_token", "refresh_token": OLD_REFRESH,
                                           "client_id": CLIENT_ID, "scope": SCOPE}
    assert "TokenGrant(access=…" in repr(grant) and grant.access_token not in repr(grant)


def test_spent_token_is_rejected(roost_env, fake):
    fake.add_account("a", access_token=OLD_ACCESS, refresh_token=OLD_REFRESH)
    fake.rotate_out_of_band("a")
    ctx = RoostContext(env=roost_env.env(**fake.env()))
    with pytest.raises(RefreshRejected):
        AnthropicRefresher().refresh(OLD_REFRESH, ctx)


def test_dropped_after_commit_is_ambiguous(roost_env, fake):
    fake.add_account("a", access_token=OLD_ACCESS, refresh_token=OLD_REFRESH)
    fake.set_token_behaviour("a", TokenBehaviour(drop_after_commit=True))
    ctx = RoostContext(env=roost_env.env(**fake.env()))
    with pytest.raises(RefreshAmbiguous):
        AnthropicRefresher().refresh(OLD_REFRESH, ctx)


def test_hung_server_is_ambiguous_within_the_deadline(roost_env, fake):
    import time

    fake.add_account("a", access_token=OLD_ACCESS, refresh_token=OLD_REFRESH)
    fake.set_token_behaviour("a", TokenBehaviour(delay_s=30))
    ctx = RoostContext(env=roost_env.env(**fake.env(), CLAUDE_LB_REFRESH_DEADLINE="0.5"))
    started = time.monotonic()
    with pytest.raises(RefreshAmbiguous):
        AnthropicRefresher().refresh(OLD_REFRESH, ctx)
    assert time.monotonic() - started < 2


def test_unreachable_endpoint_is_not_attempted(roost_env):
    ctx = RoostContext(env=roost_env.env())  # conftest points at 127.0.0.1:9 (nothing listens)
    with pytest.raises(RefreshNotAttempted) as info:
        AnthropicRefresher().refresh(OLD_REFRESH, ctx)
    assert info.value.details["reason"] in ("connect", "timeout")


def test_plain_http_to_a_remote_host_is_refused(roost_env):
    ctx = RoostContext(env=roost_env.env(CLAUDE_LB_TOKEN_URL="http://example.com/v1/oauth/token"))
    with pytest.raises(ValidationError):
        AnthropicRefresher().refresh(OLD_REFRESH, ctx)


def test_valid_grant():
    grant = grant_from_result(_ok())
    assert grant.access_token.startswith("sk-ant-oat01-NEW") and grant.scope == "user:inference user:profile"


def test_missing_refresh_token_means_keep_the_old_one():
    assert grant_from_result(_ok(refresh_token=...)).refresh_token is None


@pytest.mark.parametrize("body", [
    {"access_token": ""}, {"access_token": None}, {"access_token": 5}, {"access_token": "has space"},
    {"access_token": "x" * 5000}, {"refresh_token": ""}, {"refresh_token": 7},
    {"expires_in": "abc"}, {"expires_in": "28800"}, {"expires_in": -5}, {"expires_in": 0},
    {"expires_in": 1e308}, {"expires_in": True}, {"expires_in": None}, {"expires_in": ...},
    {"scope": ["a"]}, {"token_type": "mac"},
])
def test_invalid_200_bodies_are_ambiguous(body):
    with pytest.raises(RefreshAmbiguous) as info:
        grant_from_result(_ok(**body))
    assert info.value.details["reason"] == "invalid_response"


@pytest.mark.parametrize("raw", [b"<html>502</html>", b"[]", b"", b"\xff\xfe", b'{"expires_in": NaN}'])
def test_non_json_200_is_ambiguous(raw):
    with pytest.raises(RefreshAmbiguous):
        grant_from_result(HttpResult(status=200, body=raw, sent=True))


def test_truncated_200_is_ambiguous():
    with pytest.raises(RefreshAmbiguous):
        grant_from_result(HttpResult(status=200, body=b'{"access', error="too_large", sent=True))


@pytest.mark.parametrize("status,body,exc,reason", [
    (400, {"error": "invalid_grant", "error_description": "Refresh token not found or invalid"},
     RefreshRejected, "invalid_grant"),
    (400, {"error": {"type": "invalid_request_error", "message": "Invalid request format"}},
     RefreshNotAttempted, "request_rejected"),
    (400, {"error": "invalid_scope"}, RefreshNotAttempted, "request_rejected"),
    (404, {}, RefreshNotAttempted, "request_rejected"),
    (429, {"error": {"type": "rate_limit_error"}}, RefreshNotAttempted, "rate_limited"),
    (500, {}, RefreshAmbiguous, "server_error"),
    (503, {}, RefreshAmbiguous, "server_error"),
    (302, {}, RefreshAmbiguous, "unexpected_status"),
])
def test_status_classification(status, body, exc, reason):
    with pytest.raises(exc) as info:
        grant_from_result(HttpResult(status=status, body=json.dumps(body).encode(), sent=True))
    assert info.value.details["reason"] == reason


def test_server_text_is_never_echoed():
    echo = "sk-ant-ort01-ECHOEDsecretVALUE-123456789"
    with pytest.raises(RefreshNotAttempted) as info:
        grant_from_result(HttpResult(status=400, body=json.dumps({"error": echo}).encode(), sent=True))
    assert echo not in info.value.message and echo not in json.dumps(info.value.details)


@pytest.mark.parametrize("error,sent,exc", [("timeout", True, RefreshAmbiguous), ("protocol", True, RefreshAmbiguous),
                                            ("connect", False, RefreshNotAttempted),
                                            ("timeout", False, RefreshNotAttempted)])
def test_transport_errors(error, sent, exc):
    with pytest.raises(exc):
        grant_from_result(HttpResult(error=error, sent=sent))


@pytest.mark.parametrize("value,expected", [("30", 30.0), ("0", 60.0), ("", 60.0), ("soon", 60.0),
                                            ("-4", 60.0), ("Thu, 01 Jan 1970 00:00:00 GMT", 60.0)])
def test_retry_after(value, expected):
    assert retry_after_s({"retry-after": value} if value else {}) == expected
