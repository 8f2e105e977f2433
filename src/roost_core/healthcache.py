"""The health cache document ("health" in the state backend; health.json for files).

Shape: {"version": 1, "profiles": {name: entry}}; entries are written by the
probe engine (see probe.py). Here: the operations other commands need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .context import RoostContext

DOC = "health"


def entries(ctx: "RoostContext") -> dict[str, dict[str, Any]]:
    profiles = ctx.state.read_doc(DOC).get("profiles")
    return profiles if isinstance(profiles, dict) else {}


def drop(ctx: "RoostContext", *names: str) -> None:
    """Forget cached health for these profiles (the next probe re-classifies)."""

    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        profiles = doc.get("profiles") if isinstance(doc.get("profiles"), dict) else {}
        for name in names:
            profiles.pop(name, None)
        return {**doc, "version": 1, "profiles": profiles}

    ctx.state.update_doc(DOC, edit)
