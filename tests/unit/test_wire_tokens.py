"""The token endpoint's two invalid_grant reasons, kept apart with their fixes (respx)."""

from __future__ import annotations

import httpx
import pytest
import respx

from roost_core.context import RoostContext
from roost_core.errors import RefreshRejected
from roost_plugins.anthropic.refresh import AnthropicRefresher, invalid_grant_reason

TOKEN_URL = "https://token.test/v1/oauth/token"
REFRESH = "sk-ant-ort01-dead-refresh-0123456789abcd"


@pytest.mark.parametrize("description, reason, words", [
    ("Refresh token not found or invalid", "refresh_token_invalid", "not found or invalid"),
    ("Refresh token expired", "refresh_token_expired", "idle too long"),
    ("something new", "invalid_grant", "spent, revoked or expired"),
])
def test_invalid_grant_reasons(roost_env, description, reason, words):
    ctx = RoostContext(env=roost_env.env(CLAUDE_LB_TOKEN_URL=TOKEN_URL))
    with respx.mock() as router:
        router.post(TOKEN_URL).mock(return_value=httpx.Response(
            400, json={"error": "invalid_grant", "error_description": description}))
        with pytest.raises(RefreshRejected) as caught:
            AnthropicRefresher().refresh(REFRESH, ctx)
    err = caught.value
    assert err.details["reason"] == "invalid_grant" and err.details["grant_reason"] == reason
    assert words in err.message and "claude login" in err.details["fix"]
    assert description not in err.message or reason != "invalid_grant"  # unknown server text is never echoed
    assert REFRESH not in err.message and REFRESH[-8:] not in str(err.details)


def test_reason_parser_tolerates_anything():
    for body in (b"", b"[]", b"{\"error_description\": 5}", b"\xff", b"{\"error_description\": \"REFRESH  TOKEN EXPIRED\"}"):
        assert invalid_grant_reason(body) in ("invalid_grant", "refresh_token_expired")
    assert invalid_grant_reason(b"{\"error_description\": \"REFRESH  TOKEN EXPIRED\"}") == "refresh_token_expired"


def test_no_fix_carries_a_placeholder_profile_name():
    """The refresher cannot name the profile (the core's relogin_fix does): its fixes, and the dead-token
    reason without a caller's fix, say no literal NAME."""
    from roost_core import deadtoken
    from roost_plugins.anthropic.refresh import GRANT_REASONS

    for reason, (what, fix) in GRANT_REASONS.items():
        assert "NAME" not in fix and "claude login" in fix
        assert "NAME" not in deadtoken.describe({"reason": reason})
    described = deadtoken.describe({"reason": "refresh_token_expired"}, "sign p in again")
    assert "idle too long" in described and described.endswith("sign p in again")
