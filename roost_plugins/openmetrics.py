"""``roost status --format openmetrics``: the status table as OpenMetrics text.

What node_exporter's textfile collector reads (``roost status --format
openmetrics > /var/lib/node_exporter/roost.prom``), so a fleet can alert on
``roost_profile_health{health="auth_dead"} == 1`` or
``roost_profile_weekly_percent >= 90`` without a proxy. Families (all gauges;
a null figure is simply left out, as Prometheus expects of unknown values):

* ``roost_profile_health{profile,health}``: 1 for the profile's current state,
  0 for the seven others (so every state is a stable series);
* ``roost_profile_{session,weekly,sonnet,opus,overage}_percent{profile}``;
* ``roost_profile_model_limit_percent{profile,model,kind}``: model-scoped limits;
* ``roost_profile_{session,weekly}_resets_timestamp_seconds``,
  ``roost_profile_token_expires_timestamp_seconds``,
  ``roost_profile_checked_timestamp_seconds``, ``roost_profile_retry_after_seconds``,
  ``roost_profile_stale`` (1 when the figures are a stale cache fallback);
* ``roost_platform_status{indicator}`` when the status page was consulted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from roost_core.api import hookimpl

HEALTH_STATES = ("ok", "rate_limited", "session_limit", "weekly_limit", "auth_expired", "auth_dead",
                 "network_error", "unknown")
PERCENT_FIGURES = (
    ("session", "session_pct", "Five-hour session window utilization."),
    ("weekly", "weekly_pct", "Seven-day window utilization (all models)."),
    ("sonnet", "sonnet_pct", "Seven-day Sonnet window utilization."),
    ("opus", "opus_pct", "Seven-day Opus window utilization."),
    ("overage", "overage_pct", "Monthly overage (extra usage) budget utilization."),
)
TIMESTAMPS = (
    ("roost_profile_session_resets_timestamp_seconds", "session_resets_at", "When the session window resets."),
    ("roost_profile_weekly_resets_timestamp_seconds", "weekly_resets_at", "When the weekly window resets."),
    ("roost_profile_token_expires_timestamp_seconds", "expires_at", "When the stored access token expires."),
    ("roost_profile_checked_timestamp_seconds", "checked_at", "When the figures were last probed."),
)


def escape_label(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")


def format_value(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _epoch(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


@dataclass
class Family:
    """One metric family: its metadata lines and samples, written contiguously."""

    name: str
    help: str
    unit: str | None = None
    samples: list[tuple[dict[str, Any], float]] = field(default_factory=list)

    def add(self, labels: dict[str, Any], value: float | None) -> None:
        if value is not None:
            self.samples.append((labels, value))

    def lines(self) -> Iterable[str]:
        yield f"# TYPE {self.name} gauge"
        if self.unit:
            yield f"# UNIT {self.name} {self.unit}"
        yield f"# HELP {self.name} {self.help}"
        for labels, value in self.samples:
            rendered = ",".join(f'{k}="{escape_label(v)}"' for k, v in labels.items())
            yield f"{self.name}{{{rendered}}} {format_value(value)}"


def families(profiles: list[dict[str, Any]], meta: dict[str, Any]) -> list[Family]:
    health = Family("roost_profile_health", "1 for the profile's current health state, 0 for the others.")
    percents = [Family(f"roost_profile_{short}_percent", text, "percent") for short, _, text in PERCENT_FIGURES]
    models = Family("roost_profile_model_limit_percent", "Model-scoped weekly limit utilization.", "percent")
    stamps = [Family(name, text, "seconds") for name, _, text in TIMESTAMPS]
    retry = Family("roost_profile_retry_after_seconds", "Seconds to wait before the next probe (throttled).",
                   "seconds")
    stale = Family("roost_profile_stale", "1 when the figures are a stale cached fallback.")
    for record in profiles:
        name = {"profile": record.get("name", "")}
        current = str(record.get("health", "unknown"))
        for state in HEALTH_STATES + ((current,) if current not in HEALTH_STATES else ()):
            health.add({**name, "health": state}, 1.0 if state == current else 0.0)
        for family, (_, key, _) in zip(percents, PERCENT_FIGURES):
            family.add(name, _number(record.get(key)))
        for limit in record.get("model_limits") or []:
            if isinstance(limit, dict):
                models.add({**name, "model": limit.get("model") or "", "kind": limit.get("kind") or ""},
                           _number(limit.get("pct", limit.get("percent"))))
        for family, (_, key, _) in zip(stamps, TIMESTAMPS):
            family.add(name, _epoch(record.get(key)))
        retry.add(name, _number(record.get("retry_after_s")))
        stale.add(name, 1.0 if record.get("stale") else 0.0)
    result = [health, *percents, models, *stamps, retry, stale]
    platform = meta.get("platform_status")
    if isinstance(platform, dict) and platform.get("indicator"):
        status = Family("roost_platform_status", "1 for the status page's current indicator.")
        status.add({"indicator": platform["indicator"]}, 1.0)
        result.append(status)
    return result


def render_text(data: dict[str, Any], meta: dict[str, Any]) -> str:
    profiles = data.get("profiles", []) if isinstance(data, dict) else list(data)
    lines = [line for family in families(profiles, meta or {}) for line in family.lines()]
    return "\n".join(lines + ["# EOF"]) + "\n"


class OpenMetricsRenderer:
    name = "openmetrics"
    formats = frozenset({"openmetrics"})
    views = frozenset({"status"})

    def render(self, view: str, data: Any, meta: dict[str, Any], ctx: Any) -> None:
        ctx.out.stdout.write(render_text(data, meta))
        ctx.out.stdout.flush()


@hookimpl
def roost_register_renderers():
    return OpenMetricsRenderer()
