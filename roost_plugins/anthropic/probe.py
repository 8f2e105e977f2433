"""Probe source "anthropic": GET {api_base}/api/oauth/usage with the profile's bearer token.

Headers as the real Claude Code sends them (docs/health.md): any
User-Agent but ``claude-code/<v>`` lands in a bucket that answers 429 for
hours. The request runs under one total deadline (roost_core.http), so a
hung or dripping server cannot hold a probe past ``deadline_s``. The token
never leaves this function except in the Authorization header: the outcome
records the request with the bearer redacted to its last 4 characters.
"""

from __future__ import annotations

from typing import Any

from roost_core.api import hookimpl
from roost_core.api import redact
from roost_core.api import ProbeOutcome, Profile

USAGE_PATH = "/api/oauth/usage"
BETA = "oauth-2025-04-20"


def usage_url(ctx: Any) -> str:
    from roost_core.api import check_endpoint

    base = check_endpoint(ctx.settings.get("api_base"), "api_base (CLAUDE_LB_API_BASE)")
    return base.rstrip("/") + USAGE_PATH


def request_headers(ctx: Any, access_token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {access_token}",
        "anthropic-beta": BETA,
        "Content-Type": "application/json",
        "Accept": "application/json",
        "User-Agent": ctx.settings.get("user_agent"),
    }


def redacted(headers: dict[str, str], access_token: str) -> dict[str, str]:
    shown = dict(headers)
    shown["Authorization"] = f"Bearer {redact(access_token)}"
    return shown


class AnthropicUsageProbe:
    name = "anthropic"

    def check(self, ctx: Any) -> None:
        """VALIDATION for an endpoint roost must not send a token to (before any request)."""
        usage_url(ctx)

    async def probe(self, profile: Profile, access_token: str, client: Any, ctx: Any,
                    deadline_s: float | None = None) -> ProbeOutcome:
        from roost_core.api import request_async

        url = usage_url(ctx)
        headers = request_headers(ctx, access_token)
        deadline = deadline_s if deadline_s is not None else float(ctx.settings.get("timeout"))
        result = await request_async(client, "GET", url, headers=headers, deadline_s=deadline)
        return ProbeOutcome(source=self.name, url=url, status=result.status, headers=result.headers,
                            body=result.body, error=result.error, error_detail=result.error_detail,
                            elapsed_s=result.elapsed_s,
                            request={"method": "GET", "url": url, "headers": redacted(headers, access_token)})


@hookimpl
def roost_register_probe_sources():
    return AnthropicUsageProbe()
