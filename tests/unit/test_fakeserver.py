"""The fake Anthropic server behaves as its module docstring says.

Every test talks HTTP to a real running instance through httpx, because the
e2e suite relies on the wire behaviour (drops, hangs, drips, races), not on
the Python objects.
"""

from __future__ import annotations

import email.utils
import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from roost_plugins.fakeserver import FakeAnthropic, Scenario, TokenBehaviour

UA = "claude-code/2.1.74"
CLIENT_ID = "9d1c250a-e61b-44d9-88ed-5944d1962f5e"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fake():
    with FakeAnthropic() as server:
        yield server


@pytest.fixture(scope="module")
def client():
    """One pool for the module: building an httpx.Client costs ~30 ms (TLS setup)."""
    with httpx.Client(timeout=5, verify=False, limits=httpx.Limits(max_connections=200)) as c:
        yield c


def usage(client, fake, token, ua=UA, **kw):
    headers = {"User-Agent": ua, "anthropic-beta": "oauth-2025-04-20", "Accept": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return client.get(fake.base_url + "/api/oauth/usage", headers=headers, **kw)


def refresh(client, fake, token, **kw):
    body = {"grant_type": "refresh_token", "refresh_token": token, "client_id": CLIENT_ID,
            "scope": "user:profile user:inference"}
    return client.post(fake.token_url, json=body, **kw)


def scripted(fake, scenario, token="tok-1"):
    fake.set_usage(token, scenario)
    return token


def parse_iso(value):
    moment = datetime.fromisoformat(value)
    assert moment.utcoffset() == timedelta(0) and value.endswith("+00:00")
    assert "." in value  # microseconds always present
    return moment


# --------------------------------------------------------------------------- #
# lifecycle and endpoints
# --------------------------------------------------------------------------- #


def test_urls_and_env(fake):
    assert fake.base_url == f"http://127.0.0.1:{fake.port}"
    assert fake.token_url == fake.base_url + "/v1/oauth/token"
    assert fake.status_url == fake.base_url + "/api/v2/summary.json"
    assert fake.env() == {
        "CLAUDE_LB_API_BASE": fake.base_url,
        "CLAUDE_LB_TOKEN_URL": fake.token_url,
        "CLAUDE_LB_STATUS_URL": fake.status_url,
    }


def test_base_url_before_start_raises():
    with pytest.raises(RuntimeError):
        FakeAnthropic().base_url


def test_stop_is_idempotent_and_unstarted_stop_is_noop():
    FakeAnthropic().stop()
    server = FakeAnthropic().start()
    server.stop()
    server.stop()


def test_unknown_path_is_404_json(fake, client):
    resp = client.get(fake.base_url + "/nope")
    assert resp.status_code == 404
    assert resp.json()["error"]["type"] == "not_found_error"


# --------------------------------------------------------------------------- #
# usage scenarios
# --------------------------------------------------------------------------- #


def test_ok_default_body(fake, client):
    resp = usage(client, fake, scripted(fake, Scenario.ok()))
    assert resp.status_code == 200
    body = resp.json()
    assert body["five_hour"]["utilization"] == 10.0
    assert body["seven_day"]["utilization"] == 20.0
    for key in ("seven_day_sonnet", "seven_day_opus", "seven_day_oauth_apps"):
        assert key in body and body[key] is None
    assert body["extra_usage"] == {"is_enabled": False, "monthly_limit": None,
                                   "used_credits": None, "utilization": None}
    now = datetime.now(timezone.utc)
    session_reset = parse_iso(body["five_hour"]["resets_at"])
    weekly_reset = parse_iso(body["seven_day"]["resets_at"])
    assert abs(session_reset - (now + timedelta(hours=2))) < timedelta(seconds=30)
    assert abs(weekly_reset - (now + timedelta(days=3))) < timedelta(seconds=30)
    assert "limits" not in body


def test_ok_all_options(fake, client):
    limits = [{"kind": "session", "group": "session", "percent": 11, "resets_at": None,
               "scope": {"model": {"id": None, "display_name": "ExampleModel"}}, "is_active": True}]
    scenario = Scenario.ok(session=37, weekly=62, sonnet=12, opus=5, overage=25,
                           session_resets_at=None, weekly_resets_at="2026-05-08T09:00:00.412251+00:00",
                           limits=limits, extra_fields={"iguana_necktie": None, "spend": {"x": 1}})
    body = usage(client, fake, scripted(fake, scenario)).json()
    assert body["five_hour"] == {"utilization": 37.0, "resets_at": None}
    assert body["seven_day"]["resets_at"] == "2026-05-08T09:00:00.412251+00:00"
    assert body["seven_day_sonnet"] == {"utilization": 12.0, "resets_at": "2026-05-08T09:00:00.412251+00:00"}
    assert body["seven_day_opus"]["utilization"] == 5.0
    assert body["extra_usage"] == {"is_enabled": True, "monthly_limit": 5000, "used_credits": 1250.0,
                                   "utilization": 25.0, "currency": "USD"}
    assert body["limits"] == limits
    assert body["iguana_necktie"] is None and body["spend"] == {"x": 1}


def test_ok_extra_replaces_extra_usage_and_numeric_resets(fake, client):
    extra = {"is_enabled": False, "disabled_reason": "out_of_credits"}
    body = usage(client, fake, scripted(fake, Scenario.ok(extra=extra, session_resets_at=60))).json()
    assert body["extra_usage"] == extra
    reset = parse_iso(body["five_hour"]["resets_at"])
    assert timedelta(seconds=30) < reset - datetime.now(timezone.utc) < timedelta(seconds=90)


def test_session_and_weekly_exhausted(fake, client):
    fake.set_usage("s", Scenario.session_exhausted())
    fake.set_usage("w", Scenario.weekly_exhausted())
    s, w = usage(client, fake, "s").json(), usage(client, fake, "w").json()
    assert (s["five_hour"]["utilization"], s["seven_day"]["utilization"]) == (100.0, 71.0)
    assert (w["five_hour"]["utilization"], w["seven_day"]["utilization"]) == (20.0, 100.0)


@pytest.mark.parametrize("scenario, message", [
    (Scenario.unauthorized(), "OAuth token has expired. Please obtain a new token or refresh your existing token."),
    (Scenario.unauthorized("custom"), "custom"),
    (Scenario.invalid_credentials(), "Invalid authentication credentials"),
])
def test_unauthorized_envelopes(fake, client, scenario, message):
    resp = usage(client, fake, scripted(fake, scenario))
    assert resp.status_code == 401
    body = resp.json()
    assert body["type"] == "error" and body["request_id"].startswith("req_")
    assert body["error"] == {"type": "authentication_error", "message": message}


@pytest.mark.parametrize("newline, message", [
    (False, "OAuth token does not meet scope requirement user:profile"),
    (True, "OAuth token does not meet scope requirement\n    user:profile"),
])
def test_forbidden_scope(fake, client, newline, message):
    resp = usage(client, fake, scripted(fake, Scenario.forbidden_scope(newline=newline)))
    assert resp.status_code == 403
    error = resp.json()["error"]
    assert error["type"] == "permission_error" and error["message"] == message
    assert error["details"] == {"error_visibility": "user_facing"}


@pytest.mark.parametrize("retry_after", [None, "0", "30", "http-date"])
def test_rate_limited(fake, client, retry_after):
    if retry_after == "http-date":  # built at run time: a collection-time date differs between xdist workers
        retry_after = Scenario.http_date(120)
    resp = usage(client, fake, scripted(fake, Scenario.rate_limited(retry_after)))
    assert resp.status_code == 429
    assert resp.json() == {"error": {"message": "Rate limited. Please try again later.",
                                     "type": "rate_limit_error"}}
    assert resp.headers.get("retry-after") == retry_after


def test_http_date_is_rfc7231():
    value = Scenario.http_date(60)
    assert value.endswith(" GMT")
    delta = email.utils.parsedate_to_datetime(value) - datetime.now(timezone.utc)
    assert timedelta(seconds=55) < delta < timedelta(seconds=65)


@pytest.mark.parametrize("status, error_type", [(500, "api_error"), (503, "api_error"), (529, "overloaded_error")])
def test_server_error(fake, client, status, error_type):
    resp = usage(client, fake, scripted(fake, Scenario.server_error(status)))
    assert resp.status_code == status
    assert resp.json()["error"]["type"] == error_type


def test_malformed_and_not_object(fake, client):
    fake.set_usage("m", Scenario.malformed())
    fake.set_usage("n", Scenario.not_object())
    m, n = usage(client, fake, "m"), usage(client, fake, "n")
    assert (m.status_code, m.content) == (200, b"not json{")
    assert (n.status_code, n.json()) == (200, [1, 2])


def test_oversized_is_valid_json_of_exact_size(fake, client):
    resp = usage(client, fake, scripted(fake, Scenario.oversized(nbytes=300_000)))
    assert resp.status_code == 200
    assert resp.headers["content-length"] == "300000" and len(resp.content) == 300_000
    assert resp.json()["five_hour"]["utilization"] == 10.0


def test_oversized_client_may_hang_up_early(fake, client):
    token = scripted(fake, Scenario.oversized())
    with client.stream("GET", fake.base_url + "/api/oauth/usage",
                       headers={"Authorization": f"Bearer {token}"}) as resp:
        assert resp.headers["content-length"] == "5000000"
        first = next(resp.iter_raw(1024))
        assert first.startswith(b'{"five_hour"')
    # the server survives the hang-up
    assert usage(client, fake, scripted(fake, Scenario.ok(), "other")).status_code == 200


def test_hang_times_out(fake, client):
    token = scripted(fake, Scenario.hang())
    with pytest.raises(httpx.ReadTimeout):
        usage(client, fake, token, timeout=0.2)


def test_drop_closes_without_response(fake, client):
    token = scripted(fake, Scenario.drop())
    with pytest.raises(httpx.RemoteProtocolError):
        usage(client, fake, token)
    assert fake.count_token(token) == 1


def test_drip_sends_headers_then_one_byte_per_interval(fake, client):
    token = scripted(fake, Scenario.drip(interval=0.05))
    start = time.monotonic()
    with client.stream("GET", fake.base_url + "/api/oauth/usage",
                       headers={"Authorization": f"Bearer {token}"}) as resp:
        assert resp.status_code == 200 and time.monotonic() - start < 0.2
        total = int(resp.headers["content-length"])
        got = b""
        for chunk in resp.iter_raw():
            assert len(chunk) == 1
            got += chunk
            if len(got) == 4:
                break
        assert time.monotonic() - start >= 0.15
    assert total > 100 and got == b'{"fi'


def test_with_delay(fake, client):
    scenario = Scenario.ok().with_delay(0.15)
    assert scenario.delay_s == 0.15 and Scenario.ok().delay_s == 0.0
    start = time.monotonic()
    assert usage(client, fake, scripted(fake, scenario)).status_code == 200
    assert time.monotonic() - start >= 0.15


def test_missing_bearer_and_unknown_token_are_401(fake, client):
    assert usage(client, fake, None).status_code == 401
    resp = client.get(fake.base_url + "/api/oauth/usage", headers={"Authorization": "Basic abc"})
    assert resp.status_code == 401
    resp = usage(client, fake, "never-seen")
    assert resp.status_code == 401
    assert resp.json()["error"]["message"] == "Invalid authentication credentials"


def test_headers_are_recorded_lower_case(fake, client):
    usage(client, fake, scripted(fake, Scenario.ok()))
    (req,) = fake.requests
    assert req["method"] == "GET" and req["path"] == "/api/oauth/usage"
    assert req["headers"]["user-agent"] == UA
    assert req["headers"]["anthropic-beta"] == "oauth-2025-04-20"
    assert req["headers"]["authorization"] == "Bearer tok-1"
    assert req["body"] == "" and isinstance(req["t"], float)


def test_strict_user_agent(client):
    with FakeAnthropic(strict_user_agent=True) as strict:
        strict.set_usage("t", Scenario.ok())
        bad = usage(client, strict, "t", ua="python-httpx/0.28")
        assert bad.status_code == 429 and bad.headers["retry-after"] == "0"
        assert bad.json()["error"]["type"] == "rate_limit_error"
        assert usage(client, strict, "t").status_code == 200
        strict.strict_user_agent = False
        assert usage(client, strict, "t", ua="python-httpx/0.28").status_code == 200
        assert strict.count_token("t") == 3


# --------------------------------------------------------------------------- #
# token endpoint
# --------------------------------------------------------------------------- #


def test_rotation_response_and_token_lifecycle(fake, client):
    fake.add_account("p", access_token="A0", refresh_token="R0", usage=Scenario.ok(session=42))
    resp = refresh(client, fake, "R0")
    assert resp.status_code == 200
    body = resp.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 28800
    assert body["access_token"].startswith("sk-ant-oat01-") and len(body["access_token"]) > 40
    assert body["refresh_token"].startswith("sk-ant-ort01-")
    assert body["scope"] == "user:inference user:profile user:sessions:claude_code user:mcp_servers user:file_upload"
    assert body["organization"]["uuid"] and body["account"]["email_address"] == "p@example.com"
    assert fake.live_access_token("p") == body["access_token"]
    assert fake.live_refresh_token("p") == body["refresh_token"]
    # the old access token is dead, the new one inherits the chain's usage
    assert usage(client, fake, "A0").status_code == 401
    assert usage(client, fake, body["access_token"]).json()["five_hour"]["utilization"] == 42.0
    # the old refresh token is spent
    reuse = refresh(client, fake, "R0")
    assert reuse.status_code == 400
    assert reuse.json() == {"error": "invalid_grant", "error_description": "Refresh token not found or invalid"}
    assert fake.reuse_count == 1
    # the new one still works
    assert refresh(client, fake, body["refresh_token"]).status_code == 200


def test_unknown_refresh_token_is_invalid_grant_without_reuse(fake, client):
    resp = refresh(client, fake, "sk-ant-ort01-unknown")
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_grant"
    assert fake.reuse_count == 0 and fake.token_posts == 1


def test_form_encoded_refresh(fake, client):
    fake.add_account("p", access_token="A0", refresh_token="R0")
    data = {"grant_type": "refresh_token", "refresh_token": "R0", "client_id": CLIENT_ID}
    assert client.post(fake.token_url, data=data).status_code == 200


@pytest.mark.parametrize("body", [
    {"refresh_token": "R0", "client_id": CLIENT_ID},
    {"grant_type": "authorization_code", "refresh_token": "R0", "client_id": CLIENT_ID},
    {"grant_type": "refresh_token", "client_id": CLIENT_ID},
    {"grant_type": "refresh_token", "refresh_token": "R0"},
    "not json",
    [1, 2],
])
def test_invalid_request_format(fake, client, body):
    fake.add_account("p", access_token="A0", refresh_token="R0")
    content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    resp = client.post(fake.token_url, content=content, headers={"Content-Type": "application/json"})
    assert resp.status_code == 400
    assert resp.json() == {"error": "invalid_request", "error_description": "Invalid request format"}
    assert fake.live_refresh_token("p") == "R0" and fake.rotations == []


def test_fifty_concurrent_refreshes_one_success(fake, client):
    fake.add_account("p", access_token="A0", refresh_token="R0")
    barrier = threading.Barrier(50)
    statuses, errors = [], []
    lock = threading.Lock()

    def worker():
        try:
            barrier.wait()
            resp = refresh(client, fake, "R0")
            with lock:
                statuses.append((resp.status_code, resp.json().get("error")))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert errors == []
    assert statuses.count((200, None)) == 1
    assert statuses.count((400, "invalid_grant")) == 49
    assert fake.token_posts == 50 and fake.token_posts_for("p") == 50
    assert fake.reuse_count == 49 and len(fake.rotations) == 1


def test_drop_after_commit_rotates_but_loses_response(fake, client):
    fake.add_account("p", access_token="A0", refresh_token="R0")
    fake.set_token_behaviour("p", TokenBehaviour(drop_after_commit=True))
    with pytest.raises(httpx.RemoteProtocolError):
        refresh(client, fake, "R0")
    assert fake.live_refresh_token("p") != "R0"
    assert [r["old_refresh"] for r in fake.rotations] == ["R0"]
    assert refresh(client, fake, "R0").json()["error"] == "invalid_grant"


@pytest.mark.parametrize("status, check", [
    (429, lambda r: r.json() == {"error": {"type": "rate_limit_error",
                                           "message": "Rate limited. Please try again later."}}),
    (400, lambda r: r.json()["error"] == "invalid_request"),
    (502, lambda r: r.headers["content-type"].startswith("text/html") and b"<html>" in r.content),
])
def test_status_override_does_not_rotate(fake, client, status, check):
    fake.add_account("p", access_token="A0", refresh_token="R0")
    fake.set_token_behaviour("p", TokenBehaviour(status_override=status))
    resp = refresh(client, fake, "R0")
    assert resp.status_code == status and check(resp)
    assert fake.live_refresh_token("p") == "R0" and fake.rotations == []
    assert usage(client, fake, "A0").status_code == 200


def test_body_override(fake, client):
    fake.add_account("p", access_token="A0", refresh_token="R0")
    fake.token_behaviour["p"] = TokenBehaviour(body_override=b"<html>oops")
    resp = refresh(client, fake, "R0")
    assert (resp.status_code, resp.content) == (200, b"<html>oops")
    assert fake.live_refresh_token("p") == "R0"


def test_expires_in_and_omit_refresh_token(fake, client):
    fake.add_account("p", access_token="A0", refresh_token="R0")
    fake.set_token_behaviour("p", TokenBehaviour(expires_in=-5, omit_refresh_token=True))
    body = refresh(client, fake, "R0").json()
    assert body["expires_in"] == -5 and "refresh_token" not in body
    assert fake.live_refresh_token("p") == "R0"  # no new one issued: the old stays live
    assert fake.live_access_token("p") == body["access_token"]
    assert refresh(client, fake, "R0").status_code == 200


def test_revoke_family_on_reuse(fake, client):
    fake.add_account("p", access_token="A0", refresh_token="R0")
    fake.set_token_behaviour("p", TokenBehaviour(revoke_family_on_reuse=True))
    live = refresh(client, fake, "R0").json()
    assert refresh(client, fake, "R0").json()["error"] == "invalid_grant"
    assert usage(client, fake, live["access_token"]).status_code == 401
    assert refresh(client, fake, live["refresh_token"]).json()["error"] == "invalid_grant"
    assert fake.reuse_count == 2


def test_without_family_revocation_the_winner_survives_reuse(fake, client):
    fake.add_account("p", access_token="A0", refresh_token="R0")
    live = refresh(client, fake, "R0").json()
    refresh(client, fake, "R0")
    assert usage(client, fake, live["access_token"]).status_code == 200


def test_before_commit_hook_can_rotate_out_of_band(fake, client):
    fake.add_account("p", access_token="A0", refresh_token="R0")
    seen = []

    def hook(label):
        seen.append(label)
        seen.append(fake.rotate_out_of_band(label))

    fake.set_token_behaviour("p", TokenBehaviour(before_commit=hook))
    resp = refresh(client, fake, "R0")
    assert resp.json()["error"] == "invalid_grant"
    label, (access, refresh_token) = seen
    assert label == "p" and fake.live_refresh_token("p") == refresh_token
    assert fake.reuse_count == 1
    assert [r["source"] for r in fake.rotations] == ["out_of_band"]


def test_rotate_out_of_band(fake, client):
    fake.add_account("p", access_token="A0", refresh_token="R0", usage=Scenario.ok(weekly=55))
    access, refresh_token = fake.rotate_out_of_band("p")
    assert access.startswith("sk-ant-oat01-") and refresh_token.startswith("sk-ant-ort01-")
    assert usage(client, fake, access).json()["seven_day"]["utilization"] == 55.0
    assert usage(client, fake, "A0").status_code == 401
    assert refresh(client, fake, "R0").json()["error"] == "invalid_grant"
    assert fake.rotations[0]["old_refresh"] == "R0" and fake.rotations[0]["new_refresh"] == refresh_token


def test_set_chain_usage_covers_current_and_future_tokens(fake, client):
    fake.add_account("p", access_token="A0", refresh_token="R0")
    fake.set_usage("A0", Scenario.rate_limited("0"))
    assert usage(client, fake, "A0").status_code == 429
    fake.set_chain_usage("p", Scenario.session_exhausted())
    assert usage(client, fake, "A0").json()["five_hour"]["utilization"] == 100.0
    new_access = refresh(client, fake, "R0").json()["access_token"]
    assert usage(client, fake, new_access).json()["five_hour"]["utilization"] == 100.0


def test_token_delay_and_drip(fake, client):
    fake.add_account("p", access_token="A0", refresh_token="R0")
    fake.set_token_behaviour("p", TokenBehaviour(delay_s=0.1, drip=True, drip_interval_s=0.02))
    start = time.monotonic()
    body = {"grant_type": "refresh_token", "refresh_token": "R0", "client_id": CLIENT_ID}
    with client.stream("POST", fake.token_url, json=body) as resp:
        assert time.monotonic() - start >= 0.1
        raw = resp.iter_raw()
        first = [next(raw) for _ in range(3)]
    assert first == [b"{", b'"', b"t"]
    assert fake.live_refresh_token("p") != "R0"  # committed before dripping


# --------------------------------------------------------------------------- #
# status page
# --------------------------------------------------------------------------- #


def test_status_default(fake, client):
    body = client.get(fake.status_url).json()
    assert body["status"] == {"indicator": "none", "description": "All Systems Operational"}
    assert [c["name"] for c in body["components"]] == ["claude.ai", "Claude API (api.anthropic.com)", "Claude Code"]
    assert {c["status"] for c in body["components"]} == {"operational"}
    assert body["incidents"] == [] and body["page"]["url"] == "https://status.claude.com"


def test_status_degraded_with_incident(fake, client):
    fake.set_status("minor", "Partially Degraded Service",
                    incidents=[{"name": "Elevated errors on the API", "impact": "minor"}],
                    degraded=[("Claude API (api.anthropic.com)", "degraded_performance"),
                              ("platform.claude.com", "major_outage")])
    body = client.get(fake.status_url).json()
    assert body["status"]["indicator"] == "minor"
    statuses = {c["name"]: c["status"] for c in body["components"]}
    assert statuses["Claude API (api.anthropic.com)"] == "degraded_performance"
    assert statuses["platform.claude.com"] == "major_outage"
    assert statuses["claude.ai"] == "operational"
    (incident,) = body["incidents"]
    assert incident["name"] == "Elevated errors on the API" and incident["status"] == "investigating"
    assert incident["id"] and incident["shortlink"].startswith("https://stspg.io/")
    assert incident["created_at"].endswith("Z") and incident["resolved_at"] is None
    small = client.get(fake.base_url + "/api/v2/status.json").json()
    assert set(small) == {"page", "status"}


def test_status_http_error_and_hang(fake, client):
    fake.set_status(http_status=503)
    resp = client.get(fake.status_url)
    assert resp.status_code == 503 and resp.headers["content-type"].startswith("text/html")
    fake.set_status(hang=True)
    with pytest.raises(httpx.ReadTimeout):
        client.get(fake.status_url, timeout=0.2)


# --------------------------------------------------------------------------- #
# counters
# --------------------------------------------------------------------------- #


def test_counters_and_reset(fake, client):
    fake.add_account("p", access_token="A0", refresh_token="R0")
    fake.add_account("q", access_token="B0", refresh_token="S0")
    usage(client, fake, "A0")
    usage(client, fake, "A0")
    refresh(client, fake, "R0")
    refresh(client, fake, "R0")
    refresh(client, fake, "nobody")
    client.get(fake.status_url)
    assert fake.count("GET", "/api/oauth/usage") == 2
    assert fake.count("POST", "/v1/oauth/token") == 3 == fake.token_posts
    assert fake.count("GET", "/api/v2/summary.json") == 1
    assert fake.count_token("A0") == 2 and fake.count_token("B0") == 0
    assert fake.token_posts_for("p") == 2 and fake.token_posts_for("q") == 0
    assert fake.reuse_count == 1
    assert [r["path"] for r in fake.requests][:3] == ["/api/oauth/usage", "/api/oauth/usage", "/v1/oauth/token"]
    assert json.loads(fake.requests[2]["body"])["refresh_token"] == "R0"
    (rotation,) = fake.rotations
    assert rotation["label"] == "p" and abs(rotation["t"] - time.time()) < 5
    fake.requests.clear()  # a copy: the log is unaffected
    assert len(fake.requests) == 6
    fake.reset_counters()
    assert (fake.token_posts, fake.reuse_count, fake.requests, fake.rotations) == (0, 0, [], [])
    assert fake.count("GET", "/api/oauth/usage") == 0 and fake.count_token("A0") == 0
    assert fake.live_access_token("q") == "B0"  # state survives a counter reset


# --------------------------------------------------------------------------- #
# serialisation and the CLI
# --------------------------------------------------------------------------- #

ALL_SCENARIOS = [
    Scenario.ok(), Scenario.ok(session=None, overage=3.5, limits=[], extra_fields={"a": 1}),
    Scenario.session_exhausted(), Scenario.weekly_exhausted(), Scenario.unauthorized(),
    Scenario.invalid_credentials(), Scenario.forbidden_scope(newline=True),
    Scenario.rate_limited("0"), Scenario.rate_limited(), Scenario.server_error(503),
    Scenario.malformed(), Scenario.not_object(), Scenario.oversized(10), Scenario.hang(),
    Scenario.drop(), Scenario.drip(0.1), Scenario.ok().with_delay(0.25),
]


@pytest.mark.parametrize("scenario", ALL_SCENARIOS)
def test_scenario_json_round_trip(scenario):
    data = json.loads(json.dumps(scenario.to_dict()))
    assert Scenario.from_dict(data) == scenario


def test_scenario_from_dict_by_constructor_name_and_rejects_unknown():
    assert Scenario.from_dict({"kind": "session_exhausted", "weekly": 50}) == Scenario.session_exhausted(50)
    with pytest.raises(ValueError):
        Scenario.from_dict({"kind": "reply"})
    with pytest.raises(ValueError):
        Scenario("bogus")


def test_token_behaviour_round_trip():
    behaviour = TokenBehaviour(delay_s=0.3, status_override=429, body_override=b"x", before_commit=print)
    back = TokenBehaviour.from_dict(json.loads(json.dumps(behaviour.to_dict())))
    assert back == TokenBehaviour(delay_s=0.3, status_override=429, body_override=b"x")


SCRIPT = {
    "strict_user_agent": True,
    "accounts": [
        {"label": "work", "access_token": "A1", "refresh_token": "R1", "usage": Scenario.ok(session=5).to_dict()},
        {"label": "home", "access_token": "A2", "refresh_token": "R2",
         "usage": Scenario.rate_limited("30").to_dict()},
        {"label": "bare", "access_token": "A3", "refresh_token": "R3", "usage": None},
    ],
    "token_behaviour": {"home": TokenBehaviour(delay_s=0.01).to_dict()},
    "status": {"indicator": "major", "description": "Major Service Outage", "incidents": [{"name": "x"}],
               "degraded": [["Claude Code", "major_outage"]], "http_status": 200, "hang": False},
}


def test_script_round_trip(fake, client):
    fake.load_script(json.loads(json.dumps(SCRIPT)))
    assert fake.to_script() == SCRIPT
    assert usage(client, fake, "A1", ua="curl/8").status_code == 429  # strict UA from the script
    assert usage(client, fake, "A1").json()["five_hour"]["utilization"] == 5.0
    assert usage(client, fake, "A2").headers["retry-after"] == "30"
    assert usage(client, fake, "A3").status_code == 200
    assert client.get(fake.status_url).json()["status"]["indicator"] == "major"


def test_main_serves_script_until_interrupted(tmp_path):
    script = tmp_path / "fleet.json"
    script.write_text(json.dumps(SCRIPT))
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "roost_plugins.fakeserver", "--port", "0", "--script", str(script)]
    # SIGINT's disposition is set in the process we signal (a background job inherits it ignored).
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)) as proc:
        try:
            base = proc.stdout.readline().strip()
            assert base.startswith("http://127.0.0.1:")
            resp = httpx.get(base + "/api/oauth/usage", headers={"Authorization": "Bearer A1", "User-Agent": UA})
            assert resp.json()["five_hour"]["utilization"] == 5.0
            proc.send_signal(signal.SIGINT)
            assert proc.wait(5) == 0
            stderr = proc.stderr.read()
            assert "CLAUDE_LB_TOKEN_URL=" in stderr and "Traceback" not in stderr
        finally:
            if proc.poll() is None:
                proc.kill()


# --------------------------------------------------------------------------- #
# shutdown never blocks
# --------------------------------------------------------------------------- #


def test_stop_returns_promptly_with_requests_in_flight(client):
    server = FakeAnthropic().start()
    server.set_usage("h", Scenario.hang())
    server.set_usage("d", Scenario.drip(interval=10))
    server.set_usage("slow", Scenario.ok().with_delay(30))
    server.add_account("p", access_token="A0", refresh_token="R0")
    server.set_token_behaviour("p", TokenBehaviour(delay_s=30))
    server.set_status(hang=True)
    outcomes = []

    def call(fn):
        try:
            outcomes.append(fn())
        except httpx.HTTPError as exc:
            outcomes.append(exc)

    calls = [lambda t=t: usage(client, server, t) for t in ("h", "d", "slow")]
    calls += [lambda: refresh(client, server, "R0"), lambda: client.get(server.status_url)]
    idle = httpx.Client(verify=False)
    idle.get(server.base_url + "/x")  # leaves an idle keep-alive connection open
    threads = [threading.Thread(target=call, args=(fn,)) for fn in calls]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 2
    while (server.count("GET", "/api/oauth/usage") < 3 or server.token_posts < 1
           or server.count("GET", "/api/v2/summary.json") < 1):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    start = time.monotonic()
    server.stop()
    assert time.monotonic() - start < 0.5
    for t in threads:
        t.join(2)
        assert not t.is_alive()
    assert len(outcomes) == 5 and all(isinstance(o, httpx.HTTPError) for o in outcomes)
    idle.close()
