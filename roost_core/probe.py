"""The probe engine: cached health, live probes, the budget and the backoff.

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

import os
import re
import time
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from . import healthcache
from .credentials import Credentials, CredentialsError, redact
from .durations import format_duration
from .errors import RoostError, ValidationError
from .profiles import alias_roots
from .records import Classification, Health, HealthRecord, ProbeOutcome, Profile, Usage

if TYPE_CHECKING:
    import asyncio

    from .context import RoostContext

AUTO, LIVE, FORCE = "auto", "live", "force"
# Slack on top of a probe's deadline before the engine cancels a probe source that ignores it.
GRACE_S = 0.25
# Below this much time left, a 401 is not re-probed with a rotated token.
MIN_REPROBE_S = 0.2
WAIT_POLL_S = 0.05
TOKEN_PATTERN = re.compile(r"sk-ant-[A-Za-z0-9]+-[A-Za-z0-9_\-]{4,}")
USAGE_FIELDS = ("session_pct", "weekly_pct", "sonnet_pct", "opus_pct", "overage_pct",
                "session_resets_at", "weekly_resets_at", "overage_enabled")


def iso(epoch: float | None) -> str | None:
    from datetime import datetime, timezone

    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


# -- secrets -----------------------------------------------------------------------

def scrub(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` with every known token, and anything shaped like one, cut to its last 4 characters."""
    for secret in secrets:
        if secret and len(secret) >= 8:
            text = text.replace(secret, redact(secret))
    return TOKEN_PATTERN.sub(lambda m: redact(m.group(0)), text)


def scrub_outcome(outcome: ProbeOutcome, secrets: tuple[str, ...]) -> ProbeOutcome:
    """The outcome with any echoed token redacted (a hostile server may echo the bearer)."""
    text = outcome.body.decode("utf-8", "replace")
    cleaned = scrub(text, secrets)
    body = outcome.body if cleaned == text else cleaned.encode("utf-8")
    headers = {k: scrub(v, secrets) for k, v in outcome.headers.items()}
    detail = scrub(outcome.error_detail, secrets) if outcome.error_detail else outcome.error_detail
    return replace(outcome, body=body, headers=headers, error_detail=detail)


# -- the local side of a profile -------------------------------------------------------

@dataclass
class Local:
    """What the credentials file says, read once per run (the token never leaves the engine)."""

    profile: Profile
    mtime_ns: int | None
    creds: Credentials | None = None
    problem: str | None = None

    @property
    def token(self) -> str | None:
        return self.creds.access_token if self.creds else None

    @property
    def secrets(self) -> tuple[str, ...]:
        if not self.creds:
            return ()
        return tuple(t for t in (self.creds.access_token, self.creds.refresh_token) if t)

    def expired(self, now: float) -> bool:
        return self.creds is not None and self.creds.is_expired(now)

    def expiry(self) -> float | None:
        ms = self.creds.expires_at_ms if self.creds else None
        return ms / 1000 if ms is not None else None


def cred_mtime_ns(profile: Profile) -> int | None:
    try:
        return os.stat(profile.credentials_path).st_mtime_ns
    except OSError:
        return None


def read_local(ctx: "RoostContext", profile: Profile) -> Local:
    # stat before reading: a file replaced in between leaves an old mtime, which only re-probes.
    local = Local(profile, cred_mtime_ns(profile))
    try:
        data = ctx.state.read_credentials(profile)
    except OSError as exc:
        local.problem = f"credentials file unreadable ({exc.strerror or type(exc).__name__})"
        return local
    try:
        local.creds = Credentials.parse(data, "credentials file")
    except CredentialsError as err:
        local.problem = err.message
        return local
    return local


# -- records -------------------------------------------------------------------------

def usage_from_dict(data: Any) -> Usage | None:
    if not isinstance(data, dict):
        return None
    known = set(Usage.__dataclass_fields__)
    try:
        return Usage(**{k: v for k, v in data.items() if k in known})
    except TypeError:
        return None


def build_record(local: Local, health: Health, *, usage: Usage | None = None, error: str | None = None,
                 retry_after_s: float | None = None, checked_at: float | None = None,
                 valid_until: float | None = None, source: str = "probe", stale: bool = False,
                 last_good_at: float | None = None) -> HealthRecord:
    creds = local.creds
    record = HealthRecord(local.profile.name, health, plan=creds.plan if creds else None,
                          expires_at=creds.expires_at_iso() if creds else None, error=error,
                          checked_at=iso(checked_at), retry_after_s=retry_after_s, valid_until=iso(valid_until),
                          source=source, stale=stale, last_good_at=iso(last_good_at))
    if usage is not None:
        for name in USAGE_FIELDS:
            setattr(record, name, getattr(usage, name))
        record.model_limits = list(usage.model_limits)
    return record


def local_verdict(ctx: "RoostContext", local: Local, now: float, *, classify: bool) -> Classification | None:
    """The verdict that needs no request: unusable credentials, or a token past expiresAt.

    A file without an access token but with a refresh token (a failed write, expiresAt 0)
    is auth_expired: a refresh may still recover it. Without either it is auth_dead.
    """
    if local.problem:
        return Classification(Health.AUTH_DEAD, None, error=local.problem, classifier="engine",
                              reasons=[f"local: {local.problem}; no request was made"])
    if not local.expired(now) and local.token:
        return None
    if not local.expired(now):
        if not (local.creds and local.creds.refresh_token):
            why = "no access token in the credentials file (sign in again with 'claude login')"
            return Classification(Health.AUTH_DEAD, None, error=why, classifier="engine",
                                  reasons=[f"local: {why}; no request was made"])
        return Classification(Health.AUTH_EXPIRED, None, error="no access token (a refresh may recover it)",
                              classifier="engine", reasons=["local: no access token but a refresh token; "
                                                            "no request was made"])
    if classify:
        outcome = ProbeOutcome(source="local", local_expired=True)
        verdict = ctx.host.classify(profile=local.profile, outcome=outcome, now=now, ctx=ctx)
        if verdict is not None:
            return verdict
    return Classification(Health.AUTH_EXPIRED, None, error="access token expired", classifier="engine",
                          reasons=["local: stored expiresAt is in the past; no request was made"])


def _verdict_record(local: Local, verdict: Classification, now: float) -> HealthRecord:
    return build_record(local, verdict.health, usage=verdict.usage, error=verdict.error,
                        retry_after_s=verdict.retry_after_s, checked_at=now, source="local")


def _cached_record(entry: dict[str, Any], valid: bool) -> HealthRecord | None:
    record = healthcache.record_of(entry)
    if record is None:
        return None
    record.source = "cache"
    record.stale = record.stale or not valid
    return record


def _not_probed(local: Local, why: str = "not probed yet") -> HealthRecord:
    return build_record(local, Health.UNKNOWN, error=why, source="local")


def cached_records(ctx: "RoostContext", profiles: list[Profile]) -> list[HealthRecord]:
    """Health from the cache and the credentials files only: no network, no writes."""
    now = ctx.now()
    entries = healthcache.entries(ctx)
    records = []
    for profile in profiles:
        entry = entries.get(profile.name)
        if healthcache.is_valid(entry, now, cred_mtime_ns(profile)):
            record = _cached_record(entry, valid=True)
            if record is not None:
                records.append(record)
                continue
        local = read_local(ctx, profile)
        verdict = local_verdict(ctx, local, now, classify=False)
        if verdict is not None:
            records.append(_verdict_record(local, verdict, now))
            continue
        records.append(_cached_record(entry or {}, valid=False) or _not_probed(local))
    return records


# -- planning a run --------------------------------------------------------------------

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
    for profile in profiles:
        entry = entries.get(profile.name)
        if mode == AUTO and healthcache.is_valid(entry, plan.now, cred_mtime_ns(profile)):
            record = _cached_record(entry, valid=True)
            if record is not None:
                plan.records[profile.name] = record
                continue
        local = read_local(ctx, profile)
        plan.locals[profile.name] = local
        verdict = local_verdict(ctx, local, plan.now, classify=True)
        if verdict is not None:
            plan.local_probed.append(Probed(local, None, verdict, plan.now))
            plan.records[profile.name] = _verdict_record(local, verdict, plan.now)
        else:
            plan.to_probe.append(profile)
    return plan


def _reserve(ctx: "RoostContext", plan: Plan, deadline: float, limit: int) -> list[Profile]:
    """Take budget slots and in-flight marks under the document lock; return what may be probed."""
    granted: list[Profile] = []
    over: dict[str, dict[str, Any]] = {}
    roots = alias_roots(ctx.profiles()) if limit > 0 else {}

    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        granted.clear()
        over.clear()
        plan.waiting.clear()
        now = ctx.now()
        inflight = {k: v for k, v in healthcache.section(doc, "inflight").items()
                    if isinstance(v, (int, float)) and v > now}
        stamps: dict[str, list[float]] = {}
        for profile in plan.to_probe:
            name = profile.name
            if plan.mode == AUTO and name in inflight:
                plan.waiting[name] = inflight[name]
                continue
            key = roots.get(name, name)  # symlinked names are one account: one budget
            used = len(healthcache.probe_times(doc, key, now)) + len(stamps.get(key, ()))
            if limit > 0 and used >= limit:
                over[name] = healthcache.budget(doc, key, now, limit)
                if plan.mode != FORCE:
                    continue
            granted.append(profile)
            stamps.setdefault(key, []).append(now)
            inflight[name] = now + deadline * 2 + 1  # room for a 401 re-probe
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
    return granted


def _say_over_budget(ctx: "RoostContext", plan: Plan, name: str, use: dict[str, Any]) -> None:
    spent = f"{use['used']}/{use['limit']} probes in the last hour"
    if plan.mode == FORCE:
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


# -- probing -----------------------------------------------------------------------------

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
        notes, extra = [], []
        if outcome.status == 401:
            # Another process may have rotated the token: re-read before concluding auth_dead.
            fresh = read_local(ctx, local.profile)
            left = deadline - (time.monotonic() - started)
            if fresh.token and fresh.token != local.token and not fresh.expired(ctx.now()):
                if left >= MIN_REPROBE_S:
                    notes.append("HTTP 401 with the token probed; the credentials file now holds another "
                                 "token: re-probed once with it")
                    local = fresh
                    extra.append(ctx.now())
                    outcome = await _call_source(ctx, source, local, client, left)
                else:
                    notes.append("HTTP 401; the credentials file changed but no time was left to re-probe")
            else:
                notes.append("HTTP 401; re-read the credentials file: the token is unchanged")
    verdict = _classify(ctx, local, outcome)
    verdict.reasons = notes + verdict.reasons
    return Probed(local, outcome, verdict, ctx.now(), extra)


async def _wait_for_others(ctx: "RoostContext", plan: Plan) -> None:
    """Use the results of probes other processes have in flight (instead of asking again)."""
    import asyncio

    start = time.monotonic()
    pending = {name: start + max(0.0, until - plan.now) for name, until in plan.waiting.items()}
    while pending:
        await asyncio.sleep(WAIT_POLL_S)
        entries = healthcache.entries(ctx)
        for name, give_up_at in list(pending.items()):
            entry = entries.get(name) or {}
            checked = entry.get("checked_at")
            done = isinstance(checked, (int, float)) and checked >= plan.now - 1
            if done or time.monotonic() >= give_up_at:
                plan.records[name] = (_cached_record(entry, valid=done)
                                      or _not_probed(plan.locals[name], "another roost process is probing it"))
                del pending[name]


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


async def _probe_all(ctx: "RoostContext", plan: Plan, source: Any, granted: list[Profile], deadline: float,
                     concurrency: int) -> list[Probed]:
    import asyncio

    if not granted:
        return []
    from .http import make_async_client

    _skip_absent_sniffio()
    gate = asyncio.Semaphore(concurrency)
    async with make_async_client(ctx, max_connections=concurrency) as client:
        return list(await asyncio.gather(*(_probe_one(ctx, source, client, gate, plan.locals[p.name], deadline)
                                            for p in granted)))


# -- writing results ---------------------------------------------------------------------

def _cap_at_expiry(local: Local, health: Health, until: float | None) -> float | None:
    """A verdict about a live token holds at most until that token expires (then auth_expired)."""
    expiry = local.expiry()
    if until is None or expiry is None or health in (Health.AUTH_DEAD, Health.AUTH_EXPIRED):
        return until
    return min(until, expiry) if expiry > 0 else until


def build_entry(old: dict[str, Any] | None, probed: Probed) -> tuple[dict[str, Any], HealthRecord]:
    """The new cache entry for a probe, merged with the entry on disk (backoff, last good usage)."""
    old = old or {}
    verdict, now = probed.verdict, probed.checked_at
    failures = (int(old.get("backoff") or 0) + 1) if verdict.health is Health.NETWORK_ERROR else 0
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

    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        profiles = healthcache.entries(ctx, doc)
        inflight = healthcache.section(doc, "inflight")
        extra: dict[str, list[float]] = {}
        for item in probed:
            name = item.local.profile.name
            profiles[name], item.record = build_entry(profiles.get(name), item)
            inflight.pop(name, None)
            if item.extra_probe_times:
                extra[name] = item.extra_probe_times
        return {**doc, "version": healthcache.VERSION, "profiles": profiles, "inflight": inflight,
                "probes": healthcache.with_probe_times(doc, extra, ctx.now())}

    try:
        ctx.state.update_doc(healthcache.DOC, edit)
    except (RoostError, OSError) as err:  # the verdicts still stand; only the cache misses them
        ctx.warn(f"could not write the health cache: {getattr(err, 'message', err)}")
        for item in probed:
            if item.record is None:
                item.record = build_entry(None, item)[1]


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
    probed, _ = await asyncio.gather(_probe_all(ctx, plan, source, granted, deadline, concurrency),
                                     _wait_for_others(ctx, plan))
    if probed:
        _commit(ctx, probed)
        _notify(ctx, probed)
    for item in probed:
        plan.records[item.local.profile.name] = item.record
    return probed, plan


def _ordered(plan: Plan, profiles: list[Profile]) -> list[HealthRecord]:
    return [plan.records.get(p.name) or _not_probed(plan.locals.get(p.name) or Local(p, None)) for p in profiles]


# -- public API -----------------------------------------------------------------------------

def get_records(ctx: "RoostContext", profiles: list[Profile], *, force: bool = False, offline: bool = False,
                timeout: float | None = None) -> list[HealthRecord]:
    """Records in ``profiles`` order: the cache where valid, live probes for the rest.

    ``force`` probes every profile, over budget too (``--no-cache``);
    ``offline`` never probes. A warm cache imports no HTTP library.
    """
    if offline:
        return cached_records(ctx, profiles)
    plan = plan_run(ctx, profiles, FORCE if force else AUTO)
    if plan.to_probe:
        import asyncio

        asyncio.run(execute(ctx, plan, timeout=timeout))
    return _ordered(plan, profiles)


async def probe_many(ctx: "RoostContext", profiles: list[Profile], *, force: bool = False,
                     timeout: float | None = None) -> list[HealthRecord]:
    """Live-probe every profile (TTL and backoff ignored); ``force`` also overrides the budget."""
    plan = plan_run(ctx, profiles, FORCE if force else LIVE)
    await execute(ctx, plan, timeout=timeout)
    return _ordered(plan, profiles)


def probe_traced(ctx: "RoostContext", profile: Profile, *,
                 timeout: float | None = None) -> tuple[ProbeOutcome | None, Classification, HealthRecord]:
    """One forced probe of ``profile``: its (redacted) outcome, the verdict and the cached record.

    The outcome is None when no request was made (the token is expired or unusable).
    """
    import asyncio

    plan = plan_run(ctx, [profile], FORCE)
    if plan.local_probed:
        item = plan.local_probed[0]
        return None, item.verdict, plan.records[profile.name]
    probed, _ = asyncio.run(execute(ctx, plan, timeout=timeout))
    item = probed[0]
    return item.outcome, item.verdict, item.record


def raw_result(name: str, outcome: ProbeOutcome) -> dict[str, Any]:
    """``probe --raw`` output: ``body`` parsed when it is JSON (else the text), ``text`` as received."""
    body: Any = outcome.json()
    text = outcome.body.decode("utf-8", "replace")
    return {"name": name, "url": outcome.url, "status": outcome.status, "headers": outcome.headers,
            "body": body if body is not None else text, "json": body is not None, "text": text,
            "error": outcome.error, "error_detail": outcome.error_detail,
            "elapsed_s": round(outcome.elapsed_s, 4), "request": outcome.request}


async def _raw_all(ctx: "RoostContext", profiles: list[Profile], timeout: float | None) -> list[dict[str, Any]]:
    import asyncio

    from .http import make_async_client

    deadline, concurrency, _ = _settings(ctx, timeout)
    source = probe_source(ctx)
    gate = asyncio.Semaphore(concurrency)
    _skip_absent_sniffio()

    async def one(profile: Profile) -> dict[str, Any]:
        local = read_local(ctx, profile)
        if local.problem or not local.token:
            return {"name": profile.name, "url": None, "status": None, "headers": {}, "body": None,
                    "json": False, "text": "", "error": "credentials", "elapsed_s": 0.0, "request": {},
                    "error_detail": local.problem or "no access token in the credentials file"}
        async with gate:
            return raw_result(profile.name, await _call_source(ctx, source, local, client, deadline))

    async with make_async_client(ctx, max_connections=concurrency) as client:
        return list(await asyncio.gather(*(one(p) for p in profiles)))


def probe_raw_many(ctx: "RoostContext", profiles: list[Profile], *, timeout: float | None = None) -> list[dict[str, Any]]:
    """The untouched usage bodies: no classification, no cache write, no budget use."""
    import asyncio

    return asyncio.run(_raw_all(ctx, profiles, timeout))


def probe_raw(ctx: "RoostContext", profile: Profile, *, timeout: float | None = None) -> dict[str, Any]:
    """``probe --raw`` for one profile: the untouched body (tokens redacted), nothing written."""
    return probe_raw_many(ctx, [profile], timeout=timeout)[0]


def budget_meta(ctx: "RoostContext", profiles: list[Profile]) -> dict[str, dict[str, Any]]:
    """``{name: {used, limit, window_s}}`` for every profile (status --json meta.budget)."""
    doc, now, limit = healthcache.read(ctx), ctx.now(), int(ctx.settings.get("probe_budget"))
    roots = alias_roots(profiles)
    return {p.name: healthcache.budget(doc, roots[p.name], now, limit) for p in profiles}
