"""The Anthropic plugin's settings: its endpoints and the User-Agents it sends.

A small module of its own (``settings.anthropic``), so listing or resolving
these imports neither the probe nor httpx.
"""

from __future__ import annotations

from roost_core.api import Setting, hookimpl

# claude-code's own User-Agent: the usage endpoint answers other values with a lasting 429 (docs/health.md).
USER_AGENT = "claude-code/2.1.332"


def header_value(raw: object) -> str:
    """A value sent as an HTTP header: printable ASCII, so a typo is VALIDATION, not a failed request."""
    if not isinstance(raw, str):
        raise ValueError("expected a string")
    if not all(" " <= c <= "~" for c in raw):
        raise ValueError("a User-Agent is printable ASCII (no control or non-ASCII characters)")
    return raw


@hookimpl
def roost_register_settings() -> list[Setting]:
    return [
        Setting("https://api.anthropic.com", name="api_base", section="endpoints", env="CLAUDE_LB_API_BASE",
                doc="Base URL of the usage endpoint (`/api/oauth/usage` is appended)."),
        Setting("https://platform.claude.com/v1/oauth/token", name="token_url", section="endpoints",
                env="CLAUDE_LB_TOKEN_URL", doc="OAuth token endpoint used by refresh."),
        Setting(USER_AGENT, name="user_agent", env="CLAUDE_LB_USER_AGENT", convert=header_value,
                doc="User-Agent of the usage probe (keep claude-code's; printable ASCII)."),
        Setting("axios/1.13.6", name="token_user_agent", env="CLAUDE_LB_TOKEN_USER_AGENT", convert=header_value,
                doc="User-Agent of token refresh requests (printable ASCII)."),
    ]
