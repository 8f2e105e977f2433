"""The ``passive`` state document, as the health engine reads it: the latest reading per profile and source.

Stdlib only and pure. Shape::

    {"version": 1,
     "profiles": {name: {source: reading}}}    # source: statusline | hook | stream | a site's

A reading is the dict the passive parsers build (roost_plugins/passive/
parsers.py documents it) plus ``cred_mtime_ns``: the credentials file as it
was when the reading arrived (an auth verdict ends when the file changes).
The passive plugin writes it (roost_plugins/passive/doc.py: how a new reading
replaces the old one); the merge rule (roost_core.passive) reads it.
"""

DOC = "passive"
VERSION = 1


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


def without_profiles(doc, names) -> dict:
    """A copy of ``doc`` without these profiles' readings."""
    doc = dict(doc) if isinstance(doc, dict) else {}
    profiles = {k: v for k, v in profiles_of(doc).items() if k not in set(names)}
    doc["profiles"] = profiles
    doc["version"] = VERSION
    return doc
