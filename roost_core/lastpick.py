"""last-pick.json: the primary pick, for sticky and round-robin."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from .records import LastPick

if TYPE_CHECKING:
    from .context import RoostContext

DOC = "last-pick"


def read(ctx: "RoostContext") -> LastPick | None:
    doc = ctx.state.read_doc(DOC)
    try:
        return LastPick(str(doc["name"]), datetime.fromisoformat(str(doc["at"]).replace("Z", "+00:00")),
                        doc.get("strategy"))
    except (KeyError, ValueError, TypeError):
        return None


def write(ctx: "RoostContext", pick: LastPick) -> None:
    payload = {"name": pick.name, "at": pick.at.isoformat(), "strategy": pick.strategy}
    ctx.state.replace_doc(DOC, payload)  # depends on nothing read: no lock (and no filelock import)


def clear_if(ctx: "RoostContext", name: str, new_name: str | None = None) -> None:
    """Clear (or retarget on rename) last-pick.json when it points at ``name``."""

    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        if doc.get("name") != name:
            return doc
        return {**doc, "name": new_name} if new_name else {}

    if ctx.state.read_doc(DOC).get("name") == name:
        ctx.state.update_doc(DOC, edit)
