"""Health summaries shared by ``status``, ``probe`` and plugin views (``top``).

``summary_line`` is the one-line stdout text; ``health_meta`` the ``meta``
of a health listing (counts per state, record sources, probe budgets).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .records import Health, HealthRecord

if TYPE_CHECKING:
    from .context import RoostContext

STATE_ORDER = [h.value for h in Health]


def counts(records: list[HealthRecord]) -> dict[str, int]:
    found = {state: 0 for state in STATE_ORDER}
    for record in records:
        found[record.health.value] += 1
    return found


def summary_line(records: list[HealthRecord]) -> str:
    """``3 profiles: 2 ok, 1 rate_limited`` (states in taxonomy order, zeros left out)."""
    noun = "profile" if len(records) == 1 else "profiles"
    parts = [f"{n} {state}" for state, n in counts(records).items() if n]
    return f"{len(records)} {noun}" + (": " + ", ".join(parts) if parts else "")


def health_meta(ctx: "RoostContext", records: list[HealthRecord], profiles: list[Any]) -> dict[str, Any]:
    from .probe import budget_meta

    sources: dict[str, int] = {}
    for record in records:
        sources[record.source] = sources.get(record.source, 0) + 1
    return {"count": len(records), **counts(records), "sources": sources,
            "budget": budget_meta(ctx, profiles)}
