"""The eight-state classifier (docs/health.md, "The eight states"), as a trylast roost_classify.

Order, first match wins: network exception -> local expiry (no request was
made) -> HTTP 200 with utilisation (a malformed one is unknown) -> 401 -> 403 scope check -> 429 ->
unknown. Every verdict carries the reasons trace and --explain print.
TTLs: ok 5 min; rate_limited retry-after (or 60 s) plus a random 5-15 %; session/weekly limit until
the window's resets_at; auth_dead and auth_expired until the credentials
file changes (ttl None); network_error 30 s (the engine doubles it per
consecutive failure); unknown 60 s.
"""

from __future__ import annotations

from typing import Any

from roost_core.api import hookimpl
from roost_core.api import Classification, Health, ProbeOutcome

NAME = "taxonomy"
OK_TTL = 300.0
RATE_LIMIT_TTL = 60.0
NETWORK_TTL = 30.0
UNKNOWN_TTL = 60.0
MAX_RETRY_AFTER_S = 7 * 86400.0  # every server-given wait is bounded to a week (docs/RELIABILITY.md)
# A limit whose resets_at is missing gets the ok TTL; one already past is re-probed soon.
NO_RESET_TTL = OK_TTL
PAST_RESET_TTL = 60.0
MAX_MESSAGE = 200
# A usage 429's next probe: retry-after plus this share of it (docs/wire.md).
JITTER_MIN, JITTER_MAX = 0.05, 0.15
# The deadline a 429 may set: capped so that it plus the largest margin stays within the week
# (capping the sum instead would put a huge Retry-After's next probe exactly at the deadline).
MAX_429_DEADLINE_S = MAX_RETRY_AFTER_S / (1 + JITTER_MAX)
# Transport failures (roost_core.http); other outcome errors (a body over the cap, a broken
# probe source) are answers roost could not read, so they classify as unknown.
NETWORK_ERRORS = frozenset({"timeout", "connect", "dns", "tls", "protocol"})


def _verdict(health: Health, ttl: float | None, *reasons: str, **fields: Any) -> Classification:
    from roost_core.api import server_duration

    # Every TTL comes from a server's numbers (retry-after, resets_at): a week at most, never NaN.
    ttl = None if ttl is None else server_duration(ttl)
    if fields.get("retry_after_s") is not None:
        fields["retry_after_s"] = server_duration(fields["retry_after_s"])
    return Classification(health, ttl, reasons=list(reasons), classifier=NAME, **fields)


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """Seconds from a Retry-After header (delta or HTTP-date); None when absent, 0 or unparsable.

    ``0`` means "no information" on this endpoint (docs/health.md), not "retry now".
    """
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        import email.utils  # an HTTP-date is rare; email costs ~9 ms a warm pick never needs

        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if moment is None or moment.tzinfo is None:
            return None
        seconds = moment.timestamp() - now
    if seconds != seconds or seconds <= 0 or seconds == float("inf"):
        return None
    return min(float(seconds), MAX_RETRY_AFTER_S)  # 1e12 would throttle past year 9999


def probe_jitter(seconds: float) -> float:
    """A random 5-15 % of a 429's wait: a retry at the deadline is blocked again about half
    the time, and blocks that end together must not retry together."""
    import random

    return seconds * random.uniform(JITTER_MIN, JITTER_MAX)


def _api_error(body: Any) -> tuple[str | None, str | None]:
    """(error.type, error.message) from the API error envelope, when there is one."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        kind, message = error.get("type"), error.get("message")
        return (kind if isinstance(kind, str) else None,
                " ".join(message.split())[:MAX_MESSAGE] if isinstance(message, str) else None)
    return None, None


def error_code(body: Any) -> str | None:
    """``error.details.error_code`` of an API error envelope (401 ``token_expired``)."""
    error = body.get("error") if isinstance(body, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    code = details.get("error_code") if isinstance(details, dict) else None
    return code if isinstance(code, str) else None


def _flat_text(outcome: ProbeOutcome) -> str:
    """The body with whitespace collapsed, lower-cased (the 403 message sometimes wraps)."""
    return " ".join(outcome.body.decode("utf-8", "replace").split()).lower()


def is_scope_403(outcome: ProbeOutcome) -> bool:
    text = _flat_text(outcome)
    return ("permission_error" in text or "scope" in text) and "user:profile" in text


def _until(resets_at: str | None, now: float, what: str) -> tuple[float, str]:
    from roost_plugins.anthropic.usage import to_epoch

    epoch = to_epoch(resets_at)
    if epoch is None:
        return NO_RESET_TTL, f"{what}.resets_at missing: re-check in {NO_RESET_TTL:.0f}s"
    if epoch <= now:
        return PAST_RESET_TTL, f"{what}.resets_at {resets_at} already passed: re-check in {PAST_RESET_TTL:.0f}s"
    return epoch - now, f"blocked until {what}.resets_at {resets_at}"


def classify_200(outcome: ProbeOutcome, now: float) -> Classification:
    from roost_plugins.anthropic.usage import malformed, parse_usage

    body = outcome.json()
    usage = parse_usage(body)
    if usage is None:
        problem = outcome.json_problem() if hasattr(outcome, "json_problem") else None
        return _verdict(Health.UNKNOWN, UNKNOWN_TTL, "HTTP 200 but the body is not a JSON object"
                        + (f" ({problem})" if problem else ""),
                        error="malformed usage body")
    wrong = malformed(body)
    if wrong is not None:  # e.g. an exhausted session sent as "100" must not read as a healthy profile
        return _verdict(Health.UNKNOWN, UNKNOWN_TTL, f"HTTP 200 but {wrong[0]} ({wrong[1]})",
                        f"unknown for {UNKNOWN_TTL:.0f}s: no figure of this body is trusted",
                        error=f"malformed usage body: {wrong[0]}")
    # Weekly first: when both windows are spent, the weekly reset is when the profile is usable again.
    if usage.weekly_pct is not None and usage.weekly_pct >= 100:
        ttl, why = _until(usage.weekly_resets_at, now, "seven_day")
        return _verdict(Health.WEEKLY_LIMIT, ttl, f"HTTP 200 with seven_day.utilization={usage.weekly_pct:g} >= 100",
                        why, *_binding(usage), usage=usage, error="weekly limit reached")
    if usage.session_pct is not None and usage.session_pct >= 100:
        ttl, why = _until(usage.session_resets_at, now, "five_hour")
        return _verdict(Health.SESSION_LIMIT, ttl, f"HTTP 200 with five_hour.utilization={usage.session_pct:g} >= 100",
                        why, *_binding(usage), usage=usage, error="session limit reached")
    scoped = [m for m in usage.model_limits if isinstance(m.get("pct"), (int, float)) and m["pct"] >= 100]
    binding = _binding(usage)
    figures = ", ".join(f"{k}={v:g}" for k, v in (("five_hour", usage.session_pct), ("seven_day", usage.weekly_pct))
                        if v is not None) or "no utilisation figures"
    reasons = [f"HTTP 200 with {figures} (all < 100)", f"ok for {OK_TTL:.0f}s"]
    reasons += [f"model-scoped limit {m['model']} at {m['pct']:g}% (pick --model {m['model']} skips it)"
                for m in scoped]
    return _verdict(Health.OK, OK_TTL, *reasons, *binding, usage=usage)


def _binding(usage: Any) -> list[str]:
    """The reason naming the binding limit (limits[] ``is_active``), if any."""
    limit = usage.binding_limit
    if not limit:
        return []
    label = limit.get("kind") or "limit"
    if limit.get("model"):
        label += f" ({limit['model']})"
    pct = limit.get("pct")
    return [f"binding limit: {label}" + (f" at {pct:g}%" if isinstance(pct, (int, float)) else "")]


def classify_outcome(outcome: ProbeOutcome, now: float) -> Classification:
    """The eight-state mapping of one probe outcome."""
    if outcome.error in NETWORK_ERRORS:
        detail = f": {outcome.error_detail}" if outcome.error_detail else ""
        return _verdict(Health.NETWORK_ERROR, NETWORK_TTL, f"transport failure ({outcome.error}){detail}",
                        error=f"network error: {outcome.error}")
    if outcome.local_expired:
        return _verdict(Health.AUTH_EXPIRED, None, "stored expiresAt is in the past; no request was made",
                        "valid until the credentials file changes (a refresh, or a new login)", error="access token expired")
    if outcome.error == "too_large":
        return _verdict(Health.UNKNOWN, UNKNOWN_TTL, f"HTTP {outcome.status}: response body over the size cap",
                        error="response too large")
    if outcome.error:
        detail = f": {outcome.error_detail}" if outcome.error_detail else ""
        return _verdict(Health.UNKNOWN, UNKNOWN_TTL, f"probe failed ({outcome.error}){detail}",
                        error=f"probe failed: {outcome.error}")
    status = outcome.status
    if status == 200:
        return classify_200(outcome, now)
    kind, message = _api_error(outcome.json())
    said = f" ({kind}: {message})" if kind or message else ""
    if status == 401 and error_code(outcome.json()) == "token_expired":
        return _verdict(Health.AUTH_EXPIRED, None, f"HTTP 401 error.details.error_code=token_expired{said}",
                        "the access token expired (clock skew?): a refresh cures it",
                        error="access token expired (token_expired)")
    if status == 401:
        return _verdict(Health.AUTH_DEAD, None, f"HTTP 401{said}", "dead until a new login or refresh changes the file",
                        error=message or "authentication failed")
    if status == 403 and is_scope_403(outcome):
        return _verdict(Health.OK, OK_TTL, "HTTP 403 scope requirement user:profile: the token works for "
                        "inference but cannot read usage", "ok with no usage figures", error=None)
    if status == 403 and "revoked" in _flat_text(outcome):
        return _verdict(Health.AUTH_DEAD, None, f"HTTP 403 token revoked{said}", error=message or "token revoked")
    if status == 429:
        header = outcome.headers.get("retry-after")
        seconds = retry_after_seconds(header, now)
        why = (f"retry-after {header!r} -> {seconds:.0f}s" if seconds is not None
               else f"retry-after {header!r} gives no information: default {RATE_LIMIT_TTL:.0f}s")
        seconds = seconds if seconds is not None else RATE_LIMIT_TTL
        if seconds > MAX_429_DEADLINE_S:
            seconds = MAX_429_DEADLINE_S
            why += f", capped at {seconds:.0f}s (the margin must fit in the week)"
        wait = seconds + probe_jitter(seconds)  # strictly after the deadline, a week at most
        return _verdict(Health.RATE_LIMITED, wait, f"HTTP 429{said}", why,
                        f"next probe in {wait:.0f}s (retry-after + {wait / seconds - 1:.0%}: never at the deadline)",
                        error=f"rate limited; next probe in {wait:.0f}s", retry_after_s=seconds)
    what = f"HTTP {status}" if status is not None else "no response"
    return _verdict(Health.UNKNOWN, UNKNOWN_TTL, f"{what}{said}: not a known answer",
                    error=f"{what}{': ' + message if message else ''}")


@hookimpl(trylast=True)
def roost_classify(outcome: ProbeOutcome, now: float) -> Classification:
    return classify_outcome(outcome, now)
