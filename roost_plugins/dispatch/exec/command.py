"""roost exec: pick a profile, lease it, run a command as that account, pass its exit code on.

The child sees only the profile's name (``AXIOM_CLAUDE_PROFILE`` or
``--var-name``) and its directory (``CLAUDE_CONFIG_DIR``; docs/refresh.md, "exec"): never
a token. stdin/stdout/stderr are inherited, so stdout belongs to the child and
roost prints nothing there except for ``--dry-run``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shlex
import signal
import time
from typing import TYPE_CHECKING, Any, Iterator

import click

from roost_core.api import (
    DURATION,
    EXPORT_VAR,
    AuditEvent,
    Health,
    Lease,
    NotFound,
    PickOptions,
    Profile,
    RoostContext,
    RoostError,
    ValidationError,
    acquire_lease,
    append_audit,
    json_option,
    pass_roost,
    release_lease,
    run_pick,
    set_lease_child,
    utc_now_iso,
)

from ..pick_cmds import PickCommand, pick_options

if TYPE_CHECKING:
    from ..childproc import CannotStart

DEFAULT_LEASE_S = 30 * 60.0
CHILD_TOKEN_MARGIN_S = 300.0  # claude itself refreshes within 5 min of expiry
LEASE_TIMEOUT_FACTOR = 1.2
# Claude Code 2.1.220+ picks its credential store from this, independently of CLAUDE_CONFIG_DIR.
STORE_VAR = "CLAUDE_SECURESTORAGE_CONFIG_DIR"
TERMINATED_RC = 128 + signal.SIGTERM
RETRYABLE = frozenset({Health.RATE_LIMITED, Health.SESSION_LIMIT})
_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Terminated(BaseException):
    """SIGTERM arrived outside the child wait: unwind through every finally block."""


@click.command("exec", cls=PickCommand,
               context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@pick_options(count=False)  # one command, one profile: no -n/--count
@click.option("--timeout", type=DURATION, metavar="S", help="Kill the command after S seconds (exit 124).")
@click.option("--retry-on-429", "retry_on_429", type=click.IntRange(min=0), default=0, metavar="N",
              help="If the command fails and its profile re-probes as rate-limited or session-exhausted, "
                   "run it again with another profile, up to N times.")
@click.option("--dry-run", is_flag=True, help="Print the environment and command; contact nothing, write nothing.")
@click.option("--var-name", default=EXPORT_VAR, show_default=True, metavar="NAME",
              help="Name of the variable that carries the profile name.")
@click.option("--no-config-dir", is_flag=True,
              help="Leave CLAUDE_CONFIG_DIR as it is (and unset CLAUDE_SECURESTORAGE_CONFIG_DIR).")
@click.option("--log-full-argv", is_flag=True,
              help="Log the whole command line to picks.log, not just argv[0] (may leak secrets).")
@click.option("--lease/--no-lease", default=True, show_default=True,
              help="Pin the profile against roost refresh while the command runs.")
@click.option("--lease-for", type=DURATION, metavar="DURATION",
              help="Lease TTL (default: timeout * 1.2, else 30m).")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@json_option
@pass_roost
def exec_cmd(rctx: RoostContext, pick_opts: PickOptions, timeout: float | None, retry_on_429: int,
             dry_run: bool, var_name: str, no_config_dir: bool, log_full_argv: bool, lease: bool,
             lease_for: float | None, command: tuple[str, ...]) -> int:
    """Run COMMAND as the picked profile: roost exec [pick flags] -- CMD [ARGS...]

    The exit code is the command's (124 on --timeout, 126/127 when it cannot
    be started). Every run is logged to picks.log, one whose pick failed too
    (rc = the pick's exit code); --dry-run writes nothing. stdout is the
    command's: --json prints the envelope only for --dry-run and for errors
    before the command starts.
    """
    argv = _validate(pick_opts, command, var_name, timeout)
    if lease_for is not None and lease_for <= 0:  # 0 once silently meant the default (30 min)
        raise ValidationError("--lease-for must be more than 0 (use --no-lease for no lease)")
    plan = _Plan(argv, var_name, not no_config_dir, timeout, retry_on_429, lease,
                 lease_for or (timeout * LEASE_TIMEOUT_FACTOR if timeout else DEFAULT_LEASE_S), log_full_argv)
    if dry_run:
        return _dry_run(rctx, pick_opts, plan)
    rctx.settings.get("picks_log_max_bytes")  # a bad value is VALIDATION before the child runs, not a lost audit
    from ..childproc import CannotStart, resolve

    try:
        resolve(argv[0], rctx.env.get("PATH", os.defpath))
    except CannotStart as exc:  # fail before contacting anything or taking a lease
        _cannot_start(rctx, exc, argv[0])
        _audit(rctx, None, "", plan, exc.rc, 0.0, rctx.now(), ["not-started"])
        return exc.rc
    with _sigterm_raises():
        try:
            return _run_with_retries(rctx, pick_opts, plan)
        except Terminated:
            rctx.out.say("roost: terminated")
            return TERMINATED_RC


def _cannot_start(rctx: RoostContext, exc: CannotStart, argv0: str) -> None:
    """The command never ran (exit 126/127): one stderr line, or with --json the error envelope
    (NOT_FOUND for 127, VALIDATION for 126), as for any error before the command starts."""
    if not rctx.out.json_mode:
        rctx.out.say(f"roost: exec: {exc}")
        return
    kind = NotFound if exc.rc == 127 else ValidationError
    rctx.out.error(kind(f"exec: {exc}", details={"command": argv0, "rc": exc.rc}))


@dataclasses.dataclass(frozen=True)
class _Plan:
    argv: list[str]
    var_name: str
    set_config_dir: bool
    timeout: float | None
    retries: int
    lease: bool
    lease_ttl: float
    log_full_argv: bool


def _validate(opts: PickOptions, command: tuple[str, ...], var_name: str, timeout: float | None) -> list[str]:
    if not command:
        raise ValidationError("exec needs a command: roost exec [flags] -- CMD [ARGS...]")
    if command[0].startswith("-"):
        raise ValidationError(f"unknown exec option {command[0]!r}: exec's flags go before --, the command "
                              f"after it, and a command does not start with '-'")
    if not _VAR_NAME.fullmatch(var_name):
        raise ValidationError(f"--var-name {var_name!r} is not a variable name")
    if opts.count != 1:
        raise ValidationError("exec runs one command as one profile; --count does not apply")
    if timeout is not None and timeout <= 0:
        raise ValidationError("--timeout must be more than 0 seconds")
    return list(command)


def child_env(rctx: RoostContext, profile: Profile, plan: _Plan) -> dict[str, str]:
    """roost's environment plus the profile's name and directory (never a token)."""
    env = dict(rctx.env)
    for name in _stale_vars(rctx, plan):
        env.pop(name, None)
    env[plan.var_name] = profile.name
    if plan.set_config_dir:
        env.update(config_dir_vars(profile))
    return env


def _stale_vars(rctx: RoostContext, plan: _Plan) -> list[str]:
    """Inherited variables that would name another account to the child: the credential-store
    selector without a config dir (it would pick a store behind roost's back), and, under
    --var-name, an AXIOM_CLAUDE_PROFILE left by the caller (passive health trusts it first)."""
    stale = [] if plan.set_config_dir else [STORE_VAR]
    if plan.var_name != EXPORT_VAR:
        stale.append(EXPORT_VAR)
    return [name for name in stale if name in rctx.env]


def config_dir_vars(profile: Profile) -> dict[str, str]:
    """CLAUDE_CONFIG_DIR and, set with it, the credential-store selector Claude Code 2.1.220+
    reads independently of it: a user's value would make the child use another account."""
    from roost_core.api import config_dir_string

    directory = config_dir_string(profile.directory)  # absolute, NFC, no trailing separator: claude hashes it
    return {"CLAUDE_CONFIG_DIR": directory, STORE_VAR: directory}


def _would_probe(rctx: RoostContext, opts: PickOptions) -> list[str]:
    """The profiles a real run would probe before picking (cache missing or out of date); no I/O but reads."""
    from roost_core.api import plan_probe_run

    return [p.name for p in plan_probe_run(rctx, rctx.profiles(), "force" if opts.no_cache else "auto").to_probe]


def _dry_run(rctx: RoostContext, opts: PickOptions, plan: _Plan) -> int:
    """Contact nothing, write nothing: the pick is the cache's, and a cache a real run would
    re-probe first is said plainly (the real run may then pick another profile)."""
    outcome = run_pick(rctx, opts, side_effects=False, log=False, offline=True)
    would_probe = _would_probe(rctx, opts)
    if would_probe:
        shown = ", ".join(would_probe[:5]) + (f" and {len(would_probe) - 5} more" if len(would_probe) > 5 else "")
        message = (f"dry run: nothing was probed; the real run would first probe {shown} (cached health "
                   "missing or out of date) and may then pick another profile")
        rctx.warn(message)
        outcome.warnings.append(message)
    profile = rctx.profile(outcome.results[0].name)
    assignments = {plan.var_name: profile.name}
    unset = _stale_vars(rctx, plan)
    if plan.set_config_dir:
        assignments.update(config_dir_vars(profile))
    line = " ".join([*(["env", *(f"-u {name}" for name in unset)] if unset else []),
                     *(f"{k}={shlex.quote(v)}" for k, v in assignments.items()), shlex.join(plan.argv)])
    data = {"profile": profile.name, "env": assignments, "unset": unset, "argv": plan.argv, "command": line,
            "strategy": outcome.strategy, "rationale": outcome.rationale, "probed": False,
            "would_probe": would_probe, "lease": plan.lease,
            "lease_ttl_s": plan.lease_ttl if plan.lease else None, "timeout_s": plan.timeout}
    rctx.out.emit(data, {"dry_run": True, "side_effects": False, "warnings": outcome.warnings}, text=line)
    return 0


def _run_with_retries(rctx: RoostContext, opts: PickOptions, plan: _Plan) -> int:
    avoid = list(opts.avoid)
    # A one-off --avoid does not make the other profile the sticky one for the next --stickiness window.
    keep_sticky = bool(opts.avoid)
    started, wall = time.monotonic(), rctx.now()
    try:
        outcome = run_pick(rctx, opts, log=False, keep_sticky=keep_sticky)
    except RoostError as err:  # nothing to run, but the run is audited like a failed pick (event exec)
        _audit(rctx, None, str(err.details.get("strategy") or ""), plan, int(err.exit_code),
               time.monotonic() - started, wall, [err.code])
        raise
    attempt = 0
    while True:
        profile = rctx.profile(outcome.results[0].name)
        # "fallback" as pick writes it: stats and history can tell a --fallback run from a pick.
        note = " ".join(filter(None, ["fallback" if outcome.fallback_used else "",
                                      f"retry={attempt}/{plan.retries}" if attempt else ""]))
        rc, started = _run_once(rctx, profile, outcome.strategy, plan, note)
        if rc == 0 or not started or attempt >= plan.retries or not _throttled_now(rctx, profile):
            return rc
        attempt += 1
        avoid.append(profile.name)
        try:
            outcome = run_pick(rctx, dataclasses.replace(opts, avoid=tuple(avoid)), log=False,
                               keep_sticky=keep_sticky)
        except RoostError as err:
            rctx.warn(f"{profile.name} is throttled and no other profile can be picked ({err.message}); "
                      f"not retrying")
            return rc
        rctx.warn(f"{profile.name} is throttled; retrying with {outcome.results[0].name} "
                  f"({attempt}/{plan.retries})")


def _throttled_now(rctx: RoostContext, profile: Profile) -> bool:
    """Re-probe the profile (forced): did the command fail because the account is throttled?"""
    from roost_core.api import get_records

    try:
        got = get_records(rctx, [profile], force=True)
    except RoostError as err:
        rctx.warn(f"could not re-probe {profile.name}: {err.message}")
        return False
    records = list(got.values()) if isinstance(got, dict) else list(got)
    return any(r.name == profile.name and r.health in RETRYABLE for r in records)


def _run_once(rctx: RoostContext, profile: Profile, strategy: str, plan: _Plan, note: str) -> tuple[int, bool]:
    """Lease, run, release, audit. Returns (exit status, whether the command started)."""
    from roost_core.api import signals_deferred

    from ..childproc import CannotStart, ChildRun

    wall, started_at = rctx.now(), time.monotonic()
    rc, started, notes = 1, False, [note] if note else []
    held: Lease | None = None
    if not plan.lease:
        notes.append("no-lease")
    try:
        _prepare(rctx, profile, plan)
        if rctx.shared_state is not None:
            _outlast_the_lease(rctx, profile, plan)
        if plan.lease:
            with signals_deferred():  # an interrupt lands after `held` is set, so finally releases it
                held = _take_lease(rctx, profile, plan)
        child = ChildRun(plan.argv, child_env(rctx, _child_profile(rctx, profile, held), plan), plan.timeout,
                         on_start=lambda pid: _child_started(rctx, held, pid),
                         stdout_tap=_stream_tap(rctx, profile, plan.argv))
        try:
            rc = child.run()
            started = True
        except CannotStart as exc:
            rc = exc.rc
            _cannot_start(rctx, exc, plan.argv[0])
            notes.append("not-started")
        if child.timed_out:
            notes.append("timeout")
        if child.forwarded:
            notes.append("signal=" + ",".join(signal.Signals(s).name for s in child.forwarded))
        return rc, started
    except RoostError as err:
        rc = int(err.exit_code)
        notes.append("not-started")
        raise
    except KeyboardInterrupt:
        rc = 130
        raise
    except Terminated:
        rc = TERMINATED_RC
        raise
    finally:
        with signals_deferred():  # a second Ctrl+C must not skip the release
            if held is not None:
                _release_lease(rctx, held)
            _audit(rctx, profile, strategy, plan, rc, time.monotonic() - started_at, wall, notes)


def _stream_tap(rctx: RoostContext, profile: Profile, argv: list[str]) -> Any:
    """roost_exec_stdout: plugins that read the child's stdout on the way (the passive plugin:
    stream-json rate_limit_event lines); None, the usual answer, leaves stdout to the child."""
    taps = [t for t in rctx.host.answers("roost_exec_stdout", "tap", profile=profile, argv=list(argv), ctx=rctx)
            if callable(t)]
    return taps[0] if len(taps) == 1 else _Taps(taps) if taps else None


class _Taps:
    """Several plugins' taps as one: each sees every chunk; one that raises is dropped alone."""

    def __init__(self, taps: list[Any]) -> None:
        self.taps = taps

    def __call__(self, chunk: bytes) -> None:
        for tap in list(self.taps):
            try:
                tap(chunk)
            except Exception:
                self.taps.remove(tap)


def _prepare(rctx: RoostContext, profile: Profile, plan: _Plan) -> None:
    """roost_prepare_exec: plugins ready the profile for the child (the profiles plugin links the
    user's shared claude setup, so an item new in the base appears now). A RoostError stops the
    run with its exit code (a bad [profiles] config is 4); any other failure is a warning."""
    env = {plan.var_name: profile.name, **(config_dir_vars(profile) if plan.set_config_dir else {})}
    rctx.host.prepare("roost_prepare_exec", "exec", profile=profile, env=env, ctx=rctx)


def _outlast_the_lease(rctx: RoostContext, profile: Profile, plan: _Plan) -> None:
    """Shared state (a fleet): the child gets no refresh token, so its access token must
    outlast the lease; refresh first if it would not (before the lease, which blocks refresh)."""
    from roost_core.api import is_due, read_credentials, refresh_profile

    window = plan.lease_ttl + CHILD_TOKEN_MARGIN_S
    if is_due(read_credentials(rctx, profile), rctx.now(), window, rctx, profile):
        refresh_profile(rctx, profile, force=False, due_within_s=window)


def _child_profile(rctx: RoostContext, profile: Profile, held: Lease | None) -> Profile:
    """Where the child's credentials live: a backend may hand it its own copy (an
    access-token-only file in fleet mode); None keeps the profile's own directory."""
    directory = rctx.state.child_credentials_dir(profile, held)
    if not isinstance(directory, (str, os.PathLike)):
        return profile
    return dataclasses.replace(profile, directory=directory)


def _take_lease(rctx: RoostContext, profile: Profile, plan: _Plan) -> Lease:
    """Add the lease under the profile's refresh lock, so no refresh is halfway through."""
    from roost_core.api import refresh_lock

    with refresh_lock(rctx, profile, rctx.settings.get("lock_wait")):
        return acquire_lease(rctx, profile.name, plan.lease_ttl, command=os.path.basename(plan.argv[0]))


def _child_started(rctx: RoostContext, held: Lease | None, pid: int) -> None:
    if held is None:
        return
    try:
        set_lease_child(rctx, held.id, pid)
    except (RoostError, OSError) as exc:
        rctx.warn(f"could not record the child in leases.json: {getattr(exc, 'message', exc)}")


def _release_lease(rctx: RoostContext, held: Lease) -> None:
    try:
        release_lease(rctx, held.id)
    except (RoostError, OSError) as exc:
        rctx.warn(f"could not release the lease on {held.profile} (it expires at its TTL): "
                  f"{getattr(exc, 'message', exc)}")


def _audit(rctx: RoostContext, profile: Profile | None, strategy: str, plan: _Plan, rc: int, elapsed: float,
           wall: float, notes: list[str]) -> None:
    argv = shlex.join(plan.argv) if plan.log_full_argv else plan.argv[0]
    name = profile.name if profile is not None else ""
    event = AuditEvent(utc_now_iso(wall), "exec", name, strategy, rc, round(elapsed, 3), argv,
                       os.getpid(), " ".join(n for n in notes if n))
    try:
        append_audit(rctx, event)
    except (RoostError, OSError) as exc:
        rctx.warn(f"could not append to picks.log: {getattr(exc, 'message', exc)}")


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    """SIGTERM to roost raises Terminated (outside the child wait, which handles it itself)."""
    previous: Any = signal.getsignal(signal.SIGTERM)
    if previous is not None:
        signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated()
