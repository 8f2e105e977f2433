"""The local side of a profile: its credentials file read once per run, the verdicts
that need no request, and the record built from a verdict."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import deadtoken
from ..credentials import Credentials, CredentialsError
from ..errors import Unavailable
from ..records import Classification, Health, HealthRecord, ProbeOutcome, Profile, Usage

if TYPE_CHECKING:
    from ..context import RoostContext

# The error of an auth_expired record that no refresh can cure (the file holds no refresh token);
# the fix that follows it is a new sign-in (``needs_login``).
NO_REFRESH_TOKEN = "access token expired and there is no refresh token to renew it"

USAGE_FIELDS = ("session_pct", "weekly_pct", "sonnet_pct", "opus_pct", "overage_pct",
                "session_resets_at", "weekly_resets_at", "overage_enabled")


def iso(epoch: float | None) -> str | None:
    from datetime import datetime, timezone

    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class Local:
    """What the credentials file says, read once per run (the token never leaves the engine)."""

    profile: Profile
    mtime_ns: int | None
    creds: Credentials | None = None
    problem: str | None = None
    unavailable: str | None = None  # the credential store cannot answer now (a locked macOS keychain)
    # ... and withholds the profile until it can (a shared state store's rotation not yet on a replica):
    # its record is ``unknown`` with source WITHHELD_SOURCE, which pick drops.
    withheld: bool = False

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
        return os.stat(os.path.join(profile.directory, ".credentials.json")).st_mtime_ns  # no Path built
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
    except Unavailable as err:
        if err.details.get("profile") != profile.name or "store" not in err.details:
            raise  # the state backend itself is down: the command says so
        local.unavailable = err.message  # this profile only: the others are still read and probed
        local.withheld = bool(err.details.get("withheld"))
        return local
    try:
        local.creds = Credentials.parse(data, "credentials file")
    except CredentialsError as err:
        local.problem = err.message
        return local
    local.creds.name_unit_mixup(profile.name, ctx.warn)
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
                          source=source, stale=stale, last_good_at=iso(last_good_at), observed_at=iso(checked_at))
    if usage is not None:
        for name in USAGE_FIELDS:
            setattr(record, name, getattr(usage, name))
        record.model_limits = list(usage.model_limits)
        record.binding_limit = usage.binding_limit
        record.usage = {"extra": dict(usage.overage)} if usage.overage is not None else None
    return record


def local_verdict(ctx: "RoostContext", local: Local, now: float, *, classify: bool) -> Classification | None:
    """The verdict that needs no request: unusable credentials, or a token past expiresAt.

    A file without an access token but with a refresh token (a failed write, expiresAt 0)
    is auth_expired: a refresh may still recover it. Without either it is auth_dead.
    """
    if local.unavailable:
        return Classification(Health.UNKNOWN, None, error=local.unavailable, classifier="engine",
                              reasons=[f"local: {local.unavailable}; no request was made"])
    if local.problem:
        return Classification(Health.AUTH_DEAD, None, error=local.problem, classifier="engine",
                              reasons=[f"local: {local.problem}; no request was made"])
    if local.creds is not None and deadtoken.is_logged_out(local.creds):
        return Classification(Health.AUTH_DEAD, None, error=deadtoken.LOGGED_OUT, classifier="engine",
                              reasons=["local: no tokens and expiresAt 0 (claude wiped the file after its "
                                       "refresh failed); no request was made"])
    if not local.expired(now) and local.token:
        return None
    rejected = deadtoken.lookup(ctx, local.creds.refresh_token) if local.creds else None
    if rejected is not None:  # an expiry no refresh can cure is not auth_expired
        from ..refresh import relogin_fix  # the fix names this profile and its directory, as refresh's does

        why = deadtoken.describe(rejected, relogin_fix(local.profile))
        return Classification(Health.AUTH_DEAD, None, error=why, classifier="engine",
                              reasons=[f"local: the access token expired and {why}; no request was made"])
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
            return unrefreshable(local, verdict)
    return unrefreshable(local, Classification(Health.AUTH_EXPIRED, None, error="access token expired",
                                                classifier="engine",
                                                reasons=["local: stored expiresAt is in the past; no request was made"]))


def unrefreshable(local: Local, verdict: Classification) -> Classification:
    """auth_expired stays auth_expired, but without a refresh token its fix is a new sign-in, not refresh."""
    if verdict.health is not Health.AUTH_EXPIRED or local.creds is None or local.creds.refresh_token \
            or (verdict.error or "").startswith(NO_REFRESH_TOKEN):
        return verdict
    from ..refresh import relogin_fix

    name = local.profile.name
    fix = (f"make a new one with 'claude setup-token' and run 'roost add {name} --setup-token --force'"
           if local.creds.is_setup_token else relogin_fix(local.profile))
    verdict.error = f"{NO_REFRESH_TOKEN}: {fix}"
    verdict.reasons = [*verdict.reasons, f"no refresh token in the file: 'roost refresh' cannot renew it; {fix}"]
    return verdict


def needs_login(health: "Health | str", error: str | None) -> bool:
    """True when only a new sign-in helps: auth_dead, or auth_expired with no refresh token."""
    value = health.value if isinstance(health, Health) else health
    return value == "auth_dead" or (value == "auth_expired" and (error or "").startswith(NO_REFRESH_TOKEN))
