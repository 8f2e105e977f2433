"""The platform-status cache: a StatusFeed's answer kept in ``platform-status.json``.

A fetch is reused for the feed's TTL (60 s by default), a miss fetches with
a 2 s timeout, and when a fetch fails the last good answer is returned anyway
(with ``fetch_error`` set and its age): going dark during an actual incident
would defeat the point. The feed plugin only fetches and folds; caching lives
here so every feed gets it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import RoostError
from .records import PlatformStatus

if TYPE_CHECKING:
    from .context import RoostContext

DOC = "platform-status"
DEFAULT_TTL_S = 60.0
MISS_TIMEOUT_S = 2.0
STORED_FIELDS = ("indicator", "description", "active_incidents", "degraded_components", "fetched_at")


def _cache_key(ctx: "RoostContext", feed: Any) -> str:
    # The URL is part of the key: pointing roost elsewhere must not serve the old page's answer.
    return f"{feed.name} {ctx.settings.get('status_url')}"


def _from_doc(doc: dict[str, Any], key: str) -> tuple[PlatformStatus, float] | None:
    stored, at = doc.get("status"), doc.get("fetched_at_epoch")
    if doc.get("key") != key or not isinstance(stored, dict) or not isinstance(at, (int, float)):
        return None
    try:
        fields: dict[str, Any] = {k: stored.get(k) for k in STORED_FIELDS}
        status = PlatformStatus(**fields)
    except TypeError:
        return None
    status.active_incidents = _dicts(status.active_incidents)
    status.degraded_components = _dicts(status.degraded_components)
    return status, float(at)


def _dicts(value: Any) -> list[dict[str, Any]]:
    """The objects of a stored list; anything else (a damaged cache: true, a number) is no list."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _aged(status: PlatformStatus, fetched: float, now: float, error: str | None = None) -> PlatformStatus:
    status.age_seconds = int(max(0.0, now - fetched))  # whole seconds
    status.fetch_error = error
    return status


def _store(ctx: "RoostContext", key: str, status: PlatformStatus, now: float) -> None:
    payload = {"version": 1, "key": key, "fetched_at_epoch": now,
               "status": {k: getattr(status, k) for k in STORED_FIELDS}}
    try:
        ctx.state.update_doc(DOC, lambda _old: payload)
    except (RoostError, OSError) as err:
        ctx.warn(f"could not write the platform-status cache: {getattr(err, 'message', err)}")


def configured_feed(ctx: "RoostContext") -> Any:
    return ctx.host.get("feed", ctx.settings.get("status_feed"), "status feed")


def platform_status(ctx: "RoostContext", *, refresh: bool = False, timeout: float = MISS_TIMEOUT_S,
                    feed: Any = None) -> PlatformStatus:
    """The configured feed's status: cached within its TTL, else fetched; stale on a failed fetch.

    ``refresh`` fetches even when the cache is fresh (``status --no-cache``, doctor).
    ``feed`` skips the plugin lookup (a caller on another thread resolves it first).
    Never raises for a feed failure: it is reported in ``fetch_error``.
    """
    if feed is None:
        try:
            feed = configured_feed(ctx)
        except RoostError as err:  # no feed (disabled or misnamed): status still reports the profiles
            return PlatformStatus(fetch_error=err.message)
    ttl = float(getattr(feed, "ttl_s", None) or DEFAULT_TTL_S)
    key, now = _cache_key(ctx, feed), ctx.now()
    cached = _from_doc(ctx.state.read_doc(DOC), key)
    if cached and not refresh and now - cached[1] < ttl:
        return _aged(*cached, now)
    try:
        fresh = feed.fetch(ctx, timeout)
        error = fresh.fetch_error if isinstance(fresh, PlatformStatus) else "feed returned no PlatformStatus"
    except RoostError as err:
        error = err.message
    except Exception as exc:  # a feed plugin's bug must not break `status`
        error = f"{type(exc).__name__}: {exc}"
    if error is None:
        _store(ctx, key, fresh, now)
        return _aged(fresh, now, now)
    if cached:
        return _aged(*cached, now, error=error)
    return PlatformStatus(fetch_error=error)


HEADER_LIMIT = 400  # characters of the whole header line (feeds have sent 40 incidents of 20 KB names)
FIELD_LIMIT = 120  # characters of one feed string in it
LISTED = 3  # incidents (and degraded components) named before "+N more"


def _feed(value: Any, limit: int = FIELD_LIMIT) -> str:
    from .textsafe import clean_line

    return clean_line("None" if value is None else value, limit)


def incident_text(incident: dict[str, Any]) -> str:
    return (f"incident: '{_feed(incident.get('name'))}' "
            f"({_feed(incident.get('status'), 40)}, {_feed(incident.get('impact'), 40)})")


def _listed(items: list[str], noun: str) -> list[str]:
    if len(items) <= LISTED:
        return items
    return items[:LISTED] + [f"(+{len(items) - LISTED} more {noun})"]


def header_line(status: PlatformStatus | dict[str, Any] | None) -> str | None:
    """The one line shown above the status table, or None when everything is clean.

    ``· Anthropic: <description> incident: '<name>' (<status>, <impact>)``, then any
    degraded components, then the data's age when it comes from a failed refresh.
    Every feed string is sanitised (no control characters or escape sequences)
    and bounded, and so is the whole line (HEADER_LIMIT).
    """
    from .textsafe import bound

    if isinstance(status, dict):
        status = PlatformStatus(**{k: v for k, v in status.items() if k in PlatformStatus.__dataclass_fields__})
    if status is None or status.is_clean or (status.fetched_at is None and status.fetch_error):
        return None
    parts = [f"· Anthropic: {_feed(status.description or status.indicator or 'status unknown')}"]
    parts += _listed([incident_text(i) for i in status.active_incidents], "incidents")
    parts += _listed([f"degraded: {_feed(c.get('name'))} ({_feed(c.get('status'), 40)})"
                      for c in status.degraded_components], "degraded components")
    if status.fetch_error and status.age_seconds is not None:
        from .durations import format_duration

        parts.append(f"[as of {format_duration(status.age_seconds)} ago; refresh failed]")
    return bound(" ".join(parts), HEADER_LIMIT)
