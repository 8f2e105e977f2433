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

from .cache import AUTO, FORCE, LIVE, Plan, Probed, budget_meta, build_entry, cached_records, plan_run
from .fanout import execute, get_records, probe_many, probe_source
from .local import Local, build_record, iso, local_verdict, read_local
from .raw import probe_raw, probe_raw_many, probe_traced, raw_result
from .scrub import scrub, scrub_outcome

__all__ = ["AUTO", "FORCE", "LIVE", "Local", "Plan", "Probed", "budget_meta", "build_entry", "build_record",
           "cached_records", "execute", "get_records", "iso", "local_verdict", "plan_run", "probe_many",
           "probe_raw", "probe_raw_many", "probe_source", "probe_traced", "raw_result", "read_local", "scrub",
           "scrub_outcome"]
