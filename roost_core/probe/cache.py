"""Cache and budget: what a run may answer from the health document, and what it may probe.

AUTO serves a valid cache entry (TTL not passed, credentials file unchanged)
and waits for a probe another process has in flight; LIVE probes every
profile; NO_CACHE (``--no-cache``) also ignores the budget but not a usage
429's hold; FORCE (``--force``) ignores both. The budget is ``probe_budget`` probes
per account per rolling hour, shared through the health document. A batch
touches the document at most twice: one update reserves budget slots and
in-flight marks, one merges the results with what is on disk at that moment.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from .. import healthcache
from ..durations import format_duration
from ..errors import RoostError
from ..passive import Evidence
from ..profiles import alias_roots
from ..records import WITHHELD_SOURCE, Classification, Health, HealthRecord, ProbeOutcome, Profile
from .local import (Local, build_record, cred_mtime_ns, iso, local_verdict, read_local, unrefreshable,
                    usage_from_dict)

if TYPE_CHECKING:
    from ..context import RoostContext

AUTO, LIVE, NO_CACHE, FORCE = "auto", "live", "no-cache", "force"
OVER_BUDGET = (NO_CACHE, FORCE)  # the modes that probe a spent budget anyway
# Health-document section: account (alias root) -> epoch before which a usage 429 forbids probing it.
BLOCKED = "blocked"
# Beside it, the 429 that set each block: account -> {"until", "checked_at", "retry_after_s"}. A record
# served while the block holds carries these even when its cache entry was dropped (invalidate, a refresh)
# or the account's 429 came through another of its names. A separate section so that an older roost
# sharing the document (a fleet) still reads ``blocked`` as it always did.
BLOCKED_BY = "blocked_by"
BLOCKED_429_ERROR = "usage endpoint rate limited (429)"


def _verdict_record(local: Local, verdict: Classification, now: float) -> HealthRecord:
    return build_record(local, verdict.health, usage=verdict.usage, error=verdict.error,
                        retry_after_s=verdict.retry_after_s, checked_at=now,
                        source=WITHHELD_SOURCE if local.withheld else "local")


def _cached_record(entry: dict[str, Any], valid: bool) -> HealthRecord | None:
    record = healthcache.record_of(entry)
    if record is None:
        return None
    record.source = "cache"
    record.observed_at = record.observed_at or record.checked_at
    record.stale = record.stale or not valid
    return record


def _not_probed(local: Local, why: str = "not probed yet") -> HealthRecord:
    return build_record(local, Health.UNKNOWN, error=why, source="local")


def cached_records(ctx: "RoostContext", profiles: list[Profile]) -> list[HealthRecord]:
    """Health from the cache and the credentials files only: no network, no writes."""
    now = ctx.now()
    doc = healthcache.read(ctx)
    entries = healthcache.entries(ctx, doc)
    evidence = Evidence.load(ctx)
    roots: dict[str, str] | None = None
    records = []
    for profile in profiles:
        entry = entries.get(profile.name)
        mtime = cred_mtime_ns(profile)
        newer = evidence.supersedes(profile.name, entry, mtime)  # passive evidence newer than the probe
        if not newer and healthcache.is_valid(entry, now, mtime):
            record = _cached_record(entry or {}, valid=True)
            if record is not None:
                records.append(record)
                continue
        local = read_local(ctx, profile)
        verdict = local_verdict(ctx, local, now, classify=False)
        if verdict is not None:
            records.append(_verdict_record(local, verdict, now))
            continue
        standin = evidence.stand_in(local, entry, now) if newer else None
        if standin is not None:
            records.append(standin)
            continue
        if roots is None:  # symlinked names are one account: one 429 block
            roots = alias_roots(ctx.profiles())
        key = roots.get(profile.name, profile.name)
        until = blocked_until(doc, key, now)
        if until is not None:  # a 429 hold outlives invalidate: offline reads show it too
            records.append(held_record(local, entry, until, blocked_by(doc, key, until), now))
            continue
        records.append(_cached_record(entry or {}, valid=False) or _not_probed(local))
    return records


@dataclass
class Probed:
    """One finished probe on its way into the cache (or a local verdict, which is never cached)."""

    local: Local
    outcome: ProbeOutcome | None
    verdict: Classification
    checked_at: float
    extra_probe_times: list[float] = field(default_factory=list)
    record: HealthRecord | None = None


@dataclass
class Plan:
    mode: str
    now: float
    records: dict[str, HealthRecord] = field(default_factory=dict)
    locals: dict[str, Local] = field(default_factory=dict)
    to_probe: list[Profile] = field(default_factory=list)
    waiting: dict[str, float] = field(default_factory=dict)  # name -> in-flight deadline elsewhere
    local_probed: list[Probed] = field(default_factory=list)


def _settings(ctx: "RoostContext", timeout: float | None) -> tuple[float, int, int]:
    deadline = float(timeout if timeout is not None else ctx.settings.get("timeout"))
    concurrency = max(1, int(ctx.settings.get("probe_concurrency")))
    budget = int(ctx.settings.get("probe_budget"))
    return deadline, concurrency, budget


def plan_run(ctx: "RoostContext", profiles: list[Profile], mode: str) -> Plan:
    """Decide per profile: cached, local verdict, or a probe (no network, no writes)."""
    plan = Plan(mode, ctx.now())
    entries = healthcache.entries(ctx)
    evidence = Evidence.load(ctx) if mode == AUTO else None
    for profile in profiles:
        entry = entries.get(profile.name)
        mtime = cred_mtime_ns(profile)
        # Passive evidence newer than the cached probe decides instead of it (docs/passive-health.md).
        newer = evidence is not None and evidence.supersedes(profile.name, entry, mtime)
        if mode == AUTO and not newer and healthcache.is_valid(entry, plan.now, mtime):
            record = _cached_record(entry or {}, valid=True)
            if record is not None:
                plan.records[profile.name] = record
                continue
        local = read_local(ctx, profile)
        plan.locals[profile.name] = local
        verdict = local_verdict(ctx, local, plan.now, classify=True)
        standin = evidence.stand_in(local, entry, plan.now) if newer and evidence and verdict is None else None
        if verdict is not None:
            plan.local_probed.append(Probed(local, None, verdict, plan.now))
            plan.records[profile.name] = _verdict_record(local, verdict, plan.now)
        elif standin is not None:  # a passive reading stands in for a probe: no request, no budget
            plan.records[profile.name] = standin
        else:
            plan.to_probe.append(profile)
    return plan


def blocked_until(doc: dict[str, Any], key: str, now: float) -> float | None:
    """When a usage-endpoint 429 lets this account be probed again, if that is still ahead."""
    until = healthcache.section(doc, BLOCKED).get(key)
    return float(until) if isinstance(until, (int, float)) and not isinstance(until, bool) and until > now else None


def _epoch_or_none(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def blocked_by(doc: dict[str, Any], key: str, until: float) -> dict[str, float | None]:
    """``{checked_at, retry_after_s}`` of the 429 that set this account's block (``until``); both None
    when unknown (a block written by an older roost, or one another 429 has replaced since)."""
    info = healthcache.section(doc, BLOCKED_BY).get(key)
    if not isinstance(info, dict) or _epoch_or_none(info.get("until")) != until:
        return {"checked_at": None, "retry_after_s": None}
    return {"checked_at": _epoch_or_none(info.get("checked_at")),
            "retry_after_s": _epoch_or_none(info.get("retry_after_s"))}


def held_record(local: Local, entry: dict[str, Any] | None, until: float, info: dict[str, float | None],
                now: float) -> HealthRecord:
    """The record of a profile a usage 429 holds back: its cached rate_limited record when there is one,
    else one built from the block's own memory (the 429's checked_at and retry_after_s), so a dropped
    entry loses none of the evidence; ``next_probe_at`` is the block's end either way."""
    record = _cached_record(entry or {}, valid=healthcache.is_valid(entry, now, local.mtime_ns))
    if record is None or record.health is not Health.RATE_LIMITED:
        record = build_record(local, Health.RATE_LIMITED, error=BLOCKED_429_ERROR,
                              retry_after_s=info["retry_after_s"], checked_at=info["checked_at"],
                              valid_until=_cap_at_expiry(local, Health.RATE_LIMITED, until), source="cache",
                              stale=True)
    record.next_probe_at = iso(until)
    return record


def _reserve(ctx: "RoostContext", plan: Plan, deadline: float, limit: int) -> list[Profile]:
    """Take budget slots and in-flight marks under the document lock; return what may be probed."""
    granted: list[Profile] = []
    over: dict[str, dict[str, Any]] = {}
    held: dict[str, tuple[float, dict[str, float | None]]] = {}
    roots = alias_roots(ctx.profiles())

    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        granted.clear()
        over.clear()
        held.clear()
        plan.waiting.clear()
        now = ctx.now()
        inflight = healthcache.live_inflight(doc, now)  # a dead prober's mark is not waited on
        stamps: dict[str, list[float]] = {}
        for profile in plan.to_probe:
            name = profile.name
            if plan.mode == AUTO and name in inflight:
                plan.waiting[name] = healthcache.mark_until(inflight[name]) or now
                continue
            key = roots.get(name, name)  # symlinked names are one account: one budget, one 429 block
            until = blocked_until(doc, key, now)
            if until is not None and plan.mode != FORCE:
                held[name] = until, blocked_by(doc, key, until)
                continue
            used = len(healthcache.probe_times(doc, key, now)) + len(stamps.get(key, ()))
            if limit > 0 and used >= limit:
                over[name] = healthcache.budget(doc, key, now, limit)
                if plan.mode not in OVER_BUDGET:
                    continue
            granted.append(profile)
            stamps.setdefault(key, []).append(now)
            inflight[name] = healthcache.inflight_mark(now + deadline * 2 + 1)  # room for a 401 re-probe
        return {**doc, "version": healthcache.VERSION, "inflight": inflight,
                "probes": healthcache.with_probe_times(doc, stamps, now)}

    try:
        ctx.state.update_doc(healthcache.DOC, edit)
    except (RoostError, OSError) as err:  # a stuck lock, a full disk: probing unbudgeted beats reporting nothing
        ctx.warn(f"could not reserve the probe budget ({getattr(err, 'message', err)}); probing without it")
        granted[:] = list(plan.to_probe)
        plan.waiting.clear()
    for name, use in over.items():
        _say_over_budget(ctx, plan, name, use)
    for name, (until, info) in held.items():
        _hold_back(ctx, plan, name, until, info)
    return granted


def _hold_back(ctx: "RoostContext", plan: Plan, name: str, until: float, info: dict[str, float | None]) -> None:
    """No probe before a usage 429's next probe time: serve what is known (stale), say when."""
    local = plan.locals[name]
    record = held_record(local, healthcache.entries(ctx).get(name), until, info, plan.now)
    if plan.mode in (LIVE, NO_CACHE):  # asked to probe: say why not
        ctx.warn(f"not probing {name!r}: the usage endpoint answered 429; next probe at {iso(until)} "
                 f"(in {format_duration(until - plan.now)}; --force probes anyway)")
    plan.records[name] = record


def _say_over_budget(ctx: "RoostContext", plan: Plan, name: str, use: dict[str, Any]) -> None:
    spent = f"{use['used']}/{use['limit']} probes in the last hour"
    if plan.mode in OVER_BUDGET:
        ctx.warn(f"profile {name!r} is over its probe budget ({spent}); probing anyway because it was forced")
        return
    local = plan.locals[name]
    entry = healthcache.entries(ctx).get(name)
    valid = healthcache.is_valid(entry, plan.now, local.mtime_ns)
    record = _cached_record(entry or {}, valid) or _not_probed(local, "not probed yet (probe budget spent)")
    checked = entry.get("checked_at") if entry else None
    age = f"from {format_duration(plan.now - checked)} ago" if isinstance(checked, (int, float)) else "(none yet)"
    slot = f", next slot in {format_duration(use['resets_in_s'])}" if "resets_in_s" in use else ""
    override = "--no-cache" if plan.mode == AUTO else "--force"
    ctx.warn(f"probe budget spent for {name!r} ({spent}{slot}); showing its cached result {age} "
             f"({override} probes anyway)")
    plan.records[name] = record


def _cap_at_expiry(local: Local, health: Health, until: float | None) -> float | None:
    """A verdict about a live token holds at most until that token expires (then auth_expired)."""
    expiry = local.expiry()
    if until is None or expiry is None or health in (Health.AUTH_DEAD, Health.AUTH_EXPIRED):
        return until
    return min(until, expiry) if expiry > 0 else until


def build_entry(old: dict[str, Any] | None, probed: Probed) -> tuple[dict[str, Any], HealthRecord]:
    """The new cache entry for a probe, merged with the entry on disk (backoff, last good usage)."""
    old = old or {}
    verdict, now = unrefreshable(probed.local, probed.verdict), probed.checked_at  # a 401 token_expired too
    previous = old.get("backoff")
    previous = previous if type(previous) is int and previous > 0 else 0  # a damaged count starts over
    failures = previous + 1 if verdict.health is Health.NETWORK_ERROR else 0
    ttl = verdict.ttl_s
    if verdict.health is Health.NETWORK_ERROR:
        ttl = healthcache.backoff_delay(failures, ttl or healthcache.BACKOFF_BASE_S)
        verdict.reasons.append(f"network_error #{failures} in a row: re-probe in {ttl:.0f}s")
    until = _cap_at_expiry(probed.local, verdict.health, None if ttl is None else now + ttl)
    last_good = old.get("last_good") if isinstance(old.get("last_good"), dict) else None
    if verdict.usage is not None and verdict.health in (Health.OK, Health.SESSION_LIMIT, Health.WEEKLY_LIMIT):
        last_good = {"usage": asdict(verdict.usage), "at": now}
    usage, stale, good_at = verdict.usage, False, None
    if verdict.health is Health.RATE_LIMITED and usage is None and last_good:
        usage, stale, good_at = usage_from_dict(last_good.get("usage")), True, last_good.get("at")
        verdict.reasons.append(f"kept the last good usage reading from {iso(good_at)} (stale)")
    record = build_record(probed.local, verdict.health, usage=usage, error=verdict.error,
                          retry_after_s=verdict.retry_after_s, checked_at=now, valid_until=until,
                          source="probe", stale=stale, last_good_at=good_at)
    if verdict.health is Health.RATE_LIMITED and ttl is not None:
        record.next_probe_at = iso(now + ttl)  # retry-after + 5-15 %: the account's next probe
    outcome = probed.outcome
    entry = {"record": record.to_dict(), "usage": asdict(usage) if usage is not None else None,
             "reasons": list(verdict.reasons), "classifier": verdict.classifier, "checked_at": now,
             "valid_until": until, "cred_mtime_ns": probed.local.mtime_ns, "backoff": failures,
             "last_good": last_good,
             "outcome": {"status": outcome.status, "error": outcome.error,
                         "elapsed_s": round(outcome.elapsed_s, 4)} if outcome else None}
    return entry, record


def _commit(ctx: "RoostContext", probed: list[Probed]) -> None:
    """Merge every result of the batch into the document in one update."""

    roots = alias_roots(ctx.profiles())

    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        profiles = healthcache.entries(ctx, doc)
        inflight = healthcache.section(doc, "inflight")
        now = ctx.now()
        blocked = {k: v for k, v in healthcache.section(doc, BLOCKED).items()
                   if isinstance(v, (int, float)) and v > now}
        causes = {k: v for k, v in healthcache.section(doc, BLOCKED_BY).items() if k in blocked}
        extra: dict[str, list[float]] = {}
        for item in probed:
            name = item.local.profile.name
            profiles[name], item.record = build_entry(profiles.get(name), item)
            inflight.pop(name, None)
            if item.extra_probe_times:
                extra[name] = item.extra_probe_times
            key = roots.get(name, name)
            if item.outcome is not None and item.record.next_probe_at:
                blocked[key] = item.checked_at + (item.verdict.ttl_s or 0.0)
                causes[key] = {"until": blocked[key], "checked_at": item.checked_at,
                               "retry_after_s": item.verdict.retry_after_s}
            elif item.outcome is not None and item.outcome.status is not None:
                blocked.pop(key, None)  # the endpoint answers again (a forced probe)
                causes.pop(key, None)
        return {**doc, "version": healthcache.VERSION, "profiles": profiles, "inflight": inflight,
                BLOCKED: blocked, BLOCKED_BY: causes, "probes": healthcache.with_probe_times(doc, extra, now)}

    try:
        ctx.state.update_doc(healthcache.DOC, edit)
    except (RoostError, OSError) as err:  # the verdicts still stand; only the cache misses them
        ctx.warn(f"could not write the health cache: {getattr(err, 'message', err)}")
        for item in probed:
            if item.record is None:
                item.record = build_entry(None, item)[1]


def budget_meta(ctx: "RoostContext", profiles: list[Profile]) -> dict[str, dict[str, Any]]:
    """``{name: {used, limit, window_s}}`` for every profile (status --json meta.budget)."""
    doc, now, limit = healthcache.read(ctx), ctx.now(), int(ctx.settings.get("probe_budget"))
    roots = alias_roots(profiles)
    return {p.name: healthcache.budget(doc, roots[p.name], now, limit) for p in profiles}


def _ordered(plan: Plan, profiles: list[Profile]) -> list[HealthRecord]:
    return [plan.records.get(p.name) or _not_probed(plan.locals.get(p.name) or Local(p, None)) for p in profiles]


def get_records(ctx: "RoostContext", profiles: list[Profile], *, force: bool = False, offline: bool = False,
                timeout: float | None = None) -> list[HealthRecord]:
    """Records in ``profiles`` order: the cache where valid, live probes for the rest.

    ``force`` probes every profile, over budget too (``--no-cache``), but never one a usage 429
    holds back (only ``probe --force`` and ``trace --force`` override that); ``offline`` never probes. A warm cache imports no HTTP library.
    """
    if offline:
        return cached_records(ctx, profiles)
    plan = plan_run(ctx, profiles, NO_CACHE if force else AUTO)
    if plan.to_probe:
        import asyncio

        from .fanout import execute  # the engine, only when something is probed

        asyncio.run(execute(ctx, plan, timeout=timeout))
    return _ordered(plan, profiles)
