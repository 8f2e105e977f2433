"""``roost claude-setup``: the settings.json fragment that wires passive health into claude.

claude reads ``$CLAUDE_CONFIG_DIR/settings.json``, i.e. ``<profile>/settings.json``.
Where that is roost's link to the user's base settings (the profiles plugin
links ``<base>/settings.json`` into every profile that shares it), the base
file is the one claude reads for every such profile: it is written once, by
its own path, never through the link. Any other link (a user's own, a link
to a link) is refused for its profile and nothing is written.

Before deciding, ``--apply`` / ``--remove`` ready each profile through the
``roost_prepare_exec`` hook, as ``roost exec`` does, so a profile that shares
the base settings has its link (a missing link would otherwise make roost
create a file of the profile's own, which then keeps the base out for good).
A profile that would share a base settings.json that does not exist yet gets
the base file created (then the hook links it); one that still has none
afterwards (isolated, or not sharing settings.json) gets a file of its own,
recorded as roost's (``.roost-claude-setup.json``) so ``--remove`` deletes it
again instead of leaving a ``{}`` that would block the base link.

``--apply`` merges, keeping every other key and the user's own statusLine (as
``--then``); a key roost must merge into with the wrong type is refused for
that file. ``--remove`` takes roost's parts out again. Each changed file gets
a backup beside it; every write is atomic. This explicit command is the only
thing in roost that ever writes in the user's base directory.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from roost_core.api import ExitCode, RoostError, ValidationError, write_user_file

SETTINGS = "settings.json"
HOOK_EVENT = "StopFailure"
BACKUP_SUFFIX = ".roost-backup"


def roost_command() -> str:
    """How claude should call roost: this roost's absolute path when it is on disk, else ``roost``."""
    candidate = shutil.which("roost") or ""
    here = os.path.abspath(sys.argv[0]) if sys.argv and os.path.basename(sys.argv[0]) == "roost" else ""
    return shlex.quote(here or candidate or "roost")


def fragment(roost: str) -> dict[str, Any]:
    return {"statusLine": {"type": "command", "command": f"{roost} statusline", "padding": 0},
            "hooks": {HOOK_EVENT: [{"hooks": [{"type": "command", "command": f"{roost} hook"}]}]}}


def _words(command: Any) -> list[str]:
    if not isinstance(command, str):
        return []
    try:
        return shlex.split(command)
    except ValueError:
        return []


def is_ours(command: Any, sub: str) -> bool:
    """``<...>/roost statusline [...]`` or ``<...>/roost hook``."""
    words = _words(command)
    return len(words) >= 2 and os.path.basename(words[0]) == "roost" and words[1] == sub


def then_of(command: Any) -> str | None:
    words = _words(command)
    for i, word in enumerate(words):
        if word == "--then" and i + 1 < len(words):
            return words[i + 1]
        if word.startswith("--then="):
            return word[len("--then="):]
    return None


# -- merging ----------------------------------------------------------------------------

def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def misfit(settings: dict[str, Any]) -> str | None:
    """The key roost must merge into whose value has the wrong type (roost would have to replace it), or None."""
    line = settings.get("statusLine")
    if "statusLine" in settings and not isinstance(line, dict):
        return f"statusLine is {_kind(line)}, not an object"
    if isinstance(line, dict) and "command" in line and not isinstance(line["command"], str):
        return f"statusLine.command is {_kind(line['command'])}, not a string"
    hooks = settings.get("hooks")
    if "hooks" in settings and not isinstance(hooks, dict):
        return f"hooks is {_kind(hooks)}, not an object"
    if isinstance(hooks, dict) and HOOK_EVENT in hooks and not isinstance(hooks[HOOK_EVENT], list):
        return f"hooks.{HOOK_EVENT} is {_kind(hooks[HOOK_EVENT])}, not a list"
    return None


def merged(settings: dict[str, Any], roost: str) -> tuple[dict[str, Any], str | None]:
    """``settings`` with roost's statusLine and hook; returns (new, the user's kept command).

    A key roost must merge into with the wrong type (:func:`misfit`) is VALIDATION: never replaced.
    """
    wrong = misfit(settings)
    if wrong:
        raise ValidationError(f"key {wrong} (roost adds to that key and never replaces it: fix it by hand); "
                              "not changed")
    new = dict(settings)
    kept = None
    line = new.get("statusLine")
    ours = f"{roost} statusline"
    if isinstance(line, dict) and is_ours(line.get("command"), "statusline"):
        kept = then_of(line.get("command"))
        new["statusLine"] = {**line, "command": ours + (f" --then {shlex.quote(kept)}" if kept else "")}
    elif isinstance(line, dict) and isinstance(line.get("command"), str) and line["command"].strip():
        kept = line["command"]  # only the command changes: --remove restores the user's line exactly
        new["statusLine"] = {**line, "command": f"{ours} --then {shlex.quote(kept)}"}
    else:
        new["statusLine"] = dict(fragment(roost)["statusLine"])
    hooks = dict(new["hooks"]) if isinstance(new.get("hooks"), dict) else {}
    event_groups = hooks.get(HOOK_EVENT)
    groups = list(event_groups) if isinstance(event_groups, list) else []
    present = any(isinstance(g, dict) and any(isinstance(h, dict) and is_ours(h.get("command"), "hook")
                                              for h in g.get("hooks") or [] if isinstance(g.get("hooks"), list))
                  for g in groups)
    if not present:
        groups.append({"hooks": [{"type": "command", "command": f"{roost} hook"}]})
    hooks[HOOK_EVENT] = groups
    new["hooks"] = hooks
    return new, kept


def removed(settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` without roost's parts: the user's own statusLine comes back."""
    new = dict(settings)
    line = new.get("statusLine")
    if isinstance(line, dict) and is_ours(line.get("command"), "statusline"):
        kept = then_of(line.get("command"))
        if kept:
            new["statusLine"] = {**line, "command": kept}
        else:
            del new["statusLine"]
    hooks = new.get("hooks")
    if isinstance(hooks, dict) and isinstance(hooks.get(HOOK_EVENT), list):
        groups = []
        for group in hooks[HOOK_EVENT]:
            if isinstance(group, dict) and isinstance(group.get("hooks"), list):
                inner = [h for h in group["hooks"] if not (isinstance(h, dict) and is_ours(h.get("command"), "hook"))]
                if not inner:
                    continue
                group = {**group, "hooks": inner}
            groups.append(group)
        hooks = dict(hooks)
        if groups:
            hooks[HOOK_EVENT] = groups
        else:
            del hooks[HOOK_EVENT]
        if hooks:
            new["hooks"] = hooks
        else:
            del new["hooks"]
    return new


def wired(settings: dict[str, Any]) -> dict[str, bool]:
    """Whether roost's statusLine and StopFailure hook are in a settings document."""
    line = settings.get("statusLine")
    hooks = settings.get("hooks")
    groups = hooks.get(HOOK_EVENT) if isinstance(hooks, dict) else None
    groups = groups if isinstance(groups, list) else []
    hook = any(isinstance(g, dict) and isinstance(g.get("hooks"), list)
               and any(isinstance(h, dict) and is_ours(h.get("command"), "hook") for h in g["hooks"])
               for g in groups)
    return {"statusline": isinstance(line, dict) and is_ours(line.get("command"), "statusline"), "hook": hook}


# -- files ---------------------------------------------------------------------------------

CREATED_MARKER = ".roost-claude-setup.json"  # in a profile directory: roost created its settings.json


@dataclass
class Target:
    path: Path  # the file written (the base file for a profile linked to it)
    profiles: list[str] = field(default_factory=list)
    shared: bool | None = False  # the base file, reached through roost's links; None: not decided (no file yet)
    problem: str | None = None  # why roost refuses this file (nothing is written)
    code: int = int(ExitCode.VALIDATION)  # the exit code of the refusal
    created: bool = False  # already written by this run (the base file made for a profile that shares it)


def shared_base(rctx: Any) -> Path | None:
    """``<base>/settings.json``, the file roost's links point at (docs/profiles.md), spelled as the
    profiles plugin spells them: ``[profiles] base`` (``~/...`` against $HOME), else ``~/.claude``.

    None when no loaded plugin declares ``profiles.base`` (no profiles plugin: no profile shares).
    """
    settings = rctx.settings
    if not any(spec.key == "profiles.base" for spec in settings.specs()):
        return None
    from roost_core.api import claude_dir

    return claude_dir(rctx.env, settings.get("profiles.base")) / SETTINGS


def settings_target(directory: Path, base: Path | None = None, strict: bool = False) -> Target:
    """The settings.json claude reads for a profile directory, as a file roost may write.

    ``strict`` (what claude-setup writes): only roost's own link, ``<profile>/settings.json ->
    <base>/settings.json`` exactly, is followed; any other link is refused. Without it (the doctor
    check, which only reads) a link is followed wherever it points.
    """
    path = Path(directory) / SETTINGS
    if not os.path.islink(path):
        return Target(path, shared=None if strict and not os.path.lexists(path) else False)
    link = os.readlink(path)
    if strict and (base is None or link != str(base)):
        return Target(path, problem=f"{path} is a link to {link}, not roost's link to the base settings "
                                    f"({base or 'no profiles plugin'}): roost never writes through a link "
                                    "(change the file it points to by hand, or replace the link with a file)")
    target = Path(link if os.path.isabs(link) else os.path.normpath(os.path.join(directory, link)))
    if os.path.islink(target):
        return Target(target, shared=True, problem=f"{path} links to {target}, itself a link: roost never "
                                                    "writes through a link (add the fragment by hand)")
    return Target(target, shared=True)


def targets(profiles: list[Any], base: Path | None = None, strict: bool = False,
            failed: dict[str, tuple[str, int]] | None = None) -> list[Target]:
    """One target per distinct file (profiles sharing the base settings write it once).

    ``failed``: profile name -> (why, exit code) for a profile refused before anything was decided.
    """
    found: dict[str, Target] = {}
    for profile in profiles:
        why = (failed or {}).get(profile.name)
        if why is not None:
            target = Target(Path(profile.directory) / SETTINGS, problem=why[0], code=why[1])
        else:
            target = settings_target(profile.directory, base, strict)
        if base is not None and not target.problem and _same_file(target.path, base):
            target.shared = True  # the base file itself (the profile directory is the base directory)
        key = os.path.realpath(target.path) if not target.problem else f"problem:{profile.name}"
        found.setdefault(key, target).profiles.append(profile.name)
    return list(found.values())


def ready(rctx: Any, profile: Any) -> None:
    """What ``roost exec`` does before its child starts: the profiles plugin links the shared setup."""
    from roost_core.api import config_dir_string

    directory = config_dir_string(profile.directory)
    env = {"AXIOM_CLAUDE_PROFILE": profile.name, "CLAUDE_CONFIG_DIR": directory,
           "CLAUDE_SECURESTORAGE_CONFIG_DIR": directory}
    rctx.host.prepare("roost_prepare_exec", "exec", profile=profile, env=env, ctx=rctx)


def _same_file(a: Path, b: Path) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def ready_all(rctx: Any, profiles: list[Any], failed: dict[str, tuple[str, int]]) -> None:
    for profile in profiles:
        try:
            ready(rctx, profile)
        except RoostError as err:  # a bad [profiles] config, a site plugin's refusal: that profile is refused
            failed[profile.name] = (f"could not ready profile {profile.name!r} as exec does ({err.message}); "
                                    "nothing written", int(err.exit_code))


def plan(rctx: Any, profiles: list[Any], roost: str, apply: bool) -> list[Target]:
    """The files ``--apply`` / ``--remove`` change, the profiles readied first (their links made)."""
    base = shared_base(rctx)
    failed: dict[str, tuple[str, int]] = {}
    ready_all(rctx, profiles, failed)
    found = targets(profiles, base, True, failed)
    undecided = [p for p in profiles
                 if any(t.shared is None and not t.problem and p.name in t.profiles for t in found)]
    if not (apply and base is not None and undecided) or os.path.lexists(base) or not base.parent.is_dir():
        return found
    # No profile's settings.json yet and no base file: a profile that shares settings.json would link the
    # base file if there were one. Make it (roost's fragment only) and let the hook decide; a profile it
    # does not link (isolated, settings.json not shared) gets its own file below.
    content = _encoded(merged({}, roost)[0])
    try:
        write_user_file(base, content, 0o644)
    except (RoostError, OSError) as exc:
        why = f"cannot create {base} for the profiles that share it: {getattr(exc, 'message', exc)}"
        failed.update({p.name: (why, int(ExitCode.UNEXPECTED)) for p in undecided})
        return targets(profiles, base, True, failed)
    ready_all(rctx, undecided, failed)
    found = targets(profiles, base, True, failed)
    for target in found:
        if target.shared and not target.problem and _same_file(target.path, base):
            target.created = True
            return found
    _undo(base, content)  # nobody links it: not the user's, gone again
    return found


def _undo(path: Path, content: bytes) -> None:
    try:
        if not os.path.islink(path) and path.read_bytes() == content:
            os.unlink(path)
    except OSError:
        pass


def _encoded(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, indent=2) + "\n").encode("utf-8")


def read_settings(path: Path) -> dict[str, Any] | None:
    """The settings document; None when missing; VALIDATION when it is not a JSON object."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RoostError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ValidationError(f"{path} is not valid JSON ({exc}); not changed") from None
    if not isinstance(data, dict):
        raise ValidationError(f"{path} is not a JSON object; not changed")
    return data


def backup_path(path: Path) -> Path:
    """``settings.json.<UTC stamp>.roost-backup``, numbered when that second already has one (never replaced)."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    backup = path.with_name(f"{path.name}.{stamp}{BACKUP_SUFFIX}")
    number = 1
    while os.path.lexists(backup):
        backup = path.with_name(f"{path.name}.{stamp}-{number}{BACKUP_SUFFIX}")
        number += 1
    return backup


def back_up(path: Path, old_bytes: bytes) -> str:
    backup = backup_path(path)
    write_user_file(backup, old_bytes, os.stat(path).st_mode & 0o777)
    return str(backup)


def write_settings(path: Path, old_bytes: bytes | None, new: dict[str, Any]) -> str | None:
    """Back up the old file beside it, then replace atomically (never through a link); the backup's path."""
    backup = None
    mode = 0o644
    if old_bytes is not None:
        mode = os.stat(path).st_mode & 0o777
        backup = back_up(path, old_bytes)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        if os.path.lexists(path):  # made meanwhile (claude, another roost): never replaced unread
            raise RoostError(f"{path} appeared while roost was writing it; not changed (run again)")
    write_user_file(path, _encoded(new), mode)
    return str(backup) if backup else None


def created_by_roost(directory: Path) -> bool:
    """Whether roost created ``<directory>/settings.json`` (its record beside it says so)."""
    try:
        doc = json.loads((Path(directory) / CREATED_MARKER).read_bytes().decode("utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and doc.get("created") == SETTINGS


def _record_created(directory: Path) -> None:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    write_user_file(Path(directory) / CREATED_MARKER,
                    (json.dumps({"created": SETTINGS, "at": stamp}) + "\n").encode(), 0o600)


def _forget_created(directory: Path) -> None:
    try:
        os.unlink(Path(directory) / CREATED_MARKER)
    except FileNotFoundError:
        pass


def change(target: Target, roost: str, remove: bool) -> dict[str, Any]:
    result: dict[str, Any] = {"profiles": target.profiles, "path": str(target.path), "shared": bool(target.shared),
                              "action": "refused", "backup": None, "kept_statusline": None, "deleted": False,
                              "note": None, "error": None}
    if target.problem:
        result["error"] = target.problem
        return result
    if target.created:
        result["action"] = "created"
        return result
    own = not target.shared  # the profile's own file (the record of a file roost created sits beside it)
    try:
        current = read_settings(target.path)
        old_bytes = target.path.read_bytes() if current is not None else None
        if remove:
            if current is None:
                if own:
                    _forget_created(target.path.parent)
                result["action"] = "unchanged"
                return result
            new = removed(current)
        else:
            new, result["kept_statusline"] = merged(current or {}, roost)
        if current is not None and new == current:
            result["action"] = "unchanged"
            return result
        if remove and own and not new and created_by_roost(target.path.parent):
            # roost made this file for its parts alone: delete it (an empty one would keep the base out)
            result["backup"] = back_up(target.path, old_bytes or b"")
            os.unlink(target.path)
            _forget_created(target.path.parent)
            result["action"], result["deleted"] = "removed", True
            return result
        result["backup"] = write_settings(target.path, old_bytes, new)
        if own and current is None:
            _record_created(target.path.parent)
        if remove and own and not new:
            result["note"] = ("now empty, and a profile with a settings.json of its own never links the base "
                              "settings: delete it if this profile should share them")
        result["action"] = "removed" if remove else ("created" if current is None else "updated")
    except RoostError as err:
        result["error"] = err.message if str(target.path) in err.message else f"{target.path}: {err.message}"
        target.code = int(err.exit_code) if isinstance(err, ValidationError) else int(ExitCode.UNEXPECTED)
    except OSError as exc:
        result["error"] = f"cannot write {target.path}: {exc.strerror or exc}"
        target.code = int(ExitCode.UNEXPECTED)
    return result


# -- the command ------------------------------------------------------------------------------

def run_setup(rctx: Any, name: str | None, all_: bool, apply: bool, remove: bool) -> int:
    if apply and remove:
        raise ValidationError("--apply and --remove exclude each other")
    if name and all_:
        raise ValidationError("give a profile NAME or --all, not both")
    profiles = [rctx.profile(name)] if name else rctx.profiles()
    roost = roost_command()
    if not (apply or remove):  # prints only: nothing readied, nothing written
        data = {"fragment": fragment(roost), "profiles": [p.name for p in profiles],
                "files": [{"path": str(t.path), "profiles": t.profiles, "shared": t.shared, "error": t.problem}
                          for t in targets(profiles, shared_base(rctx), True)]}
        rctx.out.emit(data, {"apply": False}, text=json.dumps(data["fragment"], indent=2))
        return 0
    if not profiles:
        raise ValidationError("no profiles to set up (import one with 'roost add NAME')")
    found = plan(rctx, profiles, roost, apply)
    results = [change(t, roost, remove) for t in found]
    codes = [t.code for t, r in zip(found, results) if r["error"]]
    lines = []
    for r in results:
        who = ", ".join(r["profiles"])
        extra = "; your statusLine kept as --then" if r["kept_statusline"] else ""
        extra += "; roost's own file, deleted" if r["deleted"] else ""
        extra += f"; backup {r['backup']}" if r["backup"] else ""
        extra += f"; {r['note']}" if r["note"] else ""
        extra += f": {r['error']}" if r["error"] else ""
        lines.append(f"{r['action']} {r['path']} ({who}){extra}")
    meta = {"apply": apply, "remove": remove, "count": len(results), "failed": len(codes)}
    rctx.out.emit(results, meta, text="\n".join(lines))
    if codes:
        rctx.warn(f"{len(codes)} settings file(s) not changed; see above")
        return codes[0] if len(set(codes)) == 1 else int(ExitCode.UNEXPECTED)  # refusals alone: 4
    return 0
