"""Token refresher "anthropic": one JSON POST to the OAuth token endpoint (docs/refresh.md).

It only talks to the endpoint: the core (roost_core.refresh) holds every lock,
re-reads the file and does every write. Each failure is classified by what it
means for the single-use refresh token:

* RefreshRejected     400 invalid_grant: the token is spent or revoked
                      ("Refresh token not found or invalid") or expired from
                      disuse ("Refresh token expired"); details say which.
* RefreshNotAttempted nothing was consumed: 429 (an edge limit applied before
                      the grant is checked), another 4xx, or the request never
                      left (connect/DNS/TLS failure).
* RefreshAmbiguous    the request was sent but no usable answer was read
                      (timeout, dropped connection, 5xx, an invalid 200): the
                      server may have rotated, so nothing is written and the
                      profile needs a check.

Server text is never echoed: only an error code matching ``[a-z_]{1,40}``.
"""

from __future__ import annotations

import json
import math
import re
from typing import TYPE_CHECKING, Any, TypeGuard

from roost_core.api import hookimpl
from roost_core.api import RefreshAmbiguous, RefreshNotAttempted, RefreshRejected
from roost_core.api import TokenGrant

if TYPE_CHECKING:
    from roost_core.api import RoostContext
    from roost_core.api import HttpResult

CLIENT_ID = "9d1c250a-e61b-44d9-88ed-5944d1962f5e"
SCOPE = "user:profile user:inference user:sessions:claude_code user:mcp_servers user:file_upload"
MAX_RESPONSE_BYTES = 64 * 1024
MAX_EXPIRES_IN_S = 366 * 86400
MAX_TOKEN_CHARS = 4096
_TOKEN_CHARS = re.compile(r"^[\x21-\x7e]+$")  # printable ASCII, no spaces: a bearer token
_ERROR_CODE = re.compile(r"^[a-z_]{1,40}$")
DEFAULT_RETRY_AFTER_S = 60.0
# invalid_grant's error_description, kept apart: (what happened, the fix). Both need a new login.
# The refresher does not know the profile: the core replaces the fix with one that names it and its
# directory (roost_core.refresh.relogin_fix), so no placeholder name is written here.
GRANT_REASONS = {
    "refresh_token_invalid": ("Refresh token not found or invalid: it was spent (rotated away) or revoked",
                              "sign this account in again with claude login"),
    "refresh_token_expired": ("Refresh token expired: the account was idle too long",
                              "sign this account in again with claude login (it was idle too long)"),
    "invalid_grant": ("it is spent, revoked or expired",
                      "sign this account in again with claude login"),
}


class AnthropicRefresher:
    name = "anthropic"

    def refresh(self, refresh_token: str, ctx: "RoostContext") -> TokenGrant:
        from roost_core.api import check_endpoint, request_sync

        url = check_endpoint(ctx.settings.get("token_url"), "token endpoint (token_url)")
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": ctx.settings.get("token_user_agent"),
        }
        body = {"grant_type": "refresh_token", "refresh_token": refresh_token,
                "client_id": CLIENT_ID, "scope": SCOPE}
        result = request_sync("POST", url, headers=headers, json=body,
                              deadline_s=ctx.settings.get("refresh_deadline"),
                              max_bytes=MAX_RESPONSE_BYTES)
        return grant_from_result(result)


def grant_from_result(result: "HttpResult") -> TokenGrant:
    """A validated grant, or the exception that says what happened to the token."""
    if result.error is not None and result.status is None:
        if result.sent:
            raise RefreshAmbiguous(f"the token request was sent but no answer came back ({result.error})",
                                   details={"reason": result.error})
        raise RefreshNotAttempted(f"could not reach the token endpoint ({result.error})",
                                  details={"reason": result.error})
    status = result.status
    if status == 200:
        if result.error is not None:
            raise RefreshAmbiguous(f"the token response was cut short ({result.error})",
                                   details={"reason": result.error, "status": 200})
        return parse_grant(result.body)
    if status is not None and status >= 500:
        raise RefreshAmbiguous(f"the token endpoint answered HTTP {status}",
                               details={"reason": "server_error", "status": status})
    code = _error_code(result.body)
    if status == 429:
        raise RefreshNotAttempted("the token endpoint is rate limiting (HTTP 429); the refresh token "
                                  "was not used", details={"reason": "rate_limited", "status": 429,
                                                           "retry_after_s": retry_after_s(result.headers)})
    if status in (400, 401) and code == "invalid_grant":
        grant_reason = invalid_grant_reason(result.body)
        raise RefreshRejected(f"the refresh token was rejected (invalid_grant): {GRANT_REASONS[grant_reason][0]}",
                              details={"reason": "invalid_grant", "status": status, "grant_reason": grant_reason,
                                       "fix": GRANT_REASONS[grant_reason][1]})
    if status is not None and 400 <= status < 500:
        shown = f" ({code})" if code else ""
        raise RefreshNotAttempted(f"the token endpoint refused the request: HTTP {status}{shown}",
                                  details={"reason": "request_rejected", "status": status, "error": code})
    raise RefreshAmbiguous(f"unexpected answer from the token endpoint: HTTP {status}",
                           details={"reason": "unexpected_status", "status": status})


def parse_grant(body: bytes) -> TokenGrant:
    """Validate a 200 body strictly; anything odd is RefreshAmbiguous (the server may have rotated)."""
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise _invalid("the body is not JSON") from None
    if not isinstance(data, dict):
        raise _invalid("the body is not a JSON object")
    access = data.get("access_token")
    if not _is_token(access):
        raise _invalid("access_token is missing or malformed")
    refresh = data.get("refresh_token")
    if refresh is not None and not _is_token(refresh):
        raise _invalid("refresh_token is malformed")
    expires_in = data.get("expires_in")
    if isinstance(expires_in, bool) or not isinstance(expires_in, (int, float)) \
            or not math.isfinite(expires_in) or not 0 < expires_in <= MAX_EXPIRES_IN_S:
        raise _invalid("expires_in is not a positive number of seconds (at most a year)")
    scope = data.get("scope")
    if scope is not None and not isinstance(scope, str):
        raise _invalid("scope is not a string")
    token_type = data.get("token_type")
    if token_type is not None and (not isinstance(token_type, str) or token_type.lower() != "bearer"):
        raise _invalid("token_type is not Bearer")
    extra = {k: data[k] for k in ("account", "organization") if isinstance(data.get(k), dict)}
    return TokenGrant(access_token=access, refresh_token=refresh, expires_in=float(expires_in),
                      scope=(scope.strip() or None) if scope else None, extra=extra)


def retry_after_s(headers: dict[str, str]) -> float:
    """``retry-after`` in seconds or as an HTTP-date; 0, absent or garbage mean 60 s."""
    value = (headers.get("retry-after") or "").strip()
    seconds: float | None = None
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            import time

            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, IndexError):
            seconds = None
    if seconds is None or not math.isfinite(seconds) or seconds <= 0:
        return DEFAULT_RETRY_AFTER_S
    return min(seconds, 86400.0)


def invalid_grant_reason(body: bytes) -> str:
    """Which ``invalid_grant`` this is, from ``error_description`` (matched, never echoed)."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return "invalid_grant"
    text = data.get("error_description") if isinstance(data, dict) else None
    text = " ".join(text.lower().split()) if isinstance(text, str) else ""
    if "refresh token expired" in text:
        return "refresh_token_expired"
    if "not found or invalid" in text:
        return "refresh_token_invalid"
    return "invalid_grant"


def _is_token(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and 0 < len(value) <= MAX_TOKEN_CHARS and bool(_TOKEN_CHARS.match(value))


def _error_code(body: bytes) -> str | None:
    """The OAuth ``error`` (or an API envelope's ``error.type``), if it looks like a code."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    error = data.get("error")
    if isinstance(error, dict):
        error = error.get("type")
    return error if isinstance(error, str) and _ERROR_CODE.match(error) else None


def _invalid(why: str) -> RefreshAmbiguous:
    return RefreshAmbiguous(f"the token endpoint answered 200 with an unusable body ({why}); "
                            "nothing was written", details={"reason": "invalid_response", "status": 200})


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


@hookimpl
def roost_register_token_refreshers():
    return AnthropicRefresher()
