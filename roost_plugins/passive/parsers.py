"""Observation -> reading, for the three built-in passive sources. Stdlib only, no I/O.

A reading is a plain dict (the shape stored in the ``passive`` document)::

    {"source": "statusline" | "hook" | "stream" | <a site source>,
     "observed_at": epoch seconds,
     "health": "ok" | "rate_limited" | "session_limit" | "weekly_limit" | "auth_dead"
               | None (figures only: a rejection on one model's weekly window),
     "windows": {window: {"pct": 0-100, "resets_at": epoch | None, "observed_at": epoch}},
     "until": epoch | None,     # a throttle or limit holds until then (its reset)
     "reason": "one line: what was seen"}

Windows are ``five_hour``, ``seven_day``, ``seven_day_opus``, ``seven_day_sonnet``
and ``overage``; a reading carries only the windows its observation reported.
Every parser returns None for an observation it does not understand.

Only the account-wide windows decide a profile's health: ``five_hour`` at its
limit is ``session_limit``, ``seven_day`` ``weekly_limit``. A model's own week
(``seven_day_opus``/``seven_day_sonnet``) at its limit blocks that model only
(the usage endpoint says the same: other models keep working), so a rejection
on it is a reading with no health that records the model's window at 100 %
until its reset (``pick --model`` skips the profile); the profile's health is
left to the other evidence. A rejection on ``overage`` is ``rate_limited``
until its ``resetsAt`` (the account was running on overage and that was
refused: it is usable again when the window that sent it there resets).
"""

from __future__ import annotations

import json

FIVE_HOUR, SEVEN_DAY = "five_hour", "seven_day"
MODEL_WINDOWS = ("seven_day_opus", "seven_day_sonnet")
WINDOWS = (FIVE_HOUR, SEVEN_DAY, *MODEL_WINDOWS, "overage")
# What a rejection on a window means for the account (a model's window: nothing, see above).
LIMIT_HEALTH = {FIVE_HOUR: "session_limit", SEVEN_DAY: "weekly_limit", "overage": "rate_limited"}
# The windows whose figure at 100 % blocks the whole account (session before weekly).
ACCOUNT_WINDOWS = (FIVE_HOUR, SEVEN_DAY)
# StopFailure errors that keep a profile out of picks until a person acts.
AUTH_ERRORS = frozenset({"authentication_failed", "oauth_org_not_allowed", "account_on_hold", "billing_error"})
WINDOW_ALIASES = {"five_hour": FIVE_HOUR, "5h": FIVE_HOUR, "session": FIVE_HOUR,
                  "seven_day": SEVEN_DAY, "7d": SEVEN_DAY, "weekly": SEVEN_DAY,
                  "seven_day_opus": "seven_day_opus", "seven_day_sonnet": "seven_day_sonnet",
                  "overage": "overage"}
STREAM_MARKER = b"rate_limit_event"


def number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return float(value)


def epoch(value: object) -> float | None:
    """Epoch seconds from epoch seconds or milliseconds (what claude sends), or ISO 8601 text."""
    seconds = number(value)
    if seconds is None and isinstance(value, str):
        try:
            seconds = float(value)
        except ValueError:
            seconds = _iso_epoch(value)
    if seconds is None or seconds <= 0:
        return None
    return seconds / 1000 if seconds > 1e11 else seconds


def _iso_epoch(text: str) -> float | None:
    """ISO 8601 text (a zone-less time is UTC) as epoch seconds, else None."""
    from datetime import datetime, timezone

    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def reading(source: str, now: float, health: str | None, windows: dict, until: float | None,
            reason: str) -> dict:
    return {"source": source, "observed_at": now, "health": health, "windows": windows,
            "until": until, "reason": reason}


def _limit_verdict(windows: dict, now: float) -> tuple[str, float | None, str]:
    """ok, or the first account-wide window at 100 % (session before weekly) and its reset."""
    for name in ACCOUNT_WINDOWS:
        window = windows.get(name)
        if window and window["pct"] >= 100:
            resets = window.get("resets_at")
            if resets is None or resets > now:
                return LIMIT_HEALTH[name], resets, f"{name} at {window['pct']:g}%"
    return "ok", None, ""


def model_rejection(source: str, now: float, window: str, until: float | None, windows: dict,
                    said: str) -> dict:
    """A rejection on one model's week: that window at 100 % until its reset, no health of its own."""
    windows = {**windows, window: {"pct": 100.0, "resets_at": until, "observed_at": now}}
    model = window.rsplit("_", 1)[-1].capitalize()
    return reading(source, now, None, windows, until,
                   f"{said} ({model}'s weekly limit: {model} only, other models unaffected)")


def _pct_text(windows: dict) -> str:
    return ", ".join(f"{n} {w['pct']:g}%" for n, w in windows.items())


# -- statusLine --------------------------------------------------------------------

def parse_statusline(doc: object, now: float) -> dict | None:
    """The statusLine document's ``rate_limits`` (percent floats, epoch resets), else None."""
    limits = doc.get("rate_limits") if isinstance(doc, dict) else None
    if not isinstance(limits, dict):
        return None  # before the session's first response, or -p mode
    windows = {}
    for name in (FIVE_HOUR, SEVEN_DAY):
        block = limits.get(name)
        if not isinstance(block, dict):
            continue
        pct = number(block.get("used_percentage"))
        if pct is None:
            continue
        windows[name] = {"pct": round(max(0.0, pct), 2), "resets_at": epoch(block.get("resets_at")),
                         "observed_at": now}
    if not windows:
        return None
    health, until, why = _limit_verdict(windows, now)
    return reading("statusline", now, health, windows, until,
                   f"status line reported {_pct_text(windows)}" + (f" ({why})" if why else ""))


def statusline_problem(doc: object, stdin: bytes) -> str:
    """Why a statusLine document gave no reading (for the debug log)."""
    if not stdin.strip():
        return "empty stdin"
    if doc is None:
        return "stdin is not a JSON document"
    if not isinstance(doc, dict) or "rate_limits" not in doc:
        return "no rate_limits in the document (before the session's first response, or not a statusLine document)"
    return "rate_limits holds no usable used_percentage"


# -- hooks -------------------------------------------------------------------------

def _field(event: dict, *names: str) -> object:
    """A field from the event or one of the blocks claude nests details in."""
    for block in (event, event.get("quotaLimits"), event.get("quota_limits"), event.get("rate_limit_info"),
                  event.get("error_details"), event.get("error") if isinstance(event.get("error"), dict) else None):
        if isinstance(block, dict):
            for name in names:
                if block.get(name) is not None:
                    return block[name]
    return None


HOOK_ERRORS = AUTH_ERRORS | {"rate_limit"}


def _hook_error(event: dict) -> str | None:
    """The failure's kind: ``error`` (as the hook event documents it), else ``error_type`` (some builds send
    ``error_type: "rate_limit"`` beside a short ``error`` such as ``"429"``)."""
    found = None
    for key in ("error", "error_type"):
        value = event.get(key)
        if isinstance(value, dict):
            value = value.get("type") or value.get("code")
        if isinstance(value, str):
            if value in HOOK_ERRORS:
                return value
            found = found or value
    return found


def parse_hook(event: object, now: float) -> dict | None:
    """A ``StopFailure`` event -> a throttle or an auth verdict; anything else -> None."""
    if not isinstance(event, dict) or event.get("hook_event_name") != "StopFailure":
        return None
    error = _hook_error(event)
    if error is None:
        return None
    if error in AUTH_ERRORS:
        return reading("hook", now, "auth_dead", {}, None, f"StopFailure: {error}")
    if error != "rate_limit":
        return None  # overloaded, server errors, ...: not the account's state
    kind = _field(event, "rateLimitType", "rate_limit_type", "window")
    window = WINDOW_ALIASES.get(kind) if isinstance(kind, str) else None
    until = epoch(_field(event, "resetsAt", "resets_at", "reset_at"))
    if window in MODEL_WINDOWS:
        return model_rejection("hook", now, window, until, {}, f"StopFailure: rate_limit ({window})")
    health = LIMIT_HEALTH.get(window, "rate_limited") if window else "rate_limited"
    named = f" ({window})" if window else ""
    return reading("hook", now, health, {}, until, f"StopFailure: rate_limit{named}")


# -- stream-json -------------------------------------------------------------------

def _stream_window(block: object, now: float) -> dict | None:
    if not isinstance(block, dict):
        return None
    fraction = number(block.get("utilization"))
    if fraction is None:
        return None
    return {"pct": round(max(0.0, fraction) * 100, 2), "resets_at": epoch(block.get("resetsAt")), "observed_at": now}


def parse_stream_event(event: object, now: float) -> dict | None:
    """One ``{"type": "rate_limit_event", "rate_limit_info": {...}}`` object -> a reading."""
    if not isinstance(event, dict) or event.get("type") != "rate_limit_event":
        return None
    info = event.get("rate_limit_info")
    if not isinstance(info, dict):
        return None
    status = info.get("status")
    kind = info.get("rateLimitType")
    window = WINDOW_ALIASES.get(kind) if isinstance(kind, str) else None
    windows = {}
    unified = info.get("unifiedWindows")
    if isinstance(unified, dict):
        for name, block in unified.items():
            known = WINDOW_ALIASES.get(name) if isinstance(name, str) else None
            parsed = _stream_window(block, now) if known else None
            if parsed:
                windows[known] = parsed
    if window and window not in windows:
        parsed = _stream_window({"utilization": info.get("utilization"), "resetsAt": info.get("resetsAt")}, now)
        if parsed:
            windows[window] = parsed
    resets = epoch(info.get("resetsAt"))
    if status == "rejected" and window in MODEL_WINDOWS:
        return model_rejection("stream", now, window, resets, windows,
                               f"stream-json rate_limit_event: rejected on {window}")
    if status == "rejected":
        health = LIMIT_HEALTH.get(window, "rate_limited") if window else "rate_limited"
        return reading("stream", now, health, windows, resets,
                       f"stream-json rate_limit_event: rejected{f' on {window}' if window else ''}")
    if status in ("allowed", "allowed_warning"):
        if not windows and status == "allowed":
            return reading("stream", now, "ok", {}, None, "stream-json rate_limit_event: allowed")
        health, until, why = _limit_verdict(windows, now)
        text = f"stream-json rate_limit_event: {status}" + (f", {_pct_text(windows)}" if windows else "")
        return reading("stream", now, health, windows, until, text + (f" ({why})" if why else ""))
    return None


def parse_stream_line(line: bytes | str, now: float) -> dict | None:
    """A stream-json line (bytes or text); only ``rate_limit_event`` lines are parsed."""
    raw = line.encode("utf-8", "replace") if isinstance(line, str) else line
    if STREAM_MARKER not in raw:
        return None
    try:
        event = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return parse_stream_event(event, now)


# -- the short status line -----------------------------------------------------------

def short_line(profile: str | None, reading_: dict | None) -> str:
    """``work · 5h 37% · 7d 62%`` (the profile alone for a reading without those windows)."""
    parts = [profile] if profile else []
    windows = (reading_ or {}).get("windows") or {}
    for name, label in ((FIVE_HOUR, "5h"), (SEVEN_DAY, "7d")):
        if name in windows:
            parts.append(f"{label} {int(windows[name]['pct'])}%")  # floored, as claude shows it
    health = (reading_ or {}).get("health")
    if health and health != "ok":
        parts.append(health)
    return " · ".join(parts)
