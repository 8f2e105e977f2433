"""remove, rename and removed: a user's work in a profile directory is never lost.

``remove`` deletes what roost owns and moves the rest to
``<data dir>/removed/<name>-<UTC timestamp>/`` (``--purge`` deletes it all,
after listing it); ``rename --force`` moves an occupied destination aside the
same way; ``removed`` lists what was kept (``roost add NAME --restore`` brings
it back). Nothing is deleted through a symbolic link. The fleet backend's
``remove_profile``/``rename_profile`` hooks run under the refresh lock, as
before, and can stop the operation.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from pathlib import Path
from typing import Any, Callable

import click

from roost_core.api import (
    DEFAULT_PROFILE,
    Conflict,
    NotFound,
    Profile,
    RoostContext,
    RoostError,
    ValidationError,
    clear_last_pick,
    complete_profiles,
    drop_health,
    json_option,
    pass_roost,
    profile_dir,
    validate_name,
)

from . import removal as profile_removal


def _tree_profile(rctx: RoostContext, name: str) -> Profile:
    profile = rctx.profile(name)
    if name == DEFAULT_PROFILE and profile.directory.parent != rctx.paths.profiles_tree:
        raise ValidationError("profile 'default' is the $CLAUDE_CONFIG_DIR fallback; "
                              "roost does not move or delete it")
    return profile


def _base(rctx: RoostContext) -> Path:
    """The shared-setup base (its links are roost's); a broken [profiles] config falls back to ~/.claude."""
    from .setup import base_dir, resolved_section

    try:
        return base_dir(resolved_section(rctx.settings), rctx.env)
    except RoostError:
        return base_dir({}, rctx.env)


def _forget(rctx: RoostContext, did: str, *steps: Callable[[], None]) -> None:
    """roost's own bookkeeping after the files moved, in order: a failure is a warning (the move stands)."""
    try:
        for step in steps:
            step()
    except (RoostError, OSError) as exc:
        rctx.warn(f"{did}, but could not update roost's state: {getattr(exc, 'message', None) or exc}")


def _confirm_purge(rctx: RoostContext, name: str, directory: Path, everything: list[str], yes: bool) -> None:
    shown = profile_removal.describe(directory, everything)
    rctx.out.say(f"--purge deletes everything in {directory}:" + "".join(f"\n  {s}" for s in shown))
    if yes or sys.stdin is None or not sys.stdin.isatty():
        return
    if not click.confirm(f"Delete profile {name!r} and all of the above?", default=False, err=True):
        raise ValidationError("not confirmed: nothing was deleted", details={"profile": name})


@click.command("remove")
@click.argument("name", shell_complete=complete_profiles)
@click.option("--purge", is_flag=True,
              help="Delete everything in the profile directory (listed first) instead of keeping the user's files.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation of --purge on a terminal.")
@json_option
@pass_roost
def remove_cmd(rctx: RoostContext, name: str, purge: bool, yes: bool) -> None:
    """Remove a profile: delete its credentials and roost's state; keep everything else.

    The rest of the directory (claude's .claude.json, projects/ sessions, ...)
    moves to <data dir>/removed/NAME-<UTC time>/ (0700; the data dir is
    $XDG_DATA_HOME/claude-lb or ~/.local/share/claude-lb); 'roost removed' lists it and
    'roost add NAME --restore' brings it back. Shared-setup links are removed
    as links; nothing is deleted through a symbolic link.
    """
    from roost_core.api import ensure_not_leased, refresh_lock

    profile = _tree_profile(rctx, name)
    directory = profile.directory
    linked_dir = os.path.islink(directory)
    if purge and not linked_dir:
        _confirm_purge(rctx, name, directory, sorted(os.listdir(directory)), yes)
    with refresh_lock(rctx, profile, rctx.settings.get("lock_wait")):
        _still_there(profile)
        ensure_not_leased(rctx, name)
        rctx.state.remove_profile(profile)
        data = _take_apart(rctx, name, directory, purge)
    _forget(rctx, f"removed {name!r}", lambda: drop_health(rctx, name), lambda: clear_last_pick(rctx, name))
    rctx.out.emit(data, {"purged": purge, "kept_count": len(data["kept"])}, text=name)
    _say_removed(rctx, name, data)


def _take_apart(rctx: RoostContext, name: str, directory: Path, purge: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"name": name, "removed": str(directory), "path": str(directory), "purged": purge,
                            "deleted": [], "unlinked": [], "kept": [], "kept_in": None, "link_target": None}
    if os.path.islink(directory):  # a directory linked in from elsewhere: the link goes, never its target
        data["link_target"] = os.readlink(directory)
        os.unlink(directory)
        return data
    dismantle = profile_removal.plan(directory, _base(rctx))
    if purge:
        data["deleted"] = dismantle.everything()
        profile_removal.purge(directory)
        return data
    kept_in = profile_removal.set_aside(dismantle, profile_removal.removed_root(rctx.paths), name, rctx.now())
    data.update(deleted=dismantle.deleted, unlinked=dismantle.unlinked, kept=sorted(dismantle.kept),
                kept_in=str(kept_in) if kept_in else None)
    return data


def _say_removed(rctx: RoostContext, name: str, data: dict[str, Any]) -> None:
    if data["link_target"] is not None:
        rctx.out.say(f"Removed profile {name!r}: {data['path']} was a symbolic link to {data['link_target']}; "
                     "removed the link only, its target is untouched.")
        return
    if data["purged"]:
        rctx.out.say(f"Removed profile {name!r} and deleted everything in {data['path']}.")
        return
    rctx.out.say(f"Removed profile {name!r} (deleted {', '.join(data['deleted']) or 'nothing'}"
                 + (f"; unlinked shared setup: {', '.join(data['unlinked'])}" if data["unlinked"] else "") + ").")
    if data["kept_in"]:
        shown = profile_removal.describe(Path(data["kept_in"]), data["kept"])
        rctx.out.say(f"Kept {', '.join(shown)} in {data['kept_in']} "
                     f"(bring them back with 'roost add {name} --restore').")


def _holds_anything(path: Path) -> bool:
    if not os.path.lexists(path):
        return False
    if os.path.islink(path) or not path.is_dir():
        return True
    return bool(os.listdir(path))


@click.command("rename")
@click.argument("old", shell_complete=complete_profiles)
@click.argument("new")
@click.option("--force", is_flag=True,
              help="Move an occupied destination aside (like 'remove': its files are kept in removed/).")
@json_option
@pass_roost
def rename_cmd(rctx: RoostContext, old: str, new: str, force: bool) -> None:
    """Rename a profile: its whole directory moves (cached health is reset).

    Refuses when the destination holds anything, unless --force.
    """
    from roost_core.api import ensure_not_leased, refresh_lock

    validate_name(new)
    profile = _tree_profile(rctx, old)
    destination = profile_dir(rctx.paths, new)
    if old == new:
        raise ValidationError("old and new names are the same")
    if _holds_anything(destination) and not force:
        raise _occupied(destination, new)
    replaced = os.path.lexists(destination)
    with contextlib.ExitStack() as held:
        held.enter_context(refresh_lock(rctx, profile, rctx.settings.get("lock_wait")))
        _still_there(profile)
        ensure_not_leased(rctx, old)
        if replaced:
            held.enter_context(refresh_lock(rctx, Profile(new, destination), rctx.settings.get("lock_wait")))
            ensure_not_leased(rctx, new)
        elif _holds_anything(destination):  # a concurrent add or rename took the name meanwhile
            raise _occupied(destination, new)
        rctx.state.rename_profile(profile, new, replace=replaced)
        aside = _clear_destination(rctx, new, destination) if replaced else None
        try:
            os.rename(profile.directory, destination)
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
                raise
            raise _occupied(destination, new) from None  # filled between the check and the move
    _forget(rctx, f"renamed {old!r} to {new!r}", lambda: drop_health(rctx, old, new),
            lambda: clear_last_pick(rctx, old))
    rctx.out.emit({"old": old, "new": new, "path": str(destination), **(aside or {})},
                  {"replaced": replaced}, text=new)
    rctx.out.say(f"Renamed profile {old!r} to {new!r}.")
    if aside and aside.get("kept_in"):
        rctx.out.say(f"Moved what {destination} held aside: {', '.join(aside['kept'])} in {aside['kept_in']}.")
    elif aside and aside.get("link_target"):
        rctx.out.say(f"{destination} was a symbolic link to {aside['link_target']}: removed the link only.")


def _still_there(profile: Profile) -> None:
    """Under the profile's lock: a concurrent remove or rename may have taken it since discovery."""
    if not os.path.lexists(profile.directory):
        raise NotFound(f"unknown profile {profile.name!r} (removed or renamed meanwhile)",
                       details={"profile": profile.name})


def _occupied(destination: Path, new: str) -> Conflict:
    return Conflict(f"{destination} already holds something; use --force to move it aside "
                    "(its files are kept, see 'roost removed')", details={"profile": new, "path": str(destination)})


def _clear_destination(rctx: RoostContext, new: str, destination: Path) -> dict[str, Any] | None:
    """Make room like ``remove`` would: roost's files deleted, the rest kept in removed/."""
    root = profile_removal.removed_root(rctx.paths)
    if os.path.islink(destination) or not destination.is_dir():
        if os.path.islink(destination):
            target = os.readlink(destination)
            os.unlink(destination)
            return {"link_target": target, "kept": [], "kept_in": None}
        moved_to = profile_removal.set_aside_path(destination, root, new, rctx.now())
        return {"kept": [destination.name], "kept_in": str(moved_to), "link_target": None}
    dismantle = profile_removal.plan(destination, _base(rctx))
    kept_in = profile_removal.set_aside(dismantle, root, new, rctx.now())
    return {"kept": sorted(dismantle.kept), "kept_in": str(kept_in) if kept_in else None,
            "deleted": dismantle.deleted, "unlinked": dismantle.unlinked, "link_target": None}


@click.command("removed")
@json_option
@pass_roost
def removed_cmd(rctx: RoostContext) -> None:
    """Directories 'roost remove' kept (oldest first); 'roost add NAME --restore' brings one back.

    They are in <data dir>/removed/ (~/.local/share/claude-lb/removed/ on Linux);
    those an earlier roost kept in <config dir>/removed/ are listed too, where they are.
    """
    roots = profile_removal.removed_roots(rctx.paths)
    kept = profile_removal.kept_dirs(roots)
    data = [k.to_dict() for k in kept]
    text = "\n".join(f"{k.profile}\t{k.removed_at}\t{k.path}" for k in kept)
    rctx.out.emit(data, {"count": len(kept), "removed_dir": str(roots[0]),
                         "removed_dirs": [str(r) for r in roots]}, text=text)
    if not kept and not rctx.out.json_mode:
        rctx.out.say(f"Nothing kept in {' or '.join(map(str, roots))}.")
