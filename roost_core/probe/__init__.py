"""The probe engine: cached health, live probes, the budget and the backoff.

One idea per module: ``scrub`` (redaction), ``local`` (the credentials side),
``cache`` (cache validity and the budget), ``fanout`` (concurrent probes),
``raw`` (raw and traced probes).

Public API (other commands code against it):

* ``cached_records(ctx, profiles)``: no network, no writes.
* ``get_records(ctx, profiles, force=, offline=)``: the cache where it is
  valid, live probes (concurrent) for the rest; a warm cache never imports
  httpx.
* ``probe_many(ctx, profiles, force=)``: live-probe every given profile.
* ``probe_raw(ctx, profile)`` / ``probe_raw_many``: the untouched body.
* ``probe_traced(ctx, profile)``: one forced probe with its outcome and verdict.

Modes of a run: AUTO probes only profiles whose cache entry is invalid (TTL
passed, or the credentials file changed) and waits for a probe another roost
process already has in flight; LIVE probes every profile; FORCE also
ignores the probe budget. AUTO and LIVE never exceed the per-profile budget
(``probe_budget`` probes per rolling hour, shared by every process through
the health document): a spent budget serves the cached record instead.

A batch touches the health document at most twice: one update reserves the
budget (and marks probes in flight) under the document lock, one merges the
results. Entries are merged with what is on disk at that moment, so
concurrent processes never lose each other's entries.
"""

from __future__ import annotations

from typing import Any

# Lazy (PEP 562): a warm pick or exec imports only ``cache`` and ``local``; the
# fan-out engine (``fanout``) and ``raw`` load when a probe actually runs.
_EXPORTS = {
    "AUTO": "cache", "FORCE": "cache", "LIVE": "cache", "Plan": "cache", "Probed": "cache",
    "budget_meta": "cache", "build_entry": "cache", "cached_records": "cache", "get_records": "cache",
    "plan_run": "cache",
    "execute": "fanout", "probe_many": "fanout", "probe_source": "fanout",
    "Local": "local", "build_record": "local", "iso": "local", "local_verdict": "local", "read_local": "local",
    "probe_raw": "raw", "probe_raw_many": "raw", "probe_traced": "raw", "raw_result": "raw",
    "scrub": "scrub", "scrub_outcome": "scrub",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
