"""The ``passive`` state document: the latest passive reading per profile and source.

Stdlib only and pure, so the ``roost statusline`` / ``roost hook`` fast path
(roost_plugins/passive/fast.py) and the full path (roost_core.passive, through the
state backend) edit it the same way. Shape::

    {"version": 1,
     "profiles": {name: {source: reading}}}    # source: statusline | hook | stream | a site's

A reading is the dict the passive parsers build (roost_plugins/passive/
parsers.py documents it) plus ``cred_mtime_ns``: the credentials file as it
was when the reading arrived (an auth verdict ends when the file changes).
A new reading of a source replaces the old one, except that windows it did
not report are kept from the previous reading of that source, each with its
own ``observed_at`` (a stream event names one window at a time).
"""

DOC = "passive"
VERSION = 1
# files backend: the per-document lock file under <config>/locks/ (docstore.lock_file_name("doc:passive"),
# kept as a constant so the fast path needs no hashlib; a unit test keeps them equal).
LOCK_FILE = "doc_passive.61665eb0badc.lock"
# Windows older than this are dropped when their source writes again.
KEEP_WINDOW_S = 8 * 24 * 3600.0


def profiles_of(doc) -> dict:
    profiles = doc.get("profiles") if isinstance(doc, dict) else None
    return profiles if isinstance(profiles, dict) else {}


def readings_of(doc, name: str) -> dict:
    """``{source: reading}`` for one profile (only well-formed readings)."""
    found = profiles_of(doc).get(name)
    if not isinstance(found, dict):
        return {}
    return {s: r for s, r in found.items()
            if isinstance(r, dict) and isinstance(r.get("observed_at"), (int, float))}


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
    if isinstance(previous, dict) and isinstance(previous.get("windows"), dict):
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


def without_profiles(doc, names) -> dict:
    """A copy of ``doc`` without these profiles' readings."""
    doc = dict(doc) if isinstance(doc, dict) else {}
    profiles = {k: v for k, v in profiles_of(doc).items() if k not in set(names)}
    doc["profiles"] = profiles
    doc["version"] = VERSION
    return doc


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
