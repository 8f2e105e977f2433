"""The refresh engine: one refresh per credentials file at a time, across every process.

A refresh token is single-use: two POSTs with it cost the user the profile.
So (docs/refresh.md, "The refresh algorithm"):

1. read and validate the file; refuse a leased profile;
2. take roost's lock file for it (keyed on its realpath, so symlinked
   profiles share it), then the backend's ``guard_refresh`` locks, all within
   ``lock_wait`` (longer than the POST deadline) or CONFLICT;
3. finish a refresh a killed run completed (the backend's journal), then
   re-read: if the tokens changed since step 1, another process refreshed;
4. check the lease again under the lock (exec adds leases under it too);
5. POST through the refresher plugin, with SIGINT/SIGTERM deferred until the
   answer is on disk;
6. journal the grant, replace the credentials, release the journal entry,
   invalidate the health cache, release the locks.

Step 2's extra locks and the journal are state-backend capabilities
(``guard_refresh``, ``reserve_grant``/``record_grant``/``release_grant``/
``pending_grant``): the files backend takes Claude Code's lock directories
and keeps a pending file beside the credentials. A failed refresh writes
nothing. The locking lives in small functions (``refresh_lock``,
``hold_refresh_locks``) so an in-process test can replace them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Iterator

from . import deadtoken, healthcache, leases
from .credentials import Credentials, CredentialsError
from .errors import (Conflict, ExitCode, NotFound, RateLimited, RefreshAmbiguous, RefreshNotAttempted,
                     RefreshRejected, RoostError, ValidationError)

if TYPE_CHECKING:
    from .backend import RefreshGuard
    from .context import RoostContext
    from .records import Profile

RECENT_DOC = "refreshes"  # refreshes.json: what roost itself last wrote, per credentials file
RECENT_KEEP_S = 86400.0
MIN_LOCK_TIMEOUT_S = 0.01

REFRESHED = "refreshed"
ALREADY_FRESH = "already_fresh"
SKIPPED_LEASED = "skipped_leased"
SKIPPED_NOT_DUE = "skipped_not_due"
NOTHING_TO_REFRESH = "nothing_to_refresh"  # a setup-token profile: no refresh token exists


@dataclass
class RefreshResult:
    name: str
    status: str  # refreshed | already_fresh | skipped_leased | skipped_not_due | nothing_to_refresh
    expires_at: str | None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- reading ------------------------------------------------------------------

def read_credentials(ctx: "RoostContext", profile: "Profile") -> Credentials:
    """The parsed file; NOT_FOUND when missing, VALIDATION when unreadable or malformed,
    AUTH_REQUIRED when it holds no claude login (logged out)."""
    try:
        data = ctx.state.read_credentials(profile)
    except FileNotFoundError:
        raise NotFound(f"profile {profile.name!r} has no credentials file",
                       details={"profile": profile.name}) from None
    except RoostError:
        raise  # the store's own word (a locked keychain is UNAVAILABLE), not an unreadable file
    except OSError as exc:
        raise ValidationError(f"cannot read the credentials of {profile.name!r}: {exc.strerror}",
                              details={"profile": profile.name}) from None
    creds = Credentials.parse(data, f"profile {profile.name!r}")
    if not creds.oauth:  # only mcpOAuth, or claudeAiOauth null or {}: logged out, not bad input
        raise _no_login(profile)
    creds.name_unit_mixup(profile.name, ctx.warn)
    return creds


def _no_login(profile: "Profile") -> RoostError:
    """A parsable file without a claude login: ``auth_dead`` (as status calls it), exit 2 with the
    profile's sign-in fix, like a wiped file; nothing is sent and nothing is written."""
    from .errors import AuthRequired

    fix = relogin_fix(profile)
    return AuthRequired(f"profile {profile.name!r}: logged out (its credentials file holds no claudeAiOauth "
                        f"login). Fix: {fix}",
                        details={"profile": profile.name, "health": "auth_dead", "reason": "no_login", "fix": fix})


def relogin_fix(profile: "Profile") -> str:
    """What brings a login back that roost cannot refresh: claude login into the profile's own
    directory, or a fresh login imported over it."""
    from .credstore import config_dir_string

    return (f"sign {profile.name} in again with 'CLAUDE_CONFIG_DIR={config_dir_string(profile.directory)} claude login' "
            f"(or run 'claude login', then 'roost add {profile.name} --force')")


def _require_refresh_token(creds: Credentials, profile: "Profile") -> str:
    from .errors import AuthRequired

    token = creds.refresh_token
    raw = creds.oauth.get("refreshToken")
    if not token and raw is not None and not isinstance(raw, str):  # a damaged file, not a logout
        raise CredentialsError(f"{profile.credentials_path}: refreshToken is not a string (a malformed file)",
                               details={"profile": profile.name, "reason": "malformed"})
    if not token:  # a login problem (AUTH_REQUIRED), not bad input
        fix = relogin_fix(profile)
        raise AuthRequired(f"profile {profile.name!r} has no refresh token: {fix}",
                           details={"profile": profile.name, "reason": "no_refresh_token", "fix": fix})
    return token


def is_due(creds: Credentials, now: float, within_s: float | None, ctx: "RoostContext | None" = None,
           profile: "Profile | None" = None, health: dict[str, dict[str, Any]] | None = None) -> bool:
    """Expired, or expiring within ``within_s`` seconds (None or 0: expired only); given the
    profile, also when the usage endpoint rejected this very file as expired (a 401
    ``token_expired`` while ``expiresAt`` is still ahead: the server's clock decides).
    ``health``: the health cache's entries, read once by a caller that checks many profiles."""
    if creds.is_expired(now, margin_s=within_s or 0.0):
        return True
    return ctx is not None and profile is not None and rejected_as_expired(ctx, profile, health)


def rejected_as_expired(ctx: "RoostContext", profile: "Profile",
                        health: dict[str, dict[str, Any]] | None = None) -> bool:
    """The cached verdict for the current credentials file is ``auth_expired`` (from a probe)."""
    from .probe.local import cred_mtime_ns

    entry = (healthcache.entries(ctx) if health is None else health).get(profile.name) or {}
    record = entry.get("record")
    mtime = entry.get("cred_mtime_ns")
    return (isinstance(record, dict) and record.get("health") == "auth_expired" and mtime is not None
            and mtime == cred_mtime_ns(profile))


def _identity(creds: Credentials) -> tuple[str | None, str | None]:
    return creds.access_token, creds.refresh_token


def aliases(ctx: "RoostContext", profile: "Profile") -> list[str]:
    """Every profile name whose credentials are this file (symlinks), this one first."""
    real = os.path.realpath(profile.credentials_path)
    names = [p.name for p in ctx.profiles()
             if p.name != profile.name and os.path.realpath(p.credentials_path) == real]
    return [profile.name, *names]


# -- locks (small on purpose: in-process tests replace them) ---------------------

def refresh_lock_name(profile: "Profile") -> str:
    return "refresh:" + os.path.realpath(profile.credentials_path)


def refresh_lock(ctx: "RoostContext", profile: "Profile", timeout: float) -> Any:
    """roost's cross-process lock for this credentials file (exec takes it to add a lease)."""
    return ctx.state.lock(refresh_lock_name(profile), timeout=max(timeout, MIN_LOCK_TIMEOUT_S))


@contextlib.contextmanager
def hold_refresh_locks(ctx: "RoostContext", profile: "Profile", deadline: float) -> Iterator["RefreshGuard"]:
    """roost's lock, then the backend's ``guard_refresh`` locks, all before ``deadline`` (monotonic)."""
    with refresh_lock(ctx, profile, deadline - time.monotonic()):
        with ctx.state.guard_refresh(profile, deadline) as guard:
            yield guard


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM/SIGHUP until the block ends, then deliver them.

    Between the POST and the write, the new refresh token exists only in
    memory; an interrupt there would lose it. The wait is bounded by the
    POST deadline. Only the main thread can install handlers.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous: dict[int, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is None:
            continue
        old = signal.getsignal(sig)
        if old is None:
            continue  # a handler installed outside Python: leave it alone
        previous[sig] = old
        signal.signal(sig, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        for sig in dict.fromkeys(received):
            signal.raise_signal(sig)


# -- the backend's journal ----------------------------------------------------------

def recover_pending(ctx: "RoostContext", profile: "Profile") -> bool:
    """Persist a grant a killed run had read but maybe not written. Call it under the locks.

    The journaled grant is applied only while the credentials still hold the
    refresh token it replaces; otherwise it is obsolete and released. True
    when the credentials were rewritten.
    """
    grant = ctx.state.pending_grant(profile)
    if grant is None:
        return False
    current = read_credentials(ctx, profile)
    if not grant.replaces(current.refresh_token):
        ctx.state.release_grant(grant.handle)  # already applied, or the file moved on since
        return False
    ctx.state.write_credentials(profile, Credentials(grant.document).dumps())
    ctx.state.release_grant(grant.handle)
    ctx.warn(f"finished a refresh of {profile.name!r} that an interrupted roost run had completed")
    _after_write(ctx, profile, Credentials(grant.document))
    return True


# -- roost's own recent refreshes ---------------------------------------------------

def _recent_key(profile: "Profile") -> str:
    return os.path.realpath(profile.credentials_path)


def _recently_refreshed(ctx: "RoostContext", profile: "Profile", creds: Credentials) -> float | None:
    """Seconds since roost wrote exactly this grant, if within ``refresh_min_interval``."""
    window = ctx.settings.get("refresh_min_interval")
    if not window:
        return None
    files = ctx.state.read_doc(RECENT_DOC).get("files")
    entry = files.get(_recent_key(profile)) if isinstance(files, dict) else None
    if not isinstance(entry, dict):
        return None
    at, expires = entry.get("at"), entry.get("expires_at_ms")
    if not isinstance(at, (int, float)) or isinstance(at, bool) or expires != creds.expires_at_ms:
        return None
    if entry.get("access_last4") != (creds.access_token or "")[-4:]:
        return None
    age = ctx.now() - at
    return age if 0 <= age < window else None


def _note_refreshed(ctx: "RoostContext", profile: "Profile", creds: Credentials) -> None:
    now = ctx.now()

    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        found = doc.get("files")
        files = {k: v for k, v in (found if isinstance(found, dict) else {}).items()
                 if isinstance(v, dict) and isinstance(v.get("at"), (int, float)) and now - v["at"] < RECENT_KEEP_S}
        files[_recent_key(profile)] = {"profile": profile.name, "at": now, "expires_at_ms": creds.expires_at_ms,
                                       "access_last4": (creds.access_token or "")[-4:]}
        return {"version": 1, "files": files}

    ctx.state.update_doc(RECENT_DOC, edit)


def _after_write(ctx: "RoostContext", profile: "Profile", new: Credentials) -> None:
    """Bookkeeping after the credentials are on disk: failures here are only warnings."""
    try:
        healthcache.drop(ctx, *aliases(ctx, profile))
        _note_refreshed(ctx, profile, new)
    except (RoostError, OSError) as exc:
        ctx.warn(f"refreshed {profile.name!r} but could not update roost's state: "
                 f"{getattr(exc, 'message', None) or exc}")


# -- the refresh ----------------------------------------------------------------

def _setup_token_result(ctx: "RoostContext", profile: "Profile", creds: Credentials) -> RefreshResult:
    """A setup token has no refresh token: nothing to refresh; once expired, only a new token helps."""
    from .errors import AuthRequired

    fix = f"make a new one with 'claude setup-token' and run 'roost add {profile.name} --setup-token --force'"
    if creds.is_expired(ctx.now()):
        raise AuthRequired(f"profile {profile.name!r} is a setup token that expired at {creds.expires_at_iso()}; "
                           f"nothing to refresh: {fix}", details={"profile": profile.name})
    return RefreshResult(profile.name, NOTHING_TO_REFRESH, creds.expires_at_iso(),
                         f"a setup token has no refresh token (when it expires, {fix})")


def refresh_profile(ctx: "RoostContext", profile: "Profile", *, force: bool = True,
                    due_within_s: float | None = None) -> RefreshResult:
    """Refresh one profile (see the module docstring). ``force=False`` refreshes only when due."""
    before = read_credentials(ctx, profile)
    if before.is_setup_token:
        return _setup_token_result(ctx, profile, before)
    _refuse_dead(ctx, profile, before)
    _require_refresh_token(before, profile)
    if not force and not is_due(before, ctx.now(), due_within_s, ctx, profile):
        return RefreshResult(profile.name, SKIPPED_NOT_DUE, before.expires_at_iso(), "not due")
    names = aliases(ctx, profile)
    leases.ensure_none_leased(ctx, names)
    refresher = ctx.host.get("refresher", ctx.settings.get("refresher"), "token refresher")
    deadline = time.monotonic() + ctx.settings.get("lock_wait")
    with hold_refresh_locks(ctx, profile, deadline) as guard:
        recover_pending(ctx, profile)
        current = read_credentials(ctx, profile)
        if _identity(current) != _identity(before):
            return RefreshResult(profile.name, ALREADY_FRESH, current.expires_at_iso(),
                                 "refreshed by another process meanwhile")
        if not force and not is_due(current, ctx.now(), due_within_s, ctx, profile):
            return RefreshResult(profile.name, SKIPPED_NOT_DUE, current.expires_at_iso(), "not due")
        age = _recently_refreshed(ctx, profile, current) if force else None
        if age is not None:
            return RefreshResult(profile.name, ALREADY_FRESH, current.expires_at_iso(),
                                 f"refreshed by roost {age:.0f}s ago")
        leases.ensure_none_leased(ctx, names)
        # Under the lock: the process that got invalid_grant recorded it before releasing.
        _refuse_dead(ctx, profile, current)
        token = _require_refresh_token(current, profile)
        if guard.compromised:
            raise Conflict(f"claude took its refresh lock for {profile.name!r} back; retry later",
                           details={"profile": profile.name})
        return _post_and_write(ctx, profile, current, token, refresher)


def _post_and_write(ctx: "RoostContext", profile: "Profile", current: Credentials, token: str,
                    refresher: Any) -> RefreshResult:
    reserved = _reserve_or_refuse(ctx, profile, current)
    try:
        # A shared backend's last check before the token is spent (still the lock
        # owner, no lease anywhere, the version read); it raises to stop the POST.
        ctx.state.begin_spend(profile)
        with signals_deferred():
            try:
                grant = refresher.refresh(token, ctx)
            except RefreshRejected as exc:
                return _rejected(ctx, profile, current, exc)
            except RefreshAmbiguous as exc:
                return _ambiguous(ctx, profile, current, exc)
            except RefreshNotAttempted as exc:
                raise _not_attempted(profile, exc) from None
            new = current.with_grant(grant, now=ctx.now())
            pending, reserved = reserved, None  # from here on the file holds the grant
            _persist(ctx, profile, new, token, pending)
    finally:
        if reserved is not None:
            ctx.state.release_grant(reserved)  # no grant came back: release the room
    _after_write(ctx, profile, new)
    return RefreshResult(profile.name, REFRESHED, new.expires_at_iso())


def _reserve_or_refuse(ctx: "RoostContext", profile: "Profile", current: Credentials) -> Any:
    try:
        return ctx.state.reserve_grant(profile, current.dumps())
    except OSError as exc:
        raise RoostError(f"no room to keep a refreshed token for {profile.name!r} beside its credentials "
                         f"({exc.strerror}); nothing was spent, free some space and retry",
                         details={"profile": profile.name, "reason": "no_space"},
                         exit_code=ExitCode.UNAVAILABLE) from None


def _persist(ctx: "RoostContext", profile: "Profile", new: Credentials, replaces: str,
             pending: Any) -> None:
    """Journal first (a kill after this point loses nothing), then the credentials.

    ``pending`` is the backend's journal handle (None: the backend keeps no journal).
    """
    if pending is not None:
        try:
            ctx.state.record_grant(pending, dict(new.document), replaces, ctx.now())
        except OSError:
            ctx.state.release_grant(pending)
            pending = None  # could not keep a copy: still try the credentials themselves
    try:
        ctx.state.write_credentials(profile, new.dumps())
    except RoostError as err:  # e.g. claude held its storage lock past our wait: the token is spent
        if pending is not None:
            err.message += (f"; the refresh itself went through: the new tokens are kept in {pending} and "
                            f"the next refresh of {profile.name!r} finishes the write")
            err.details.update(profile=profile.name, pending_grant=True)
        raise
    except OSError as exc:
        kept = (f"the new tokens are kept in {pending} and the next refresh of {profile.name!r} "
                "will finish the write") if pending is not None else "the new tokens could not be saved anywhere"
        raise RefreshAmbiguous(f"profile {profile.name!r} was refreshed but its credentials file could "
                               f"not be written ({exc.strerror}); {kept}",
                               details={"profile": profile.name, "needs_check": True,
                                        "reason": "write_failed"}) from None
    if pending is not None:
        ctx.state.release_grant(pending)


def _changed_meanwhile(ctx: "RoostContext", profile: "Profile", current: Credentials) -> Credentials | None:
    """The file's content if someone else replaced the tokens while we were asking."""
    try:
        latest = read_credentials(ctx, profile)
    except RoostError:
        return None
    return latest if _identity(latest) != _identity(current) else None


def _settled_meanwhile(ctx: "RoostContext", profile: "Profile", current: Credentials) -> RefreshResult | None:
    """``already_fresh`` when someone else rotated the token meanwhile; else drop the cache entry."""
    latest = _changed_meanwhile(ctx, profile, current)
    if latest is not None:
        return RefreshResult(profile.name, ALREADY_FRESH, latest.expires_at_iso(),
                             "another party rotated the token meanwhile")
    _drop_health(ctx, profile)
    return None


def _refuse_dead(ctx: "RoostContext", profile: "Profile", creds: Credentials) -> None:
    """auth_dead without a POST: a wiped (logged-out) file, or a refresh token rejected before."""
    fix = relogin_fix(profile)
    if deadtoken.is_logged_out(creds):
        raise RefreshRejected(f"profile {profile.name!r}: {deadtoken.LOGGED_OUT}. Fix: {fix}",
                              details={"profile": profile.name, "health": "auth_dead", "reason": "logged_out",
                                       "fix": fix})
    entry = deadtoken.lookup(ctx, creds.refresh_token)
    if entry is not None:
        raise RefreshRejected(f"profile {profile.name!r}: {deadtoken.describe(entry, fix)} (not sent again)",
                              details={"profile": profile.name, "health": "auth_dead", "reason": "invalid_grant",
                                       "grant_reason": entry.get("reason"), "known_dead": True, "fix": fix})


def _rejected(ctx: "RoostContext", profile: "Profile", current: Credentials,
              exc: RefreshRejected) -> RefreshResult:
    settled = _settled_meanwhile(ctx, profile, current)
    if settled is not None:
        return settled
    reason = str(exc.details.get("grant_reason") or "invalid_grant")
    try:  # still under the refresh lock: the next process in line reads it and does not POST
        deadtoken.remember(ctx, current.refresh_token or "", profile.name, reason)
    except (RoostError, OSError) as err:
        ctx.warn(f"could not record the rejected refresh token of {profile.name!r}: {getattr(err, 'message', err)}")
    # The refresher does not know the profile, so its fix (if any) cannot name it; this one does.
    fix = relogin_fix(profile)
    raise RefreshRejected(f"profile {profile.name!r}: {exc.message}. Fix: {fix}",
                          details={"profile": profile.name, "health": "auth_dead", **exc.details, "fix": fix})


def _ambiguous(ctx: "RoostContext", profile: "Profile", current: Credentials,
               exc: RefreshAmbiguous) -> RefreshResult:
    settled = _settled_meanwhile(ctx, profile, current)
    if settled is not None:
        return settled
    raise RefreshAmbiguous(
        f"profile {profile.name!r} needs a check: {exc.message}. Its credentials file was left as it "
        f"was; if the server rotated the token, the profile must be signed in again (roost probe "
        f"{profile.name} tells)", details={"profile": profile.name, "needs_check": True, **exc.details})


def _not_attempted(profile: "Profile", exc: RefreshNotAttempted) -> RoostError:
    details = {"profile": profile.name, **exc.details}
    message = f"profile {profile.name!r} was not refreshed: {exc.message}"
    if exc.details.get("reason") == "rate_limited":
        return RateLimited(message, details=details)
    return RefreshNotAttempted(message, details=details)


def _drop_health(ctx: "RoostContext", profile: "Profile") -> None:
    try:
        healthcache.drop(ctx, *aliases(ctx, profile))
    except (RoostError, OSError):
        pass
