"""Profile management: list, add, remove, rename, snapshot."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import click

from .. import healthcache, lastpick
from ..atomic import atomic_write, ensure_private_dir, write_user_file
from ..context import RoostContext
from ..credentials import Credentials, CredentialsError
from ..errors import Conflict, NotFound, ValidationError
from ..names import validate_name
from ..paths import default_add_source
from ..profiles import CREDENTIALS_FILE, DEFAULT_PROFILE, profile_dir
from ..records import Profile
from .common import complete_profiles, json_option, pass_roost

SNAPSHOT_WARNING = ("Snapshot written. roost will NEVER touch this file. It is not refreshed "
                    "and stops working when its access token expires{expiry}.")


@click.command("list")
@json_option
@pass_roost
def list_cmd(rctx: RoostContext) -> None:
    """Names of discovered profiles (sorted)."""
    names = [p.name for p in rctx.profiles()]
    rctx.out.emit(names, {"count": len(names), "profiles_dir": str(rctx.paths.profiles_tree)},
                  text="\n".join(names))


def _read_source(path: Path) -> tuple[bytes, Credentials]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"no credentials file at {path} (sign in with 'claude login' first, "
                       "or pass --from PATH)", details={"path": str(path)}) from None
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc.strerror}") from None
    return data, Credentials.parse(data, str(path))


@click.command("add")
@click.argument("name")
@click.option("--from", "source", type=click.Path(dir_okay=False, path_type=Path),
              help="Credentials file to import (default ~/.claude/.credentials.json).")
@click.option("--force", is_flag=True, help="Overwrite an existing profile of that name.")
@json_option
@pass_roost
def add_cmd(rctx: RoostContext, name: str, source: Path | None, force: bool) -> None:
    """Import a credentials file as profile NAME (copied, never moved)."""
    target_dir = profile_dir(rctx.paths, name)
    source = (source or default_add_source()).expanduser()
    data, creds = _read_source(source)
    if not creds.oauth:
        raise CredentialsError(f"{source} holds no claudeAiOauth login; sign in with 'claude login' first")
    target = target_dir / CREDENTIALS_FILE
    rctx.profiles()  # a shared store's profiles appear in the tree first
    if target.exists() and not force:
        raise Conflict(f"profile {name!r} already exists; use --force to overwrite it",
                       details={"profile": name})
    ensure_private_dir(rctx.paths.profiles_tree)
    _store_login(rctx, Profile(name, target_dir), data, replace=target.exists())
    healthcache.drop(rctx, name)
    result = {"name": name, "path": str(target), "plan": creds.plan, "expires_at": creds.expires_at_iso(),
              "source": str(source)}
    rctx.out.emit(result, {"overwritten": force}, text=name)
    rctx.out.say(f"Added profile {name!r} from {source}.")


def _store_login(rctx: RoostContext, profile: Profile, data: bytes, replace: bool) -> None:
    """Write an imported login through the state backend, under the profile's refresh lock.

    The lock keeps the write out of a refresh in flight; reading first anchors
    the replacement on what is stored now (the backend's compare-and-set), so a
    shared store takes the new login for the whole fleet.
    """
    from ..refresh import refresh_lock

    created = not profile.directory.exists()
    try:
        with refresh_lock(rctx, profile, rctx.settings.get("lock_wait")):
            if replace:
                rctx.state.read_credentials(profile)
            rctx.state.write_credentials(profile, data)  # creates the 0700 directory
    except BaseException:
        if created:
            with contextlib.suppress(OSError):
                profile.directory.rmdir()  # only if still empty: a failed add leaves no trace
        raise


def _tree_profile(rctx: RoostContext, name: str):
    profile = rctx.profile(name)
    if name == DEFAULT_PROFILE and profile.directory.parent != rctx.paths.profiles_tree:
        raise ValidationError("profile 'default' is the $CLAUDE_CONFIG_DIR fallback; "
                              "roost does not move or delete it")
    return profile


@click.command("remove")
@click.argument("name", shell_complete=complete_profiles)
@json_option
@pass_roost
def remove_cmd(rctx: RoostContext, name: str) -> None:
    """Delete a profile directory and drop its cached health."""
    profile = _tree_profile(rctx, name)
    from .. import leases
    from ..refresh import refresh_lock

    with refresh_lock(rctx, profile, rctx.settings.get("lock_wait")):
        leases.ensure_not_leased(rctx, name)
        forget = getattr(rctx.state, "remove_profile", None)
        if callable(forget):
            forget(profile)
        shutil.rmtree(profile.directory)
    healthcache.drop(rctx, name)
    lastpick.clear_if(rctx, name)
    rctx.out.emit({"name": name, "removed": str(profile.directory)}, {}, text=name)
    rctx.out.say(f"Removed profile {name!r}.")


@click.command("rename")
@click.argument("old", shell_complete=complete_profiles)
@click.argument("new")
@click.option("--force", is_flag=True, help="Replace an existing destination profile.")
@json_option
@pass_roost
def rename_cmd(rctx: RoostContext, old: str, new: str, force: bool) -> None:
    """Rename a profile (atomic directory move; cached health is reset)."""
    validate_name(new)
    profile = _tree_profile(rctx, old)
    destination = profile_dir(rctx.paths, new)
    if old == new:
        raise ValidationError("old and new names are the same")
    from .. import leases
    from ..refresh import refresh_lock

    replaced = destination.exists() or destination.is_symlink()
    if replaced and not force:
        raise Conflict(f"profile {new!r} already exists; use --force to replace it",
                       details={"profile": new})
    with contextlib.ExitStack() as held:
        held.enter_context(refresh_lock(rctx, profile, rctx.settings.get("lock_wait")))
        leases.ensure_not_leased(rctx, old)
        if replaced:
            held.enter_context(refresh_lock(rctx, Profile(new, destination), rctx.settings.get("lock_wait")))
            leases.ensure_not_leased(rctx, new)
        move = getattr(rctx.state, "rename_profile", None)
        if callable(move):
            move(profile, new, replace=replaced)
        if destination.is_dir() and not destination.is_symlink():
            shutil.rmtree(destination)
        elif replaced:
            destination.unlink()
        os.rename(profile.directory, destination)
    healthcache.drop(rctx, old, new)
    lastpick.clear_if(rctx, old)
    rctx.out.emit({"old": old, "new": new, "path": str(destination)}, {"replaced": force}, text=new)
    rctx.out.say(f"Renamed profile {old!r} to {new!r}.")


def _snapshot_bytes(rctx: RoostContext, profile: Profile) -> bytes:
    """What a consumer outside roost may hold: the file an exec child would get.

    With a shared store that is the access-token-only copy (a snapshot holding
    the fleet's refresh token could rotate it behind every machine's back);
    otherwise the profile's own credentials, byte for byte.
    """
    child_dir = getattr(rctx.state, "child_credentials_dir", None)
    directory = child_dir(profile, None) if rctx.shared_state is not None and callable(child_dir) else None
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
    live = {os.path.realpath(p.credentials_path) for p in rctx.profiles()}
    if os.path.realpath(out_path) in live:
        raise ValidationError("refusing to write a snapshot over a live profile's credentials")
    if not out_path.parent.is_dir():
        raise NotFound(f"directory {out_path.parent} does not exist")
    write_user_file(out_path, data, 0o600, force=force)
    expiry = creds.expires_at_iso()
    rctx.out.emit({"name": name, "path": str(out_path), "expires_at": expiry}, {"leased": False},
                  text=str(out_path))
    rctx.out.say(SNAPSHOT_WARNING.format(expiry=f" ({expiry})" if expiry else ""))
