"""Fan-out: run a plan's probes concurrently, each cut off at its deadline, then commit once.

A probe source is called through ``_call_source`` only: a deadline it
ignores, an exception it raises or a token it echoes never reaches the cache.
A 401 re-reads the credentials file (another process may have rotated the
token) and re-probes with the new token, following a few rotations in a row;
when the file still holds the probed token, it first waits for a refresh in
flight (its lock) to write the new one.
A warm cache never imports httpx.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ..errors import RoostError, ValidationError
from ..records import Classification, Health, HealthRecord, ProbeOutcome, Profile
from .. import healthcache
from .cache import (FORCE, LIVE, Plan, Probed, _cached_record, _commit, _not_probed, _ordered, _reserve,
                    _settings, get_records, plan_run)
from .local import Local, read_local
from .scrub import scrub, scrub_outcome

if TYPE_CHECKING:
    import asyncio

    from ..context import RoostContext

# Slack on top of a probe's deadline before the engine cancels a probe source that ignores it.
GRACE_S = 0.25
# Below this much time left, a 401 is not re-probed with a rotated token.
MIN_REPROBE_S = 0.2
# How many rotated tokens one probe follows after a 401 before it believes the 401.
MAX_REPROBES = 3
WAIT_POLL_S = 0.05
POOL_SIZE = 16  # connections per httpx client of a fan-out


def _accepts_deadline(source: Any) -> bool:
    import inspect

    try:
        return "deadline_s" in inspect.signature(source.probe).parameters
    except (TypeError, ValueError):
        return False


async def _call_source(ctx: "RoostContext", source: Any, local: Local, client: Any, deadline: float) -> ProbeOutcome:
    """One request through the probe source, cut off at the deadline whatever the source does."""
    import asyncio

    started = time.monotonic()
    token = local.token or ""
    try:
        async with asyncio.timeout(deadline + GRACE_S):
            if _accepts_deadline(source):
                outcome = await source.probe(local.profile, token, client, ctx, deadline_s=deadline)
            else:
                outcome = await source.probe(local.profile, token, client, ctx)
    except TimeoutError:
        outcome = ProbeOutcome(source.name, error="timeout", error_detail=f"no answer within {deadline:g}s")
    except ValidationError:
        raise  # configuration (a refused endpoint), not this profile's health
    except RoostError as err:
        outcome = ProbeOutcome(source.name, error="config", error_detail=err.message)
    except Exception as exc:  # a probe source bug must not sink the whole batch
        outcome = ProbeOutcome(source.name, error="plugin",
                               error_detail=f"probe source {source.name!r} raised {type(exc).__name__}: {exc}")
    if not isinstance(outcome, ProbeOutcome):
        outcome = ProbeOutcome(source.name, error="plugin", error_detail="probe source returned no ProbeOutcome")
    outcome.elapsed_s = outcome.elapsed_s or time.monotonic() - started
    return scrub_outcome(outcome, local.secrets)


def _classify(ctx: "RoostContext", local: Local, outcome: ProbeOutcome) -> Classification:
    now = ctx.now()
    verdict = ctx.host.classify(profile=local.profile, outcome=outcome, now=now, ctx=ctx)
    if verdict is None:
        return Classification(Health.UNKNOWN, 60.0, error="no classifier answered", classifier="engine",
                              reasons=["no roost_classify implementation returned a verdict"])
    if verdict.error:
        verdict.error = scrub(verdict.error, local.secrets)
    verdict.reasons = [scrub(r, local.secrets) for r in verdict.reasons]
    return verdict


async def _probe_one(ctx: "RoostContext", source: Any, client: Any, gate: asyncio.Semaphore,
                     local: Local, deadline: float) -> Probed:
    async with gate:
        started = time.monotonic()
        outcome = await _call_source(ctx, source, local, client, deadline)
        notes: list[str] = []
        extra: list[float] = []
        # Another process may have rotated the token: re-read before concluding auth_dead. While
        # the file keeps changing under a busy refresher, follow it (a few times, within the deadline).
        waited = False
        for _ in range(MAX_REPROBES):
            if outcome.status != 401:
                break
            fresh = read_local(ctx, local.profile)
            if not waited and fresh.token == local.token:
                # A rotation may be in flight elsewhere: the token endpoint has answered (the old
                # token is dead) but the new one is not written yet. Wait for its refresh lock.
                waited = True
                await _wait_for_rotation(ctx, local.profile, deadline - (time.monotonic() - started) - MIN_REPROBE_S)
                fresh = read_local(ctx, local.profile)
            left = deadline - (time.monotonic() - started)
            if not fresh.token or fresh.token == local.token or fresh.expired(ctx.now()):
                notes.append("HTTP 401; re-read the credentials file: the token is unchanged")
                break
            if left < MIN_REPROBE_S:
                notes.append("HTTP 401; the credentials file changed but no time was left to re-probe")
                break
            notes.append("HTTP 401 with the token probed; the credentials file now holds another "
                         "token: re-probed with it")
            local = fresh
            extra.append(ctx.now())
            outcome = await _call_source(ctx, source, local, client, left)
    verdict = _classify(ctx, local, outcome)
    verdict.reasons = notes + verdict.reasons
    return Probed(local, outcome, verdict, ctx.now(), extra)


async def _wait_for_rotation(ctx: "RoostContext", profile: Profile, budget: float) -> None:
    """Wait up to ``budget`` s for a refresh of ``profile`` that holds its lock (in any process, or on
    any machine of a fleet) to finish; an uncontended lock returns at once. Never raises: a lock still
    held at the end leaves the 401 as it was."""
    if budget <= 0:
        return
    import asyncio

    from ..refresh import refresh_lock

    def wait() -> None:
        try:
            with refresh_lock(ctx, profile, budget):
                pass
        except (RoostError, OSError):
            pass

    await asyncio.to_thread(wait)


async def _wait_for_others(ctx: "RoostContext", plan: Plan, progress: Any) -> None:
    """Use the results of probes other processes have in flight (instead of asking again)."""
    import asyncio

    start = time.monotonic()
    pending = {name: start + max(0.0, until - plan.now) for name, until in plan.waiting.items()}
    while pending:
        await asyncio.sleep(WAIT_POLL_S)
        doc = healthcache.read(ctx)
        entries, live = healthcache.entries(ctx, doc), healthcache.live_inflight(doc, ctx.now())
        for name, give_up_at in list(pending.items()):
            entry = entries.get(name) or {}
            checked = entry.get("checked_at")
            done = isinstance(checked, (int, float)) and checked >= plan.now - 1
            if done or name not in live or time.monotonic() >= give_up_at:  # not live: its prober died
                plan.records[name] = (_cached_record(entry, valid=done)
                                      or _not_probed(plan.locals[name], "another roost process is probing it"))
                del pending[name]
                progress.landed(name, plan.records[name])


def _skip_absent_sniffio() -> None:
    """Make httpcore's per-request ``import sniffio`` cheap when sniffio is not installed.

    httpcore imports it afresh for every connection lock; each failed import re-scans
    sys.path (about 0.5 ms, several times a request: seconds of CPU for 1000 probes). A
    None entry in sys.modules makes that import fail at once, exactly as it did before.
    """
    import importlib.util
    import sys

    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


def probe_source(ctx: "RoostContext") -> Any:
    """The configured probe source, its settings checked (VALIDATION before any request or budget use)."""
    source = ctx.host.get("probe", ctx.settings.get("probe_source"), "probe source")
    check = getattr(source, "check", None)
    if callable(check):
        check(ctx)
    return source


async def _landed(progress: Any, pending: Any) -> Probed:
    from ..progress import observed, provisional_record

    item = await pending
    progress.landed(item.local.profile.name, provisional_record(item) if observed() else None)
    return item


async def _probe_all(ctx: "RoostContext", plan: Plan, source: Any, granted: list[Profile], deadline: float,
                     concurrency: int, progress: Any) -> list[Probed]:
    import asyncio

    if not granted:
        return []
    import contextlib

    from ..http import make_async_client, verifying_context

    _skip_absent_sniffio()
    gate = asyncio.Semaphore(concurrency)
    # httpcore scans its whole pool for every request it places, so one pool of B connections
    # costs O(requests x B) in bookkeeping: pools of POOL_SIZE keep that linear (same B in flight).
    pools = max(1, -(-min(concurrency, len(granted)) // POOL_SIZE))
    size = -(-concurrency // pools)
    shared = verifying_context() if pools > 1 else None
    async with contextlib.AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(make_async_client(ctx, max_connections=size, ssl_context=shared))
                   for _ in range(pools)]
        return list(await asyncio.gather(*(_landed(progress, _probe_one(ctx, source, clients[i % pools], gate,
                                                                      plan.locals[p.name], deadline))
                                            for i, p in enumerate(granted))))


def _notify(ctx: "RoostContext", probed: list[Probed]) -> None:
    for item in probed:
        ctx.host.notify("roost_probe_completed", "observer", profile=item.local.profile, outcome=item.outcome,
                        record=item.record, ctx=ctx)


async def execute(ctx: "RoostContext", plan: Plan, *, timeout: float | None = None) -> tuple[list[Probed], Plan]:
    """Run a plan: reserve, probe and wait concurrently, commit once, notify observers."""
    import asyncio

    deadline, concurrency, limit = _settings(ctx, timeout)
    source = probe_source(ctx) if plan.to_probe else None
    granted = _reserve(ctx, plan, deadline, limit) if plan.to_probe else []
    from ..progress import for_batch

    progress = for_batch(ctx)  # "probing 12/50" on a terminal's stderr once the batch passes 300 ms
    progress.begin(len(granted) + len(plan.waiting))
    try:
        probed, _ = await asyncio.gather(_probe_all(ctx, plan, source, granted, deadline, concurrency, progress),
                                         _wait_for_others(ctx, plan, progress))
    finally:
        progress.end()
    if probed:
        _commit(ctx, probed)
        _notify(ctx, probed)
    for item in probed:
        if item.record is not None:  # _commit gave every item its record
            plan.records[item.local.profile.name] = item.record
    return probed, plan


async def probe_many(ctx: "RoostContext", profiles: list[Profile], *, force: bool = False,
                     timeout: float | None = None) -> list[HealthRecord]:
    """Live-probe every profile (TTL and backoff ignored); ``force`` also overrides the budget."""
    plan = plan_run(ctx, profiles, FORCE if force else LIVE)
    await execute(ctx, plan, timeout=timeout)
    return _ordered(plan, profiles)
