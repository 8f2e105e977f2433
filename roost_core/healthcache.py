"""The health cache document ("health" in the state backend; health.json for files).

Shape (docs/health.md, "The cache")::

    {"version": 1,
     "profiles": {name: entry},            # the last verdict per profile
     "probes":   {name: [epoch, ...]},     # probe times in the last hour (the budget)
     "inflight": {name: mark}}             # a process is probing it until then

    mark = {"until": epoch, "pid": int, "start": str, "boot": str}   # (older files: a bare epoch)

    entry = {"record": HealthRecord dict, "usage": Usage dict | None,
             "reasons": [...], "checked_at": epoch, "valid_until": epoch | None,
             "cred_mtime_ns": int | None, "backoff": n, "last_good": {"usage", "at"} | None}

The budget lives beside the entries, not in them, so ``invalidate``/``drop``
(and a refresh) forget the verdict but not how often the endpoint was asked.
Entries are written by the probe engine (roost_core.probe); this module
holds the format and the operations other commands need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .records import HealthRecord

if TYPE_CHECKING:
    from .context import RoostContext

DOC = "health"
VERSION = 1
BUDGET_WINDOW_S = 3600.0
BACKOFF_BASE_S = 30.0
BACKOFF_CAP_S = 480.0


def section(doc: dict[str, Any], key: str) -> dict[str, Any]:
    """A copy of one top-level map of the document (empty when missing or damaged)."""
    value = doc.get(key)
    return dict(value) if isinstance(value, dict) else {}


def read(ctx: "RoostContext") -> dict[str, Any]:
    """The whole document (corrupt or missing reads as empty)."""
    return ctx.state.read_doc(DOC)


def entries(ctx: "RoostContext", doc: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Entries by profile name (only well-formed ones)."""
    profiles = section(read(ctx) if doc is None else doc, "profiles")
    return {name: entry for name, entry in profiles.items() if isinstance(entry, dict)}


def drop(ctx: "RoostContext", *names: str) -> None:
    """Forget cached health for these profiles (the next probe re-classifies).

    The probe budget is kept: the endpoint still remembers those requests.
    """

    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        profiles, inflight = section(doc, "profiles"), section(doc, "inflight")
        for name in names:
            profiles.pop(name, None)
            inflight.pop(name, None)
        return {**doc, "version": VERSION, "profiles": profiles, "inflight": inflight}

    ctx.state.update_doc(DOC, edit)


def drop_all(ctx: "RoostContext") -> list[str]:
    """Forget every cached verdict; returns the names that had one."""
    dropped: list[str] = []

    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        dropped.extend(sorted(section(doc, "profiles")))
        return {**doc, "version": VERSION, "profiles": {}, "inflight": {}}

    ctx.state.update_doc(DOC, edit)
    return dropped


# -- validity --------------------------------------------------------------------

def is_valid(entry: dict[str, Any] | None, now: float, cred_mtime_ns: int | None) -> bool:
    """Still true: the TTL has not passed and the credentials file is the one probed."""
    if not entry or not isinstance(entry.get("record"), dict):
        return False
    if entry.get("cred_mtime_ns") != cred_mtime_ns:
        return False
    until = entry.get("valid_until")
    return until is None or (isinstance(until, (int, float)) and now < until)


_NUMBER_FIELDS = ("session_pct", "weekly_pct", "sonnet_pct", "opus_pct", "overage_pct", "retry_after_s")
_TEXT_FIELDS = ("name", "plan", "session_resets_at", "weekly_resets_at", "expires_at", "error", "checked_at",
                "next_probe_at", "valid_until", "last_good_at", "observed_at")


def _mistyped(record: dict[str, Any]) -> bool:
    """A record field of the wrong type (a hand-edited or foreign health.json): the entry is damaged."""
    numbers = (record.get(key) for key in _NUMBER_FIELDS)
    texts = (record.get(key) for key in _TEXT_FIELDS)
    return (any(v is not None and type(v) not in (int, float) for v in numbers)  # bool is no number here
            or any(v is not None and type(v) is not str for v in texts))


def record_of(entry: dict[str, Any] | None) -> HealthRecord | None:
    """The cached HealthRecord, or None when the entry is missing or damaged (then it is probed again)."""
    if not entry or not isinstance(entry.get("record"), dict) or _mistyped(entry["record"]):
        return None
    try:
        return HealthRecord.from_dict(entry["record"])
    except (TypeError, ValueError):
        return None


# -- budget and backoff ----------------------------------------------------------------

def probe_times(doc: dict[str, Any], name: str, now: float, window_s: float = BUDGET_WINDOW_S) -> list[float]:
    """This profile's probe times inside the rolling window, oldest first."""
    times = section(doc, "probes").get(name)
    if not isinstance(times, list):
        return []
    return sorted(t for t in times if isinstance(t, (int, float)) and now - window_s < t <= now + 60)


def budget(doc: dict[str, Any], name: str, now: float, limit: int,
           window_s: float = BUDGET_WINDOW_S) -> dict[str, Any]:
    """``{used, limit, window_s}`` for status --json meta (and ``resets_in_s`` when spent)."""
    times = probe_times(doc, name, now, window_s)
    use: dict[str, Any] = {"used": len(times), "limit": limit, "window_s": int(window_s)}
    if limit > 0 and len(times) >= limit and times:
        use["resets_in_s"] = round(max(0.0, times[len(times) - limit] + window_s - now), 1)
    return use


def with_probe_times(doc: dict[str, Any], stamps: dict[str, list[float]], now: float) -> dict[str, list[float]]:
    """The ``probes`` section with ``stamps`` added and times outside the window pruned."""
    probes = {}
    for name in set(section(doc, "probes")) | set(stamps):
        times = probe_times(doc, name, now) + list(stamps.get(name, ()))
        if times:
            probes[name] = sorted(times)
    return probes


def backoff_delay(failures: int, base: float = BACKOFF_BASE_S, cap: float = BACKOFF_CAP_S) -> float:
    """network_error TTL after ``failures`` consecutive failures: 30, 60, 120, 240, 480 s (cap)."""
    return min(base * 2 ** min(max(failures, 1) - 1, 16), max(cap, base))


# -- in-flight marks ----------------------------------------------------------------------

def inflight_mark(until: float) -> dict[str, Any]:
    """This process's mark: probing until ``until``; the owner (pid, start time, boot) lets others see it die."""
    import os

    from .leases import boot_id, process_start

    pid = os.getpid()
    return {"until": until, "pid": pid, "start": process_start(pid), "boot": boot_id()}


def mark_until(mark: Any) -> float | None:
    """When a mark (or an older file's bare epoch) runs out."""
    value = mark.get("until") if isinstance(mark, dict) else mark
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def mark_owner_alive(mark: Any) -> bool:
    """False when the mark's owner is provably gone (exited, killed, another boot); a bare epoch has no owner."""
    if not isinstance(mark, dict) or not isinstance(mark.get("pid"), int) or isinstance(mark.get("pid"), bool):
        return True
    from .leases import boot_id, process_start

    boot = mark.get("boot")
    if isinstance(boot, str) and boot_id() not in (None, boot):
        return False  # the machine rebooted since
    start = process_start(mark["pid"])
    return start is not None and (mark.get("start") in (None, start))


def live_inflight(doc: dict[str, Any], now: float) -> dict[str, Any]:
    """The in-flight marks still ahead whose owner lives: a crashed or killed prober's mark is dropped."""
    return {name: mark for name, mark in section(doc, "inflight").items()
            if (mark_until(mark) or 0.0) > now and mark_owner_alive(mark)}
