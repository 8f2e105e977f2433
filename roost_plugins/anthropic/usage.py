"""Parse a /api/oauth/usage body into roost_core.records.Usage.

The endpoint's shape drifts: every window may be an object, null or absent,
unknown keys appear often, Pro/Team/Enterprise bodies carry little, and the
``limits[]`` list gives ``resets_at`` as ISO text or epoch seconds. Parsing
therefore never raises on odd values: a figure that is not a number reads as
None. Whether a body is too wrong to classify at all is ``malformed()``'s
decision (docs/health.md, "Malformed bodies"): a known window of the wrong
shape, or a utilisation that is not a non-negative number, makes it
``unknown`` instead of a healthy-looking ``ok``.

Since 2026-12 the flat ``seven_day_opus``/``seven_day_sonnet`` keys are always
null and model-scoped weekly limits appear only in ``limits[]`` (docs/wire.md).
So ``limits[]`` comes first: its ``session`` entry gives the session figures,
its ``weekly_all`` entry the weekly ones (a ``weekly_scoped`` entry shares
``group: "weekly"`` but never stands in for ``weekly_all``), and a scoped
entry whose model name says Sonnet or Opus fills ``sonnet_pct``/``opus_pct``.
The flat keys fill whatever ``limits[]`` left empty, and everything when it is
absent. ``is_active`` names the binding limit.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

from roost_core.api import Usage, to_epoch

# Flat window key -> Usage field.
WINDOWS = {
    "five_hour": "session_pct",
    "seven_day": "weekly_pct",
    "seven_day_sonnet": "sonnet_pct",
    "seven_day_opus": "opus_pct",
}
# Unscoped limits[].kind -> the Usage fields it fills (weekly_scoped never fills weekly_*).
LIMIT_KINDS = {"session": ("session_pct", "session_resets_at"),
               "weekly_all": ("weekly_pct", "weekly_resets_at")}
# A model-scoped limit whose name holds one of these words fills that Usage field.
MODEL_FIELDS = {"sonnet": "sonnet_pct", "opus": "opus_pct"}
MAX_NAME = 120
OVERAGE_KEYS = ("is_enabled", "monthly_limit", "used_credits", "utilization", "currency", "disabled_reason")


def number(value: Any) -> float | None:
    """A finite JSON number as float; anything else (bool, text, NaN) is None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        value = float(value)
    except OverflowError:  # an int too big for a float (10**400) is no reading either
        return None
    return value if math.isfinite(value) else None


def iso_utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def normalise_time(value: Any) -> str | None:
    """Any accepted ``resets_at`` form as ISO 8601 UTC text (``...Z``), else None."""
    epoch = to_epoch(value)
    if epoch is None:
        return None
    try:
        return iso_utc(epoch)
    except (OverflowError, OSError, ValueError):
        return None


def percent(value: Any) -> float | None:
    """A utilisation: a finite number at least 0 (above 100 is an exhausted window); else None."""
    pct = number(value)
    return pct if pct is not None and pct >= 0 else None


def iso_time(value: Any) -> str | None:
    """A flat window's ``resets_at``: ISO 8601 text only, as ISO UTC; a number (``12`` would be
    1970) or unparsable text is no reset time. Epoch numbers are a ``limits[]`` form (docs/wire.md)."""
    return normalise_time(value) if isinstance(value, str) else None


def _window(body: dict[str, Any], key: str) -> tuple[float | None, str | None] | None:
    """(utilization, resets_at) of a flat window, or None when missing/null/not an object."""
    window = body.get(key)
    if not isinstance(window, dict):
        return None
    return percent(window.get("utilization")), iso_time(window.get("resets_at"))


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (int, float)):
        return "a number out of range"  # NaN, Infinity (1e400), 10**400
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def malformed(body: dict[str, Any]) -> tuple[str, str] | None:
    """Why a 200 usage body cannot be classified, or None (docs/health.md, "Malformed bodies").

    Returns ``(problem, detail)``: ``problem`` names the field ("five_hour.utilization is not
    a number"), ``detail`` says what was there. Only the four flat windows are checked: a window
    present and neither null nor an object, or a ``utilization`` present, not null and not a
    finite non-negative number (a boolean is no number). A bad ``resets_at`` only reads as null.
    """
    for key in WINDOWS:
        window = body.get(key)
        if window is None:
            continue
        if not isinstance(window, dict):
            return f"{key} is not an object", _json_type(window)
        value = window.get("utilization")
        if value is None:
            continue
        pct = number(value)
        if pct is None:
            return f"{key}.utilization is not a number", _json_type(value)
        if pct < 0:
            return f"{key}.utilization is negative", f"{pct:g}"
    return None


def _limits(body: dict[str, Any]) -> list[dict[str, Any]]:
    raw = body.get("limits")
    return [item for item in raw if isinstance(item, dict)] if isinstance(raw, list) else []


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip()[:MAX_NAME] or None


def _model(limit: dict[str, Any]) -> tuple[str | None, str | None]:
    """(display name or id, id) of a limit's ``scope.model``; (None, None) when unscoped."""
    scope = limit.get("scope")
    model = scope.get("model") if isinstance(scope, dict) else None
    if not isinstance(model, dict):
        return None, None
    ident = _text(model.get("id"))
    return _text(model.get("display_name")) or ident, ident


def model_words(*names: str | None) -> set[str]:
    """The lower-case words of model names: "claude-opus-4" and "Claude Opus 4" both give "opus"."""
    import re

    return {w for name in names if name for w in re.split(r"[^a-z0-9.]+", name.lower()) if w}


def limit_entries(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every ``limits[]`` entry, normalised: kind, model, model_id, pct, resets_at, active."""
    entries = []
    for limit in _limits(body):
        name, ident = _model(limit)
        entries.append({"kind": _text(limit.get("kind")), "model": name, "model_id": ident,
                        "pct": percent(limit.get("percent")), "resets_at": normalise_time(limit.get("resets_at")),
                        "active": limit.get("is_active") is True})
    return entries


def model_limits(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The model-scoped limits as records carry them: ``{model, id, pct, resets_at, active}``
    (``model`` the display name, else the id; ``id`` the model's id, or None)."""
    return [{"model": e["model"], "id": e["model_id"], "pct": e["pct"], "resets_at": e["resets_at"],
             "active": e["active"]}
            for e in limit_entries(body) if e["model"] is not None]


def binding_limit(entries: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The entry ``is_active`` marks as binding: ``{kind, model, pct, resets_at}``, or None."""
    for entry in entries:
        if entry["active"]:
            return {k: entry[k] for k in ("kind", "model", "pct", "resets_at")}
    return None


def _apply_limits(usage: Usage, entries: list[dict[str, Any]]) -> set[str]:
    """Fill Usage from ``limits[]``; the names of the fields it set (the flat keys keep off them)."""
    filled: set[str] = set()
    for entry in entries:
        if entry["model"] is None:
            fields = LIMIT_KINDS.get(entry["kind"] or "")
            if fields is None or fields[0] in filled or entry["pct"] is None:
                continue
            setattr(usage, fields[0], entry["pct"])
            setattr(usage, fields[1], entry["resets_at"])
            filled.update(fields)
            continue
        for word, field in MODEL_FIELDS.items():
            if word in model_words(entry["model"], entry["model_id"]) and field not in filled \
                    and entry["pct"] is not None:
                setattr(usage, field, entry["pct"])
                filled.add(field)
    return filled


def overage(body: dict[str, Any]) -> tuple[dict[str, Any] | None, float | None]:
    """The ``extra_usage`` block (known keys, raw values) and overage_pct (docs/health.md, "The eight states").

    Overage switched off (``is_enabled: false``) is no overage data: overage_pct is None whatever
    figures the block still carries (Anthropic sends ``utilization: null`` then, but a stale 100
    must not gate --max-cost or rank last in lowest-overage). So is an ``is_enabled`` that is
    present but not a JSON boolean (``"false"``, ``1``): roost cannot tell whether overage is on.
    Absent or null, the figures are read. The block itself is kept as sent.
    """
    extra = body.get("extra_usage")
    if not isinstance(extra, dict):
        return None, None
    block = {key: extra.get(key) for key in OVERAGE_KEYS if key in extra}
    if extra.get("is_enabled") is not None and extra.get("is_enabled") is not True:
        return block, None
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
    entries = limit_entries(body)
    filled = _apply_limits(usage, entries)
    for key, field in WINDOWS.items():
        window = _window(body, key)
        if window is None or field in filled:
            continue
        setattr(usage, field, window[0])
        if key == "five_hour":
            usage.session_resets_at = window[1]
        elif key == "seven_day":
            usage.weekly_resets_at = window[1]
    block, usage.overage_pct = overage(body)
    usage.overage = block
    usage.overage_enabled = block.get("is_enabled") is True if block is not None else None  # only JSON true
    usage.model_limits = model_limits(body)
    usage.binding_limit = binding_limit(entries)
    return usage
