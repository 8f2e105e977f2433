"""status.claude.com: the "status-page" StatusFeed and the WARN-level doctor check.

The feed reads Atlassian Statuspage v2 ``summary.json`` (docs/health.md, "Platform status")
and folds it into a PlatformStatus: the page indicator and description,
unresolved incidents (name, status, impact, shortlink) and components that
are not operational. Caching (platform-status.json, 60 s, stale fallback)
is the core's job (roost_core.platform).
"""

from __future__ import annotations

import json
from typing import Any

from roost_core.api import __version__, hookimpl
from roost_core.api import Unavailable
from roost_core.api import CheckResult, PlatformStatus

NAME = "status-page"
DONE_INCIDENT = frozenset({"resolved", "postmortem", "completed"})


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def fold(summary: Any, fetched_at: str | None) -> PlatformStatus:
    """A PlatformStatus from a summary.json body (Unavailable when it is not one)."""
    if not isinstance(summary, dict) or not isinstance(summary.get("status"), dict):
        raise Unavailable("status page answered something that is not a Statuspage summary")
    page = summary["status"]
    incidents = [
        {"name": _text(i.get("name")), "status": _text(i.get("status")), "impact": _text(i.get("impact")),
         "shortlink": _text(i.get("shortlink"))}
        for i in summary.get("incidents") or [] if isinstance(i, dict) and i.get("status") not in DONE_INCIDENT
    ]
    degraded = [
        {"name": _text(c.get("name")), "status": _text(c.get("status"))}
        for c in summary.get("components") or []
        if isinstance(c, dict) and not c.get("group") and c.get("status") not in (None, "operational")
    ]
    return PlatformStatus(indicator=_text(page.get("indicator")), description=_text(page.get("description")),
                          active_incidents=incidents, degraded_components=degraded, fetched_at=fetched_at,
                          age_seconds=0)


class StatusPageFeed:
    name = NAME
    ttl_s = 60.0

    def fetch(self, ctx: Any, timeout: float) -> PlatformStatus:
        from roost_core.api import check_endpoint, request_sync
        from roost_core.api import iso_time as iso

        url = check_endpoint(ctx.settings.get("status_url"), "status_url (CLAUDE_LB_STATUS_URL)")
        result = request_sync("GET", url, headers={"Accept": "application/json",
                                                   "User-Agent": f"roost/{__version__}"}, deadline_s=timeout)
        if result.error:
            raise Unavailable(f"status page unreachable ({result.error})")
        if result.status != 200:
            raise Unavailable(f"status page answered HTTP {result.status}")
        try:
            body = json.loads(result.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise Unavailable("status page answered something that is not JSON") from None
        return fold(body, iso(ctx.now()))


class StatusPageCheck:
    """doctor: is Anthropic itself degraded? Always a fresh fetch; never worse than WARN."""

    name = NAME
    needs_network = True
    level = "warn"

    def run(self, ctx: Any) -> CheckResult:
        from roost_core.api import platform_header_line as header_line, platform_status

        status = platform_status(ctx, refresh=True)
        details = status.to_dict()
        if status.fetch_error:
            return CheckResult(self.name, "warn", f"could not fetch {ctx.settings.get('status_url')}: "
                                                  f"{status.fetch_error}", details)
        line = header_line(status)
        if line:
            return CheckResult(self.name, "warn", line.lstrip("· "), details)
        return CheckResult(self.name, "ok", f"Anthropic: {status.description or 'operational'}", details)


@hookimpl
def roost_register_status_feeds():
    return StatusPageFeed()


@hookimpl
def roost_register_doctor_checks():
    return StatusPageCheck()


@hookimpl
def roost_register_settings():
    from roost_core.api import Setting

    return Setting("https://status.claude.com/api/v2/summary.json", name="status_url", section="endpoints",
                   env="CLAUDE_LB_STATUS_URL", doc="Platform status feed (a Statuspage summary.json).")
