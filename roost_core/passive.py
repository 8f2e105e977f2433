"""Passive health in the engine: the readings of a running claude merged with probes.

The passive plugin (roost_plugins/passive) reads what claude reports anyway
(the statusLine document, the StopFailure hook event, stream-json
``rate_limit_event`` lines under exec) and records it; each reading carries
its ``source`` and ``observed_at``, and the ``passive`` document (roost_core.
passive_doc) keeps the latest per profile and source. This module is the rule
the health engine applies to them.

Merging (``Evidence``): the freshest evidence decides.

* A passive reading newer than the profile's last probe stands in for a
  probe (no request, no probe budget) until the probe cache would have
  expired: an ``ok`` for ``STANDIN_TTL_S`` (the probe's ok TTL), a limit
  until its reset, a throttle without a reset for ``THROTTLE_TTL_S``.
* An auth verdict from a hook (``auth_dead``: authentication_failed,
  oauth_org_not_allowed, account_on_hold, billing_error) holds until the
  credentials file changes or a newer probe says otherwise; later figures
  from a status line do not clear it (a person must act).
* Once the freshest passive reading has expired, the older probe entry is
  no longer trusted either: the next AUTO run probes.
* Figures: each window the passive readings reported (newer than the
  probe) replaces the probe's figure for that window; a window no passive
  reading reported keeps the probe's figure (or none): nothing is invented.
* A reading without a health (``health: None``: a rejection on one model's
  weekly window) only adds figures: that model's limit at 100 % until its
  reset, in ``model_limits`` as a probe's ``limits[]`` entry would be, so
  ``pick --model`` skips the profile. It never decides the profile's health:
  the cached probe (while valid) or a decisive passive reading does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import passive_doc

if TYPE_CHECKING:
    from .context import RoostContext
    from .probe.local import Local
    from .records import HealthRecord

PASSIVE_SOURCES = ("statusline", "hook", "stream")
STANDIN_TTL_S = 300.0  # the probe cache's ok TTL (taxonomy OK_TTL)
THROTTLE_TTL_S = 60.0  # the probe cache's rate_limited TTL without a retry-after
AUTH_HEALTH = "auth_dead"
THROTTLE = ("rate_limited", "session_limit", "weekly_limit")
WINDOW_FIELDS = {"five_hour": ("session_pct", "session_resets_at"),
                 "seven_day": ("weekly_pct", "weekly_resets_at"),
                 "seven_day_opus": ("opus_pct", None), "seven_day_sonnet": ("sonnet_pct", None),
                 "overage": ("overage_pct", None)}
# Model-scoped windows: the model's name in model_limits (a probe's limits[] entries name it alike).
MODEL_WINDOWS = {"seven_day_opus": "Opus", "seven_day_sonnet": "Sonnet"}


def iso(epoch: float | None) -> str | None:
    from datetime import datetime, timezone

    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def age_text(seconds: float) -> str:
    from .durations import format_duration

    return format_duration(max(0.0, seconds))


# -- forgetting ------------------------------------------------------------------

def forget(ctx: "RoostContext", *names: str) -> None:
    ctx.state.update_doc(passive_doc.DOC, lambda doc: passive_doc.without_profiles(doc, names))



# -- merging -----------------------------------------------------------------------

def _expires(reading: dict[str, Any]) -> float | None:
    """When a reading stops standing in for a probe (None: when the credentials change)."""
    observed, health, until = reading["observed_at"], reading.get("health"), reading.get("until")
    if health == AUTH_HEALTH:
        return None
    if health in THROTTLE:
        if isinstance(until, (int, float)) and until > observed:
            return float(until)
        return observed + (THROTTLE_TTL_S if health == "rate_limited" else STANDIN_TTL_S)
    return observed + STANDIN_TTL_S


class Evidence:
    """The passive document, read once per run, and the merge rules above."""

    def __init__(self, doc: dict[str, Any] | None):
        self.doc = doc or {}

    @classmethod
    def load(cls, ctx: "RoostContext") -> "Evidence":
        try:
            return cls(ctx.state.read_doc(passive_doc.DOC))
        except Exception as exc:  # passive evidence is a bonus: never break a status or pick
            ctx.warn(f"passive readings unreadable ({type(exc).__name__}); using probes only")
            return cls({})

    def readings(self, name: str) -> dict[str, dict[str, Any]]:
        return passive_doc.readings_of(self.doc, name)

    def newer(self, name: str, probed_at: float | None, cred_mtime_ns: int | None) -> list[dict[str, Any]]:
        """Readings newer than the last probe (an auth reading only while the credentials are unchanged)."""
        found = []
        for reading in self.readings(name).values():
            if probed_at is not None and reading["observed_at"] <= probed_at:
                continue
            if reading.get("health") == AUTH_HEALTH and reading.get("cred_mtime_ns") not in (None, cred_mtime_ns):
                continue  # a new login or refresh since: the person acted
            found.append(reading)
        return sorted(found, key=lambda r: r["observed_at"])

    def supersedes(self, name: str, entry: dict[str, Any] | None, cred_mtime_ns: int | None) -> bool:
        """True when passive evidence newer than the cached probe exists (the probe no longer decides)."""
        return bool(self.newer(name, _probed_at(entry), cred_mtime_ns))

    def decide(self, name: str, entry: dict[str, Any] | None, cred_mtime_ns: int | None,
               now: float) -> dict[str, Any] | None:
        """The deciding reading and its validity, or None when the probe (or a new probe) decides."""
        newer = self.newer(name, _probed_at(entry), cred_mtime_ns)
        if not newer:
            return None
        auth = [r for r in newer if r.get("health") == AUTH_HEALTH]
        decisive = [r for r in newer if r.get("health") is not None]
        if not decisive:  # figures only (a model's limit): the cached probe's verdict stands
            return {"reading": None, "valid_until": None, "figures": newer}
        chosen = auth[-1] if auth else decisive[-1]
        until = _expires(chosen)
        if until is not None and until <= now:
            return None  # the freshest evidence has expired: probe again
        return {"reading": chosen, "valid_until": until, "figures": newer}

    def stand_in(self, local: "Local", entry: dict[str, Any] | None, now: float) -> "HealthRecord | None":
        """A record decided by passive evidence (no probe), or None."""
        decision = self.decide(local.profile.name, entry, local.mtime_ns, now)
        if decision is None:
            return None
        if decision["reading"] is None:
            from .healthcache import is_valid

            if entry is None or not is_valid(entry, now, local.mtime_ns):
                return None  # no valid probe to add the figures to: probe
            return figures_record(entry, decision, now)
        return build_record(local, entry, decision, now)


def _probed_at(entry: dict[str, Any] | None) -> float | None:
    checked = entry.get("checked_at") if isinstance(entry, dict) else None
    return float(checked) if isinstance(checked, (int, float)) else None


def _seen_before(window: dict[str, Any], probed_at: float | None) -> bool:
    """A window kept from a source's earlier reading, older than the probe: the probe's figure stands."""
    seen = window.get("observed_at")
    return probed_at is not None and isinstance(seen, (int, float)) and seen <= probed_at


def build_record(local: "Local", entry: dict[str, Any] | None, decision: dict[str, Any],
                 now: float) -> "HealthRecord":
    from .probe.cache import _cached_record
    from .probe.local import build_record as local_record
    from .records import Health

    reading = decision["reading"]
    base = _cached_record(entry, valid=True) if entry else None
    record = base or local_record(local, Health.UNKNOWN)
    creds = local.creds
    if creds is not None:
        record.plan, record.expires_at = creds.plan, creds.expires_at_iso()
    try:
        record.health = Health(reading.get("health") or "ok")
    except ValueError:  # a site source's own word for it
        record.health = Health.UNKNOWN
    overlay(record, decision["figures"], _probed_at(entry), now)
    observed = reading["observed_at"]
    until = reading.get("until")
    record.error = None if record.health is Health.OK else reading.get("reason")
    record.retry_after_s = (round(until - observed, 1) if record.health in (Health.RATE_LIMITED,)
                            and isinstance(until, (int, float)) else None)
    if record.health is Health.SESSION_LIMIT and isinstance(until, (int, float)):
        record.session_resets_at = iso(until)
    if record.health is Health.WEEKLY_LIMIT and isinstance(until, (int, float)):
        record.weekly_resets_at = iso(until)
    record.source = reading.get("source") or "passive"
    record.observed_at = iso(observed)
    record.checked_at = iso(observed)
    record.valid_until = iso(decision["valid_until"])
    record.stale = False
    record.evidence = explain(reading, entry, now)
    return record


def overlay(record: "HealthRecord", figures: list[dict[str, Any]], probed: float | None, now: float) -> None:
    """Each window's freshest passive figure onto ``record`` (readings oldest first)."""
    for item in figures:
        for window, block in (item.get("windows") or {}).items():
            pct_field, reset_field = WINDOW_FIELDS.get(window, (None, None))
            if not pct_field or not isinstance(block, dict) or not isinstance(block.get("pct"), (int, float)) \
                    or _seen_before(block, probed):
                continue
            resets = block.get("resets_at")
            if window in MODEL_WINDOWS and isinstance(resets, (int, float)) and resets <= now:
                continue  # that model's week has reset since: the figure is over
            setattr(record, pct_field, float(block["pct"]))
            if reset_field:
                setattr(record, reset_field, iso(resets))
            if window in MODEL_WINDOWS:
                _model_limit(record, MODEL_WINDOWS[window], block)


def _model_limit(record: "HealthRecord", model: str, block: dict[str, Any]) -> None:
    """A model window's figure as that model's ``model_limits`` entry, as a probe's ``limits[]``
    would give it (a probe's entry naming the model is updated in place, else one is added)."""
    resets = block.get("resets_at")
    word = model.lower()
    limits = [dict(m) for m in record.model_limits or [] if isinstance(m, dict)]
    named = [m for m in limits if word in str(m.get("model") or "").lower().replace("-", " ").split()]
    for entry in named or [{"model": model, "id": None, "active": False}]:
        entry.update(pct=float(block["pct"]), resets_at=iso(resets) if isinstance(resets, (int, float)) else None)
        entry["active"] = bool(entry.get("active")) or block["pct"] >= 100
        if not named:
            limits.append(entry)
    record.model_limits = limits


def figures_record(entry: dict[str, Any], decision: dict[str, Any], now: float) -> "HealthRecord | None":
    """The valid cached probe's record with the figures of readings that decide no health."""
    from .probe.cache import _cached_record

    record = _cached_record(entry, valid=True)
    if record is None:
        return None
    overlay(record, decision["figures"], _probed_at(entry), now)
    latest = decision["figures"][-1]
    record.evidence = (f"the cached probe from {record.checked_at} decided (still valid); "
                       f"{latest.get('source') or 'passive'} {age_text(now - latest['observed_at'])} ago added: "
                       f"{latest.get('reason') or 'figures'} (no health of its own)")
    return record


def explain(reading: dict[str, Any], entry: dict[str, Any] | None, now: float) -> str:
    """Which evidence decided and why, in one line."""
    source, observed = reading.get("source") or "passive", reading["observed_at"]
    probed = _probed_at(entry)
    versus = (f"newer than the last probe ({age_text(now - probed)} ago)" if probed is not None
              else "no probe yet")
    holds = {AUTH_HEALTH: "holds until the credentials change",
             None: ""}.get(reading.get("health"), "")
    why = reading.get("reason") or "a passive reading"
    text = f"{source} {age_text(now - observed)} ago decided: {why}; {versus}; no probe spent"
    return f"{text}; {holds}" if holds else text


def probe_evidence(record: "HealthRecord", ev: "Evidence", now: float) -> str | None:
    """For a probe-decided record: the passive readings it outranks, if any."""
    readings = ev.readings(record.name)
    if not readings:
        return None
    freshest = max(readings.values(), key=lambda r: r["observed_at"])
    return (f"probe decided: the freshest passive reading ({freshest.get('source')}, "
            f"{age_text(now - freshest['observed_at'])} ago) is older than the probe or has expired")


def describe(record: "HealthRecord", ev: "Evidence", now: float) -> str:
    """Which evidence decided ``record`` and why (show, trace, pick --explain)."""
    if record.evidence:
        return record.evidence
    what = {"probe": "a probe just now", "cache": "the cached probe", "local": "the credentials file alone",
            "store": "the state store withholding the credentials"}
    base = what.get(record.source, record.source)
    seen = f" from {record.observed_at}" if record.observed_at and record.source != "probe" else ""
    other = probe_evidence(record, ev, now)
    return f"{base}{seen} decided" + (f"; {other.split(': ', 1)[1]}" if other else "; no passive reading")


def _iso_windows(windows: Any) -> dict[str, Any]:
    """A reading's windows with their times in ISO 8601, as every other time in a record."""
    def when(value: Any) -> Any:
        return iso(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value

    return {name: {**block, "resets_at": when(block.get("resets_at")), "observed_at": when(block.get("observed_at"))}
            for name, block in (windows or {}).items() if isinstance(block, dict)} if isinstance(windows, dict) else {}


def summary(ctx: "RoostContext", name: str, now: float) -> dict[str, Any]:
    """``show``/``trace``/doctor detail: the stored readings and their ages."""
    ev = Evidence.load(ctx)
    readings = ev.readings(name)
    return {"readings": {source: {**{k: v for k, v in r.items() if k != "cred_mtime_ns"},
                                  "observed_at": iso(r["observed_at"]), "until": iso(r.get("until")),
                                  "windows": _iso_windows(r.get("windows")),
                                  "age_s": round(now - r["observed_at"], 1)}
                         for source, r in sorted(readings.items())},
            "last_observed_at": iso(max((r["observed_at"] for r in readings.values()), default=None))}
