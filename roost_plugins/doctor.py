"""``roost doctor``: run every registered DoctorCheck and report.

Checks come from the ``roost_register_doctor_checks`` hook (the built-in
``doctor.core`` and ``status-page`` plugins, plus any site plugin). A check
that crashes is reported as a FAIL naming it; the others still run. A check
declaring ``level = "warn"`` (the status page) can never fail the run.

Exit 0 unless a check FAILs; then 9 UNAVAILABLE ("roost is not usable as
set up"), with the JSON error envelope carrying every result.
"""

from __future__ import annotations

from typing import Any

import click

from roost_core.api import (
    CheckResult,
    ExitCode,
    RoostContext,
    RoostError,
    Unavailable,
    hookimpl,
    json_option,
    pass_roost,
    plain_table,
    render,
)

LEVELS = ("ok", "warn", "fail", "skip")


def _host(rctx: RoostContext) -> Any:
    """The plugin host, even when config.toml is broken (doctor must still run to say so)."""
    try:
        rctx.settings
        return rctx.host
    except RoostError:
        rctx.host_override = rctx.host_override or rctx.config_free_host()
    return rctx.host


def _as_result(item: Any, check_name: str) -> CheckResult:
    if isinstance(item, CheckResult):
        return item
    get = item.get if isinstance(item, dict) else (lambda key, default=None: getattr(item, key, default))
    level = str(get("level", "fail")).lower()
    if level not in LEVELS:
        return CheckResult(str(get("name", check_name)), "warn",
                           f"check returned unknown level {level!r}: {get('message', '')}")
    return CheckResult(str(get("name", check_name)), level, str(get("message", "")), dict(get("details") or {}))


def _config_error(rctx: RoostContext) -> str | None:
    """config.toml's own error (malformed, a bad value), or None."""
    try:
        rctx.settings
    except RoostError as err:
        return err.message
    return None


def run_check(rctx: RoostContext, name: str, check: Any, config_error: str | None = None) -> list[CheckResult]:
    """Run one check in isolation; its declared ``level`` caps what it may report. A check that
    fails only because it needs the broken config.toml is skipped: config-file reports it once."""
    try:
        raw = check.run(rctx)
    except RoostError as err:
        raw = (CheckResult(name, "skip", "needs config.toml, which is broken (see config-file)", err.details)
               if config_error is not None and err.message == config_error and name != "config-file"
               else CheckResult(name, "fail", err.message, err.details))
    except Exception as exc:  # a plugin's bug is a finding, not a crash of doctor
        raw = CheckResult(name, "fail", f"check {name!r} crashed: {type(exc).__name__}: {exc}")
    results = [_as_result(item, name) for item in (raw if isinstance(raw, (list, tuple)) else [raw])
               if item is not None]
    if getattr(check, "level", "fail") == "warn":
        for result in results:
            if result.level == "fail":
                result.level = "warn"
    return results


def run_doctor(rctx: RoostContext, skip_network: bool) -> list[CheckResult]:
    checks = _host(rctx).registry("doctor")
    # Local checks first, network ones last; registration order otherwise.
    ordered = sorted(checks.items(), key=lambda item: bool(getattr(item[1], "needs_network", False)))
    results: list[CheckResult] = []
    config_error = _config_error(rctx)
    for name, check in ordered:
        if skip_network and getattr(check, "needs_network", False):
            results.append(CheckResult(name, "skip", "skipped (--skip-network)"))
            continue
        results.extend(run_check(rctx, name, check, config_error))
    return results


def counts(results: list[CheckResult]) -> dict[str, int]:
    return {level: sum(1 for r in results if r.level == level) for level in LEVELS}


def _plain(results: list[CheckResult]) -> str:
    return plain_table(["result", "check", "message"], [[r.level.upper(), r.name, r.message] for r in results])


@click.command("doctor")
@click.option("--skip-network", is_flag=True,
              help="Skip every check that needs the network (endpoints, status.claude.com).")
@json_option
@pass_roost
def doctor_cmd(rctx: RoostContext, skip_network: bool) -> int:
    """Check config, profiles, credentials, state files, plugins, network and status.claude.com.

    Exit 0 unless a check FAILs (then 9); WARN never fails."""
    results = run_doctor(rctx, skip_network)
    tally = counts(results)
    data = [r.to_dict() for r in results]
    meta: dict[str, Any] = {"count": len(results), **tally, "skip_network": skip_network}
    failed = [r.name for r in results if r.level == "fail"]
    summary: str | None = (f"{tally['ok']} ok, {tally['warn']} warn, {tally['fail']} fail, {tally['skip']} skipped")
    drawn = not rctx.out.json_mode and render(rctx, "doctor", data, meta)
    if not rctx.out.json_mode and not drawn:
        rctx.out.say(_plain(results))
    if drawn and rctx.out.stdout.isatty():
        summary = None  # the table ends with the same summary line: a terminal shows it once
    if not failed:
        rctx.out.emit(data, meta, text=summary)
        return 0
    err = Unavailable(f"doctor: {len(failed)} check(s) failed: {', '.join(failed)}",
                      details={"checks": data, "failed": failed})
    if rctx.out.json_mode:
        rctx.out.error(err, meta)
    else:
        rctx.out.emit(None, meta, text=summary)
        rctx.out.error(err)
    return int(ExitCode.UNAVAILABLE)


@hookimpl
def roost_register_commands(cli: click.Group) -> None:
    cli.add_command(doctor_cmd)
