"""Profile management: list, add, snapshot (remove and rename: remove.py)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import click

from roost_core.api import (
    CREDENTIALS_FILE,
    KEYCHAIN_MARKER,
    Conflict,
    Credentials,
    CredentialsError,
    NotFound,
    Profile,
    RoostContext,
    RoostError,
    ValidationError,
    complete_profiles,
    default_add_source,
    drop_health,
    ensure_private_dir,
    is_logged_out,
    json_option,
    pass_roost,
    profile_dir,
    write_user_file,
)

SNAPSHOT_WARNING = ("Snapshot written. roost will NEVER touch this file. It is not refreshed "
                    "and stops working when its access token expires{expiry}.")


@click.command("list")
@json_option
@pass_roost
def list_cmd(rctx: RoostContext) -> None:
    """Names of discovered profiles (sorted); --json adds each one's account and sharing.

    No profile is an empty list and exit 0 (status, probe, pick: exit 9).
    """
    profiles = rctx.profiles()
    names = [p.name for p in profiles]
    meta = {"count": len(names), "profiles_dir": str(rctx.paths.profiles_tree)}
    if rctx.out.json_mode:
        meta["profiles"] = profile_details(rctx, profiles)
    rctx.out.emit(names, meta, text="\n".join(names))


def profile_details(rctx: RoostContext, profiles: list[Profile]) -> list[dict]:
    """Per profile: the account identity (never a token), setup-token kind, isolation, same-account peers."""
    from roost_core.api import accounts_of, shared_accounts

    from .setup import read_marker

    accounts = accounts_of(profiles)
    peers = shared_accounts(accounts)
    details = []
    for profile in profiles:
        account = accounts[profile.name]
        marker = read_marker(profile.directory)
        details.append({"name": profile.name, "email": account.email if account else None,
                        "account": account.to_dict() if account else None,
                        "kind": marker.get("kind") or "oauth", "isolated": marker.get("isolated") is True,
                        "same_account_as": peers.get(profile.name, [])})
    return details


MAX_SOURCE_BYTES = 1 << 20  # a credentials file is a few hundred bytes


def _read_source(path: Path) -> tuple[bytes, Credentials]:
    """The --from file: a regular file only (no FIFO, device or directory), at most 1 MiB."""
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise NotFound(f"no credentials file at {path} (sign in with 'claude login' first, "
                       "or pass --from PATH)", details={"path": str(path)}) from None
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):  # before fdopen, which raises on a directory ('' is '.')
        os.close(fd)
        raise ValidationError(f"{path} is not a regular file; --from takes a credentials file",
                              details={"path": str(path)})
    with os.fdopen(fd, "rb") as handle:
        try:
            data = handle.read(MAX_SOURCE_BYTES + 1)
        except OSError as exc:
            raise ValidationError(f"cannot read {path}: {exc.strerror}") from None
    if len(data) > MAX_SOURCE_BYTES:
        raise ValidationError(f"{path} is over {MAX_SOURCE_BYTES} bytes; not a credentials file",
                              details={"path": str(path)})
    return data, Credentials.parse(data, str(path))


@click.command("add")
@click.argument("name")
@click.option("--from", "source", type=click.Path(dir_okay=False, path_type=Path),
              help="Credentials file to import (default ~/.claude/.credentials.json); the account "
                   "identity comes from .claude.json beside it.")
@click.option("--force", is_flag=True, help="Overwrite an existing profile of that name.")
@click.option("--isolated", is_flag=True, help="A bare profile: do not link the shared claude setup.")
@click.option("--setup-token", "setup_token", is_flag=True,
              help="Read a 'claude setup-token' token from stdin (access token only, nothing to refresh).")
@click.option("--restore", is_flag=True, help="Bring back what 'roost remove NAME' kept (see 'roost removed').")
@json_option
@pass_roost
def add_cmd(rctx: RoostContext, name: str, source: Path | None, force: bool, isolated: bool,
            setup_token: bool, restore: bool) -> None:
    """Import a credentials file as profile NAME (copied, never moved).

    The profile links the shareable items of your claude directory (settings,
    CLAUDE.md, agents, ...; --isolated for none) and gets the account's
    identity (email, organisation) from .claude.json.
    """
    from . import add_setup

    target_dir = profile_dir(rctx.paths, name)
    if setup_token and source is not None:
        raise ValidationError("--setup-token reads the token from stdin; it does not take --from")
    policy = add_setup.share_policy(rctx, name, target_dir, isolated)  # a bad [profiles] config fails first
    kept = add_setup.kept_to_restore(rctx, name) if restore else None
    if not isolated and add_setup.kept_isolated(kept):  # restore keeps the profile's --isolated
        isolated = True
        policy = add_setup.share_policy(rctx, name, target_dir, isolated)
    given = source is not None
    if setup_token:
        data, creds, shown_source = add_setup.setup_token_login(rctx, name)
    else:
        source = (source or default_add_source()).expanduser()
        data, creds, shown_source = _login_to_import(rctx, source, given)
        if not creds.oauth:
            raise CredentialsError(f"{shown_source} holds no claudeAiOauth login; sign in with 'claude login' first")
        if is_logged_out(creds):  # claude wiped it after a failed refresh: imported, but it cannot work
            rctx.warn(f"{shown_source} is logged out (claude emptied its tokens); profile {name!r} will be "
                      f"auth_dead until you run 'claude login' and then 'roost add {name} --force'")
    target = target_dir / CREDENTIALS_FILE
    rctx.profiles()  # a shared store's profiles appear in the tree first
    if target_dir.exists() and not target_dir.is_dir():  # a user's file: roost never replaces it
        raise Conflict(f"{target_dir} already holds a file that is not a profile directory; move it away first",
                       details={"profile": name, "path": str(target_dir)})
    exists = _holds_login(target_dir)
    if exists and not force:
        raise Conflict(f"profile {name!r} already exists; use --force to overwrite it",
                       details={"profile": name})
    ensure_private_dir(rctx.paths.profiles_tree)
    _store_login(rctx, Profile(name, target_dir), data, replace=exists)
    setup = add_setup.finish(rctx, Profile(name, target_dir), policy, kept=kept, setup_token=setup_token,
                             identity_from=source if given else None, isolated_flag=isolated)
    try:
        drop_health(rctx, name)
    except (RoostError, OSError) as exc:
        rctx.warn(f"added {name!r} but could not update roost's health cache: {getattr(exc, 'message', exc)}")
    result = {"name": name, "path": str(target), "plan": creds.plan, "expires_at": creds.expires_at_iso(),
              "source": shown_source, **setup.to_dict()}
    rctx.out.emit(result, {"overwritten": force, "warnings": setup.warnings}, text=name)
    rctx.out.say(f"Added profile {name!r} from {shown_source}.")
    for line in setup.lines():
        rctx.out.say(line)


def _login_to_import(rctx: RoostContext, source: Path, given: bool) -> tuple[bytes, Credentials, str]:
    """The --from file; without --from and without ~/.claude/.credentials.json, claude's default
    keychain item when the platform's store keeps logins there (macOS: claude deletes the file)."""
    try:
        data, creds = _read_source(source)
        return data, creds, str(source)
    except NotFound:
        if given:
            raise
        from roost_core.api import credential_store

        read_default = getattr(credential_store(rctx), "read_default", None)
        stored = read_default() if callable(read_default) else None
        if stored is None:
            raise
    shown = f"keychain item {stored.location!r}"
    return stored.data, Credentials.parse(stored.data, shown), shown


def _holds_login(directory: Path) -> bool:
    return (directory / CREDENTIALS_FILE).exists() or (directory / KEYCHAIN_MARKER).exists()


def _store_login(rctx: RoostContext, profile: Profile, data: bytes, replace: bool) -> None:
    """Write an imported login through the state backend, under the profile's refresh lock.

    The lock keeps the write out of a refresh in flight; reading first anchors
    the replacement on what is stored now (the backend's compare-and-set), so a
    shared store takes the new login for the whole fleet.
    """
    from roost_core.api import refresh_lock

    created = not profile.directory.exists()
    try:
        with refresh_lock(rctx, profile, rctx.settings.get("lock_wait")):
            held = _holds_login(profile.directory)  # again: a concurrent add or remove may have run since
            if held and not replace:
                raise Conflict(f"profile {profile.name!r} already exists; use --force to overwrite it",
                               details={"profile": profile.name})
            if held:
                rctx.state.read_credentials(profile)
            rctx.state.write_credentials(profile, data)  # creates the 0700 directory
    except BaseException:
        if created:
            with contextlib.suppress(OSError):
                profile.directory.rmdir()  # only if still empty: a failed add leaves no trace
        raise


def _snapshot_bytes(rctx: RoostContext, profile: Profile) -> bytes:
    """What a consumer outside roost may hold: the file an exec child would get.

    With a shared store that is the access-token-only copy (a snapshot holding
    the fleet's refresh token could rotate it behind every machine's back);
    otherwise the profile's own credentials, byte for byte.
    """
    directory = rctx.state.child_credentials_dir(profile, None) if rctx.shared_state is not None else None
    if directory is None:
        return rctx.state.read_credentials(profile)
    return (Path(directory) / CREDENTIALS_FILE).read_bytes()


@click.command("snapshot")
@click.argument("name", shell_complete=complete_profiles)
@click.argument("out_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace OUT_PATH even when it is a symbolic link (the link, never its target).")
@json_option
@pass_roost
def snapshot_cmd(rctx: RoostContext, name: str, out_path: Path, force: bool) -> None:
    """Copy a profile's live credentials to OUT_PATH, once (0600; never kept fresh)."""
    profile = rctx.profile(name)
    data = _snapshot_bytes(rctx, profile)
    creds = Credentials.parse(data, f"profile {name!r}")
    out_path = out_path.expanduser()
    if out_path.is_dir():  # click lets an empty OUT_PATH ('.') through
        raise ValidationError(f"OUT_PATH {str(out_path)!r} is a directory; give a file path",
                              details={"path": str(out_path)})
    live = {os.path.realpath(p.credentials_path) for p in rctx.profiles()}
    if os.path.realpath(out_path) in live:
        raise ValidationError("refusing to write a snapshot over a live profile's credentials")
    if not out_path.parent.is_dir():
        raise NotFound(f"directory {out_path.parent} does not exist")
    write_user_file(out_path, data, 0o600, force=force, force_flag="snapshot --force")
    if is_logged_out(creds):
        rctx.warn(f"profile {name!r} is logged out (claude emptied its tokens): the snapshot holds no usable "
                  "token; run 'claude login' for it first")
    expiry = None if is_logged_out(creds) else creds.expires_at_iso()
    rctx.out.emit({"name": name, "path": str(out_path), "expires_at": expiry}, {"leased": False},
                  text=str(out_path))
    rctx.out.say(SNAPSHOT_WARNING.format(expiry=f" ({expiry})" if expiry else ""))
