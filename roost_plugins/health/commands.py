"""Health commands (the built-in ``health`` plugin): probe, status, show, invalidate.

Each builds one data structure for --json and for people; tables go to
stderr through the renderer plugins, the one-line summary to stdout.
``probe`` and ``status`` exit 0 whatever health they report: reporting is
their job. With no profile at all there is nothing to report on: UNAVAILABLE
(exit 9, like pick/which/exec), naming the profiles tree and ``roost add NAME``.
``list`` is the exception on purpose (docs/health.md): an empty list is its answer.
"""

from __future__ import annotations

import threading
from typing import Any

import click

from roost_core.api import (
    DURATION,
    HealthRecord,
    RoostContext,
    Unavailable,
    ValidationError,
    complete_profiles,
    drop_all_health,
    drop_health,
    health_entries,
    health_meta,
    json_option,
    pass_roost,
    summary_line,
)


def _timeout(value: float | None) -> float | None:
    if value is not None and value <= 0:
        raise ValidationError("--timeout must be more than 0 seconds")
    return value


timeout_option = click.option("--timeout", type=DURATION, default=None, metavar="DURATION",
                              help="Per-probe deadline (default 5s, setting 'timeout').")


def mark_same_account(ctx: RoostContext, data: list[dict[str, Any]], profiles: list[Any]) -> list[list[str]]:
    """Profiles signed in to one account (same account uuid) share one quota: each record
    gets ``email`` and ``shares_quota_with``; a warning names each group."""
    from roost_core.api import accounts_of, shared_accounts

    accounts = accounts_of(profiles)
    peers = shared_accounts(accounts)
    for record in data:
        account = accounts.get(record["name"])
        record["email"] = account.email if account else None
        record["shares_quota_with"] = peers.get(record["name"], [])
    groups = sorted({tuple(sorted([name, *others])) for name, others in peers.items()})
    for group in groups:
        account = accounts[group[0]]
        assert account is not None  # shared_accounts groups only profiles with an account
        ctx.warn(f"{', '.join(group)} are one account ({account.email or account.account_uuid}): "
                 "they share one quota")
    return [list(g) for g in groups]


def _no_profiles(ctx: RoostContext) -> Unavailable:
    tree = ctx.paths.profiles_tree
    return Unavailable(f"no profiles found in {tree} (import one with 'roost add NAME')",
                       details={"reason": "no_profiles", "profiles_dir": str(tree)})


def show_table(ctx: RoostContext, view: str, data: list[dict[str, Any]], meta: dict[str, Any]) -> None:
    """The people's table on stderr: the renderer plugin, or a plain one without it."""
    from roost_core.api import plain_table, render
    from roost_core.api import platform_header_line as header_line

    if data and render(ctx, view, data, meta):
        return
    line = header_line(meta.get("platform_status"))
    if line:
        ctx.out.say(line)
    if not data:
        return
    rows = [[r["name"], r["plan"], r["health"], r["session_pct"], r["weekly_pct"], r["weekly_resets_at"],
             f"{r.get('source')} {r.get('observed_at') or ''}".strip()] for r in data]
    ctx.out.say(plain_table(["Profile", "Plan", "Health", "Session", "Weekly", "Resets", "Source"], rows))


class _Background:
    """Run one call on a thread while the probes run (the status page adds no latency)."""

    def __init__(self, fn: Any) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(fn,), daemon=True)
        self._thread.start()

    def _run(self, fn: Any) -> None:
        try:
            self.result = fn()
        except BaseException as exc:  # handed to the main thread, which reports it as usual
            self.error = exc

    def join(self) -> Any:
        self._thread.join()
        if self.error is not None:
            raise self.error
        return self.result


def _platform_fetcher(ctx: RoostContext, refresh: bool) -> _Background:
    from roost_core.api import PlatformStatus, RoostError, configured_status_feed, platform_status

    # Resolve the plugin and the state backend on this thread: the plugin host is not thread-safe.
    try:
        feed = configured_status_feed(ctx)
    except RoostError as err:
        name = ctx.settings.get("status_feed")
        if name not in ctx.host.disabled:  # a deliberately disabled feed is not worth a warning
            ctx.warn(f"no platform status: {err.message}")
        message = err.message  # ``err`` is unbound once the except block ends
        return _Background(lambda: PlatformStatus(fetch_error=message))
    _ = ctx.state
    return _Background(lambda: platform_status(ctx, refresh=refresh, feed=feed))


@click.command("status")
@click.option("--no-cache", "--refresh", "no_cache", is_flag=True,
              help="Ignore the cache: re-probe every profile (over budget too) and refetch the status page.")
@click.option("--no-platform-status", is_flag=True, help="Skip the status.claude.com fetch.")
@timeout_option
@click.option("--format", "fmt", default="text", show_default=True, metavar="FORMAT",
              help="text (table on stderr), or a renderer plugin's format on stdout, e.g. openmetrics.")
@json_option
@pass_roost
def status_cmd(rctx: RoostContext, no_cache: bool, no_platform_status: bool, timeout: float | None,
               fmt: str) -> None:
    """Health of every profile: cached where fresh, probed where not.

    Exit 0 whatever health is reported; no profile at all is UNAVAILABLE (exit 9).
    """
    from roost_core.api import get_records

    timeout = _timeout(timeout)
    if fmt != "text":  # checked in --json mode too (--json then wins over a valid format)
        from roost_core.api import find_renderer, renderer_formats

        if find_renderer(rctx, "status", fmt) is None:
            raise ValidationError(f"unknown --format {fmt!r}; available: {', '.join(renderer_formats(rctx, 'status'))}")
    profiles = rctx.profiles()
    if not profiles:
        raise _no_profiles(rctx)
    platform = None if no_platform_status else _platform_fetcher(rctx, no_cache)
    records = get_records(rctx, profiles, force=no_cache, timeout=timeout)
    data = [r.to_dict() for r in records]
    meta = health_meta(rctx, records, profiles)
    meta["same_account"] = mark_same_account(rctx, data, profiles)
    meta["platform_status"] = platform.join().to_dict() if platform else None
    if rctx.out.json_mode:
        rctx.out.emit(data, meta)
    elif fmt != "text":
        from roost_core.api import render

        render(rctx, "status", {"profiles": data}, meta, fmt=fmt)
    else:
        show_table(rctx, "status", data, meta)
        rctx.out.emit(data, meta, text=summary_line(records))


@click.command("probe")
@click.argument("name", required=False, shell_complete=complete_profiles)
@click.option("--raw", is_flag=True, help="Print the untouched usage body: no classification, no cache write.")
@click.option("--force", is_flag=True,
              help="Probe even a profile whose hourly probe budget is spent or that a usage 429 holds back.")
@timeout_option
@json_option
@pass_roost
def probe_cmd(rctx: RoostContext, name: str | None, raw: bool, force: bool, timeout: float | None) -> None:
    """Live-probe every profile (or NAME), concurrently, and cache the verdicts.

    Exit 0 whatever health is reported; no profile at all is UNAVAILABLE (exit 9).
    """
    import asyncio

    from roost_core.api import probe_many

    timeout = _timeout(timeout)
    profiles = [rctx.profile(name)] if name is not None else rctx.profiles()  # '' is a bad name, not "all"
    if not profiles:
        raise _no_profiles(rctx)
    if raw:
        _probe_raw(rctx, profiles, timeout, force)
        return
    records = asyncio.run(probe_many(rctx, profiles, force=force, timeout=timeout))
    data = [r.to_dict() for r in records]
    meta = health_meta(rctx, records, profiles)
    if not rctx.out.json_mode:
        show_table(rctx, "probe", data, meta)
    rctx.out.emit(data, meta, text=summary_line(records))


def _probe_raw(rctx: RoostContext, profiles: list[Any], timeout: float | None, force: bool = False) -> None:
    from roost_core.api import probe_raw_many

    results = probe_raw_many(rctx, profiles, timeout=timeout, force=force) if profiles else []
    if rctx.out.json_mode:
        # The parsed body is enough when it is JSON; the text is kept only for non-JSON answers.
        shown = [{k: v for k, v in r.items() if k != "text" or not r["json"]} for r in results]
        rctx.out.emit(shown, {"count": len(results), "raw": True})
        return
    for result in results:
        status = f"HTTP {result['status']}" if result["status"] is not None else f"no answer ({result['error']})"
        rctx.out.say(f"── {result['name']}: {status} in {result['elapsed_s']:.2f}s  {result['url'] or ''}".rstrip())
        rctx.out.emit(None, None, text=result["text"])


def _reasons(value: Any) -> list[str]:
    """The cached verdict's reasons (text only: a damaged health.json may hold anything)."""
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def show_data(ctx: RoostContext, record: HealthRecord) -> dict[str, Any]:
    """A record plus everything cached about it: usage detail, overage block, verdict reasons, budget."""
    from roost_core.api import probe_budget_meta as budget_meta
    from roost_core.api import read_local

    entry = health_entries(ctx).get(record.name) or {}
    usage = entry.get("usage")
    usage = usage if isinstance(usage, dict) else {}
    local = read_local(ctx, ctx.profile(record.name))
    creds = local.creds
    checked = entry.get("checked_at")
    from roost_core.api import PassiveEvidence as Evidence
    from roost_core.api import passive_describe as describe
    from roost_core.api import passive_summary as summary

    evidence = describe(record, Evidence.load(ctx), ctx.now())
    return {
        **record.to_dict(),
        "evidence": evidence,
        "passive": summary(ctx, record.name, ctx.now()),
        "overage": usage.get("overage"),
        "reasons": _reasons(entry.get("reasons")),
        "classifier": entry.get("classifier"),
        "cache": {"checked_at_epoch": checked, "age_s": round(ctx.now() - checked, 1)
                  if isinstance(checked, (int, float)) else None,
                  "backoff": entry.get("backoff", 0), "last_probe": entry.get("outcome"),
                  "budget": budget_meta(ctx, [local.profile])[record.name]},
        "credentials": {"path": str(local.profile.credentials_path), "problem": local.problem,
                        "scopes": creds.oauth.get("scopes") if creds else None,
                        "rate_limit_tier": creds.oauth.get("rateLimitTier") if creds else None,
                        "has_refresh_token": bool(creds and creds.refresh_token)},
    }


def _identity(ctx: RoostContext, profile: Any) -> dict[str, Any]:
    """The account (from the profile's .claude.json; never a token) and who else signs in to it."""
    from roost_core.api import accounts_of, shared_accounts

    accounts = accounts_of(ctx.profiles())
    account = accounts.get(profile.name)
    return {"email": account.email if account else None, "account": account.to_dict() if account else None,
            "shares_quota_with": shared_accounts(accounts).get(profile.name, [])}


@click.command("show")
@click.argument("name", shell_complete=complete_profiles)
@click.option("--offline", is_flag=True, help="Never probe; show what the cache and the file say.")
@json_option
@pass_roost
def show_cmd(rctx: RoostContext, name: str, offline: bool) -> None:
    """Full detail for one profile (usage, overage, model-scoped limits, why)."""
    from roost_core.api import get_records

    profile = rctx.profile(name)
    record = get_records(rctx, [profile], offline=offline)[0]
    data = show_data(rctx, record)
    data.update(_identity(rctx, profile))
    if not rctx.out.json_mode:
        from roost_core.api import render

        if not render(rctx, "show", data, {}):
            rctx.out.say("\n".join(f"{k}: {v}" for k, v in data.items()))
    rctx.out.emit(data, {}, text=record.health.value)


@click.command("invalidate")
@click.argument("name", required=False, shell_complete=complete_profiles)
@click.option("--all", "all_", is_flag=True, help="Drop every profile's cache entry.")
@json_option
@pass_roost
def invalidate_cmd(rctx: RoostContext, name: str | None, all_: bool) -> None:
    """Drop a profile's cached health (the next status or pick re-probes it)."""
    if bool(name) == all_:
        raise ValidationError("give a profile NAME or --all")
    from roost_core.api import passive_forget as forget

    if not name:  # hence --all (the check above)
        dropped = drop_all_health(rctx)
        forget(rctx, *(p.name for p in rctx.profiles()), *dropped)
    else:
        rctx.profile(name)
        dropped = [name] if name in health_entries(rctx) else []
        drop_health(rctx, name)
        forget(rctx, name)  # passive readings too: the next status or pick probes
    names = [name] if name else dropped
    rctx.out.emit({"invalidated": names, "had_entry": dropped}, {"count": len(names)}, text="\n".join(names))
    if not rctx.out.json_mode:
        rctx.out.say(f"Dropped cached health for {', '.join(map(repr, names)) or 'no profile'}.")
