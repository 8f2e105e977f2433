"""Parse a /api/oauth/usage body into roost_core.records.Usage.

The endpoint's shape drifts (anthropic-api.md 1.2-1.4): every window may be
an object, null or absent, unknown keys appear often, Pro/Team/Enterprise
bodies carry little, and the newer ``limits[]`` list gives ``resets_at`` as
ISO text or epoch seconds. Parsing therefore never raises on odd values: a
figure that is not a number reads as None. Metrics come from the flat keys;
``limits[]`` fills a flat window only when that window is missing or null,
and always supplies the model-scoped limits.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

from roost_core.records import Usage

# Flat window key -> Usage field.
WINDOWS = {
    "five_hour": "session_pct",
    "seven_day": "weekly_pct",
    "seven_day_sonnet": "sonnet_pct",
    "seven_day_opus": "opus_pct",
}
# limits[].kind -> the flat window it can stand in for.
LIMIT_KINDS = {"session": "five_hour", "weekly_all": "seven_day"}
OVERAGE_KEYS = ("is_enabled", "monthly_limit", "used_credits", "utilization", "currency", "disabled_reason")


def number(value: Any) -> float | None:
    """A finite JSON number as float; anything else (bool, text, NaN) is None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def iso_utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def to_epoch(value: Any) -> float | None:
    """``resets_at`` as epoch seconds: ISO 8601 text, epoch seconds or epoch milliseconds."""
    seconds = number(value)
    if seconds is not None:
        return seconds / 1000 if seconds > 1e11 else seconds
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def normalise_time(value: Any) -> str | None:
    """Any accepted ``resets_at`` form as ISO 8601 UTC text (``...Z``), else None."""
    epoch = to_epoch(value)
    if epoch is None:
        return None
    try:
        return iso_utc(epoch)
    except (OverflowError, OSError, ValueError):
        return None


def _window(body: dict[str, Any], key: str) -> tuple[float | None, str | None] | None:
    """(utilization, resets_at) of a flat window, or None when missing/null/not an object."""
    window = body.get(key)
    if not isinstance(window, dict):
        return None
    return number(window.get("utilization")), normalise_time(window.get("resets_at"))


def _limits(body: dict[str, Any]) -> list[dict[str, Any]]:
    raw = body.get("limits")
    return [item for item in raw if isinstance(item, dict)] if isinstance(raw, list) else []


def _model_name(limit: dict[str, Any]) -> str | None:
    scope = limit.get("scope")
    model = scope.get("model") if isinstance(scope, dict) else None
    if not isinstance(model, dict):
        return None
    name = model.get("display_name") or model.get("id")
    return name if isinstance(name, str) and name else None


def model_limits(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Model-scoped limits from ``limits[]``: model, percent, resets_at, kind, is_active."""
    found = []
    for limit in _limits(body):
        model = _model_name(limit)
        if model is None:
            continue
        found.append({"model": model, "percent": number(limit.get("percent")),
                      "resets_at": normalise_time(limit.get("resets_at")),
                      "kind": limit.get("kind") if isinstance(limit.get("kind"), str) else None,
                      "is_active": limit.get("is_active") is True})
    return found


def _from_limits(body: dict[str, Any], window_key: str) -> tuple[float | None, str | None] | None:
    for limit in _limits(body):
        if LIMIT_KINDS.get(limit.get("kind")) == window_key and _model_name(limit) is None:
            return number(limit.get("percent")), normalise_time(limit.get("resets_at"))
    return None


def overage(body: dict[str, Any]) -> tuple[dict[str, Any] | None, float | None]:
    """The ``extra_usage`` block (known keys, raw values) and overage_pct (anthropic-api.md 1.2 [R])."""
    extra = body.get("extra_usage")
    if not isinstance(extra, dict):
        return None, None
    block = {key: extra.get(key) for key in OVERAGE_KEYS if key in extra}
    pct = number(extra.get("utilization"))
    if pct is None:
        used, limit = number(extra.get("used_credits")), number(extra.get("monthly_limit"))
        if used is not None and limit and limit > 0 and used >= 0:
            pct = used / limit * 100
    return block, pct


def parse_usage(body: Any) -> Usage | None:
    """A Usage from a parsed 200 body; None when the body is not a JSON object."""
    if not isinstance(body, dict):
        return None
    usage = Usage()
    for key, field in WINDOWS.items():
        window = _window(body, key)
        if window is None and key in LIMIT_KINDS.values():
            window = _from_limits(body, key)
        if window is None:
            continue
        setattr(usage, field, window[0])
        if key == "five_hour":
            usage.session_resets_at = window[1]
        elif key == "seven_day":
            usage.weekly_resets_at = window[1]
    block, usage.overage_pct = overage(body)
    usage.overage = block
    usage.overage_enabled = bool(block.get("is_enabled")) if block is not None else None
    usage.model_limits = model_limits(body)
    return usage
