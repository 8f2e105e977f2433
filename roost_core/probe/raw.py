"""Raw and traced probes: one profile's untouched answer (``probe --raw``), or one forced
probe with its outcome and verdict (``trace``). Nothing here bypasses the budget
except FORCE, which the user asked for."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import healthcache
from ..profiles import alias_roots
from ..records import Classification, Health, HealthRecord, ProbeOutcome, Profile
from .cache import BLOCKED_429_ERROR, FORCE, _settings, blocked_by, blocked_until, held_record, plan_run
from .fanout import _call_source, _skip_absent_sniffio, execute, probe_source
from .local import iso, read_local

if TYPE_CHECKING:
    from ..context import RoostContext


def probe_traced(ctx: "RoostContext", profile: Profile, *, timeout: float | None = None,
                 force: bool = False) -> tuple[ProbeOutcome | None, Classification, HealthRecord]:
    """One probe of ``profile`` (over budget too): its (redacted) outcome, the verdict and the record.

    The outcome is None when no request was made (the token is expired or unusable,
    or a usage-endpoint 429 holds the account back and ``force`` is not given).
    """
    import asyncio

    plan = plan_run(ctx, [profile], FORCE)
    if plan.local_probed:
        item = plan.local_probed[0]
        return None, item.verdict, plan.records[profile.name]
    held = None if force else held_back(ctx, profile, plan.now)
    if held is not None:
        return None, held[0], held[1]
    probed, _ = asyncio.run(execute(ctx, plan, timeout=timeout))
    item = probed[0]
    assert item.record is not None  # execute() commits a record for every probe
    return item.outcome, item.verdict, item.record


def raw_result(name: str, outcome: ProbeOutcome) -> dict[str, Any]:
    """``probe --raw`` output: ``body`` parsed when it is JSON (else the text), ``text`` as received."""
    body: Any = outcome.json()
    text = outcome.body.decode("utf-8", "replace")
    return {"name": name, "url": outcome.url, "status": outcome.status, "headers": outcome.headers,
            "body": body if body is not None else text, "json": body is not None, "text": text,
            "error": outcome.error, "error_detail": outcome.error_detail,
            "elapsed_s": round(outcome.elapsed_s, 4), "request": outcome.request}


def held_back(ctx: "RoostContext", profile: Profile, now: float) -> tuple[Classification, HealthRecord] | None:
    """The verdict and record for an account a usage 429 holds back until its next probe time.

    No request is made: the first reason says so and why, for ``trace`` and ``probe --raw``. The
    verdict's ``retry_after_s`` is the 429's own (the record's too), as when it was probed.
    """
    doc = healthcache.read(ctx)
    key = alias_roots(ctx.profiles()).get(profile.name, profile.name)
    until = blocked_until(doc, key, now)
    if until is None:
        return None
    info = blocked_by(doc, key, until)
    record = held_record(read_local(ctx, profile), healthcache.entries(ctx, doc).get(profile.name), until, info, now)
    retry_after = info["retry_after_s"] if info["retry_after_s"] is not None else record.retry_after_s
    checked = iso(info["checked_at"]) if info["checked_at"] is not None else record.checked_at
    reasons = [f"no request was made: the usage endpoint asked roost to wait until {iso(until)} (429); "
               "--force probes anyway"]
    if checked is not None:
        reasons.append(f"the 429 came at {checked}" + (f" with retry-after {retry_after:.0f}s" if retry_after else "")
                       + "; the next probe is that plus 5-15 % (docs/wire.md)")
    verdict = Classification(Health.RATE_LIMITED, until - now, error=BLOCKED_429_ERROR, reasons=reasons,
                             classifier="engine", retry_after_s=retry_after)
    return verdict, record


async def _raw_all(ctx: "RoostContext", profiles: list[Profile], timeout: float | None,
                   force: bool = False) -> list[dict[str, Any]]:
    import asyncio

    from ..http import make_async_client

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
        held = None if force else held_back(ctx, profile, ctx.now())
        if held is not None:
            return {"name": profile.name, "url": None, "status": None, "headers": {}, "body": None,
                    "json": False, "text": "", "error": "rate_limited", "elapsed_s": 0.0, "request": {},
                    "error_detail": held[0].reasons[0], "next_probe_at": held[1].next_probe_at}
        async with gate:
            return raw_result(profile.name, await _call_source(ctx, source, local, client, deadline))

    async with make_async_client(ctx, max_connections=concurrency) as client:
        return list(await asyncio.gather(*(one(p) for p in profiles)))


def probe_raw_many(ctx: "RoostContext", profiles: list[Profile], *, timeout: float | None = None,
                   force: bool = False) -> list[dict[str, Any]]:
    """The untouched usage bodies: no classification, no cache write, no budget use
    (an account a usage 429 holds back is not asked unless ``force``)."""
    import asyncio

    return asyncio.run(_raw_all(ctx, profiles, timeout, force))


def probe_raw(ctx: "RoostContext", profile: Profile, *, timeout: float | None = None) -> dict[str, Any]:
    """``probe --raw`` for one profile: the untouched body (tokens redacted), nothing written."""
    return probe_raw_many(ctx, [profile], timeout=timeout)[0]
