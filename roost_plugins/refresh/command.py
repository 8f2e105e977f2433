"""``roost refresh``: the command over the core's refresh protocol (docs/refresh.md)."""

from __future__ import annotations

import random
import time
from typing import Any

import click

from roost_core.api import (
    DURATION,
    ExitCode,
    LeaseHeld,
    Profile,
    RoostContext,
    RoostError,
    ValidationError,
    complete_profiles,
    format_duration,
    health_entries,
    json_option,
    pass_roost,
)

# Most severe first: the code a multi-profile run exits with when several profiles failed.
SEVERITY = (ExitCode.UNEXPECTED, ExitCode.AUTH_REQUIRED, ExitCode.TIMEOUT, ExitCode.VALIDATION,
            ExitCode.NOT_FOUND, ExitCode.CONFLICT, ExitCode.RATE_LIMITED, ExitCode.UNAVAILABLE,
            ExitCode.FORBIDDEN)
ERROR = "error"  # a profile of a multi-profile run that failed (its error is in the entry)


def status_text() -> dict[str, str]:
    """Each result status in words; the statuses are the refresh engine's constants (imported on use)."""
    from roost_core.api import ALREADY_FRESH, NOTHING_TO_REFRESH, REFRESHED, SKIPPED_LEASED, SKIPPED_NOT_DUE

    return {REFRESHED: "refreshed", ALREADY_FRESH: "already fresh",
            SKIPPED_LEASED: "skipped (leased by a running roost exec)", SKIPPED_NOT_DUE: "skipped (not due)",
            NOTHING_TO_REFRESH: "nothing to refresh", ERROR: "failed"}


@click.command("refresh")
@click.argument("name", required=False, shell_complete=complete_profiles)
@click.option("--all", "all_profiles", is_flag=True, help="Refresh every discovered profile.")
@click.option("--expired", is_flag=True, help="Refresh profiles whose token is past expiry.")
@click.option("--soon", type=DURATION, metavar="DURATION",
              help="Refresh expired profiles and those expiring within DURATION (30m, 1h, 2d, or seconds).")
@click.option("--jitter", type=DURATION, metavar="S", default=0.0,
              help="Wait a random 0..S seconds before each refresh (spreads cron runs).")
@json_option
@pass_roost
def refresh_cmd(rctx: RoostContext, name: str | None, all_profiles: bool, expired: bool,
                soon: float | None, jitter: float) -> int:
    """Refresh OAuth tokens: one profile, --all, --expired or --soon DURATION.

    One refresh per credentials file at a time across all processes; a leased
    profile is never rotated: a named one is LEASE_HELD (exit 7); --all,
    --expired and --soon finish the other profiles, report it as
    skipped_leased, then exit 7 (LEASE_HELD, naming the leased profiles) if it
    was due (with --expired/--soon a leased profile that was not due is fine).
    """
    selectors = [s for s, given in (("NAME", name is not None), ("--all", all_profiles),
                                    ("--expired/--soon", expired or soon is not None)) if given]
    if not selectors:
        raise ValidationError("nothing to refresh: give a profile NAME, --all, --expired or --soon DURATION")
    if len(selectors) > 1:
        raise ValidationError(f"choose one of NAME, --all, --expired/--soon (got {' and '.join(selectors)})")
    if name is not None:
        return _refresh_one(rctx, name, jitter)
    window = soon if soon is not None else 0.0
    return _refresh_many(rctx, force=all_profiles, window=None if all_profiles else window, jitter=jitter)


def _warn_if_shared(rctx: RoostContext, profiles: list[Profile]) -> None:
    """File locks do not reach other machines (docs/RELIABILITY.md, "Limits"): say so, once per filesystem."""
    from roost_core.api import filesystem_of, network_kind

    seen = set()
    for profile in profiles:
        mount = filesystem_of(profile.credentials_path)
        kind = network_kind(mount.fstype) if mount is not None else None
        if mount is not None and kind and mount.mount_point not in seen:
            seen.add(mount.mount_point)
            rctx.warn(f"{profile.name} is on a {kind} filesystem ({mount.fstype} at {mount.mount_point}): "
                      "roost's locks do not reach other machines, so refresh it from one machine only")


def _pause(jitter: float) -> None:
    if jitter > 0:
        time.sleep(random.uniform(0, jitter))


def _refresh_one(rctx: RoostContext, name: str, jitter: float) -> int:
    from roost_core.api import refresh_profile

    profile = rctx.profile(name)
    _warn_if_shared(rctx, [profile])
    _pause(jitter)
    result = refresh_profile(rctx, profile, force=True).to_dict()
    _show(rctx, [result], result, {"profile": name})
    return 0


def _refresh_many(rctx: RoostContext, *, force: bool, window: float | None, jitter: float) -> int:
    profiles = rctx.profiles()
    if not profiles:  # like status and pick: nothing to act on is UNAVAILABLE, not a quiet success
        from roost_core.api import Unavailable

        tree = rctx.paths.profiles_tree
        raise Unavailable(f"no profiles found in {tree} (import one with 'roost add NAME')",
                          details={"reason": "no_profiles", "profiles_dir": str(tree)})
    _warn_if_shared(rctx, profiles)
    # The cached verdicts, read once: with many profiles, a read per profile re-reads the whole document.
    health = None if force else health_entries(rctx)
    results = [_refresh_listed(rctx, profile, force=force, window=window, jitter=jitter, health=health)
               for profile in profiles]
    error = _run_error(results)
    code = int(error.exit_code) if error is not None else 0
    meta = {"selector": "all" if force else ("soon" if window else "expired"), "soon_s": window or None,
            "counts": {status: sum(r["status"] == status for r in results) for status in status_text()},
            "exit_code": code}
    _show(rctx, results, results, meta, error)
    return code


def _run_error(results: list[dict[str, Any]]) -> RoostError | None:
    """A multi-profile run's failure: its most severe one; a due profile left alone because it is
    leased counts as LEASE_HELD (7), like a named one (only due profiles reach the lease check)."""
    from roost_core.api import SKIPPED_LEASED

    leased = [r["name"] for r in results if r["status"] == SKIPPED_LEASED]
    failed = [r for r in results if r["status"] == ERROR]
    codes = {r["error"]["exit_code"] for r in failed} | ({int(ExitCode.CONFLICT)} if leased else set())
    code = next((c for c in SEVERITY if c in codes), None)
    if code is None:
        return None
    parts = [f"failed: {', '.join(r['name'] for r in failed)}"] if failed else []
    if leased:
        parts.append(f"leased by a running roost exec, not refreshed: {', '.join(leased)} "
                     "(retry after the exec exits)")
    if code == ExitCode.CONFLICT and leased:
        name = "LEASE_HELD"
    else:
        name = next(r["error"]["code"] for r in failed if r["error"]["exit_code"] == code)
    return RoostError("; ".join(parts), code_name=name, exit_code=code,
                      details={"leased": leased, "failed": [r["name"] for r in failed]})


def _show(rctx: RoostContext, results: list[dict[str, Any]], data: Any, meta: dict[str, Any],
          error: RoostError | None = None) -> None:
    """One rendering: in a terminal a sentence per profile; in a pipe (or --json) the data, plus a
    sentence on stderr only for a failure (its reason is not in the data line); then the run's error."""
    terminal = not rctx.out.json_mode and rctx.out.stdout.isatty()
    rctx.out.emit(data, meta, text=None if terminal else "\n".join(_line(r) for r in results), error=error)
    for result in results:
        if terminal or result["status"] == ERROR:
            rctx.out.say(_sentence(result))
    if error is not None and not rctx.out.json_mode:
        rctx.out.say(f"roost: error: {error.message} ({error.code})")


def _refresh_listed(rctx: RoostContext, profile: Profile, *, force: bool, window: float | None,
                    jitter: float, health: dict[str, dict[str, Any]] | None) -> dict[str, Any]:
    """One profile of a multi-profile run: failures become an entry, never an abort."""
    from roost_core.api import SKIPPED_LEASED, SKIPPED_NOT_DUE, RefreshResult, is_due, read_credentials, refresh_profile

    try:
        if not force:
            creds = read_credentials(rctx, profile)
            if not is_due(creds, rctx.now(), window, rctx, profile, health):
                return RefreshResult(profile.name, SKIPPED_NOT_DUE, creds.expires_at_iso(), "not due").to_dict()
        _pause(jitter)
        return refresh_profile(rctx, profile, force=force, due_within_s=window).to_dict()
    except LeaseHeld as err:
        return {"name": profile.name, "status": SKIPPED_LEASED, "expires_at": None, "detail": err.message}
    except RoostError as err:
        return {"name": profile.name, "status": ERROR, "expires_at": None, "detail": err.message,
                "error": {"code": err.code, "message": err.message, "details": err.details,
                          "exit_code": int(err.exit_code)}}


def _line(result: dict[str, Any]) -> str:
    """The data line for people's stdout: name, status, expiry."""
    return "\t".join([result["name"], result["status"], result.get("expires_at") or "-"])


def _sentence(result: dict[str, Any]) -> str:
    from roost_core.api import REFRESHED, SKIPPED_NOT_DUE

    status = status_text().get(result["status"], result["status"])
    text = f"{result['name']}: {status}"
    if result["status"] == ERROR or (result.get("detail") and result["status"] not in (REFRESHED, SKIPPED_NOT_DUE)):
        text += f": {result['detail']}"
    if result["status"] == REFRESHED and result.get("expires_at"):
        text += f" (expires {result['expires_at']}{_in(result['expires_at'])})"
    return text


def _in(iso: str) -> str:
    from datetime import datetime

    try:
        remaining = datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() - time.time()
    except ValueError:
        return ""
    return f", in {format_duration(remaining)}"
