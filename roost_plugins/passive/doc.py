"""Writing the ``passive`` document (its format: roost_core/passive_doc.py): stdlib only and pure.

Used alike by the fast path (fast.py) and the full path (recording.py, through
the state backend). A new reading of a source replaces the old one, except
that windows it did not report are kept from the previous reading of that
source, each with its own ``observed_at`` (a stream event names one window at
a time); windows older than ``KEEP_WINDOW_S`` go. A reading with no health
(a rejection on one model's week) never replaces its source's limit or auth
verdict still in force: it only adds its windows to it.
"""

from roost_core.api import PASSIVE_DOC as DOC
from roost_core.api import PASSIVE_DOC_VERSION as VERSION
from roost_core.api import passive_profiles_of as profiles_of
from roost_core.api import passive_readings_of as readings_of

__all__ = ["DOC", "KEEP_WINDOW_S", "LOCK_FILE", "REPEAT_S", "readings_of", "repeats", "with_reading"]
# files backend: the per-document lock file under <config>/locks/ (docstore.lock_file_name("doc:passive"),
# kept as a constant so the fast path needs no hashlib; a unit test keeps them equal).
LOCK_FILE = "doc_passive.61665eb0badc.lock"
# Windows older than this are dropped when their source writes again.
KEEP_WINDOW_S = 8 * 24 * 3600.0


def with_reading(doc, name: str, reading: dict, cred_mtime_ns=None) -> dict:
    """A copy of ``doc`` with ``reading`` recorded for profile ``name``."""
    doc = dict(doc) if isinstance(doc, dict) else {}
    profiles = dict(profiles_of(doc))
    found = profiles.get(name)
    mine = dict(found) if isinstance(found, dict) else {}
    source = reading.get("source") or "passive"
    new = dict(reading)
    new["cred_mtime_ns"] = cred_mtime_ns
    previous = mine.get(source)
    if reading.get("health") is None and isinstance(previous, dict) and _in_force(previous, reading, cred_mtime_ns):
        new = {**previous, "windows": {**previous.get("windows", {}), **(reading.get("windows") or {})}}
    elif isinstance(previous, dict) and isinstance(previous.get("windows"), dict):
        cutoff = float(reading.get("observed_at") or 0) - KEEP_WINDOW_S
        kept = {w: v for w, v in previous["windows"].items()
                if isinstance(v, dict) and isinstance(v.get("observed_at"), (int, float)) and v["observed_at"] > cutoff}
        kept.update(new.get("windows") or {})
        new["windows"] = kept
    mine[source] = new
    profiles[name] = mine
    doc["profiles"] = profiles
    doc["version"] = VERSION
    return doc


def _in_force(previous, reading: dict, cred_mtime_ns) -> bool:
    """True when ``previous`` is a limit not yet reset, or an auth verdict on these credentials."""
    if not isinstance(previous, dict) or not isinstance(previous.get("windows", {}), dict):
        return False
    health, until = previous.get("health"), previous.get("until")
    if health == "auth_dead":
        return previous.get("cred_mtime_ns") == cred_mtime_ns
    return health in ("rate_limited", "session_limit", "weekly_limit") and isinstance(until, (int, float)) \
        and until > float(reading.get("observed_at") or 0)


# A status line at 1 Hz repeats itself: an identical reading this soon after the stored one is not written.
REPEAT_S = 15.0


def repeats(doc, name: str, reading: dict, cred_mtime_ns=None) -> bool:
    """True when ``reading`` says what the stored reading of its source said, less than REPEAT_S ago."""
    old = readings_of(doc, name).get(reading.get("source") or "passive")
    if not old or old.get("cred_mtime_ns") != cred_mtime_ns:
        return False
    if not 0 <= float(reading.get("observed_at") or 0) - old["observed_at"] < REPEAT_S:
        return False
    same = all(old.get(k) == reading.get(k) for k in ("health", "until", "reason"))
    windows = old.get("windows") if isinstance(old.get("windows"), dict) else {}
    for window, block in (reading.get("windows") or {}).items():
        before = windows.get(window)
        if not isinstance(before, dict) or (before.get("pct"), before.get("resets_at")) != \
                (block.get("pct"), block.get("resets_at")):
            return False
    return same
