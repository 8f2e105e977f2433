"""``roost claude-setup``: the settings.json fragment that wires passive health into claude.

claude reads ``$CLAUDE_CONFIG_DIR/settings.json``, i.e. ``<profile>/settings.json``.
Where that is a link to the user's base settings (profiles share the user's
``~/.claude`` setup), the linked file is the one claude reads for every such
profile: it is written once, by its own path, never through the link (a link
to a link is refused). ``--apply`` merges, keeping every other key and the
user's own statusLine (as ``--then``); ``--remove`` takes roost's parts out
again. Each changed file gets a backup beside it; every write is atomic. This
explicit command is the only thing in roost that ever writes in the user's
base directory.
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

from roost_core.api import RoostError, ValidationError, write_user_file

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

def merged(settings: dict[str, Any], roost: str) -> tuple[dict[str, Any], str | None]:
    """``settings`` with roost's statusLine and hook; returns (new, the user's kept command)."""
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

@dataclass
class Target:
    path: Path  # the file written (the link's target for a shared base)
    profiles: list[str] = field(default_factory=list)
    shared: bool = False  # reached through a profile's link
    problem: str | None = None


def settings_target(directory: Path) -> Target:
    """The settings.json claude reads for a profile directory, as a file roost may write."""
    path = Path(directory) / SETTINGS
    if not os.path.islink(path):
        return Target(path)
    link = os.readlink(path)
    target = Path(link if os.path.isabs(link) else os.path.normpath(os.path.join(directory, link)))
    if os.path.islink(target):
        return Target(target, shared=True, problem=f"{path} links to {target}, itself a link: roost never "
                                                    "writes through a link (add the fragment by hand)")
    return Target(target, shared=True)


def targets(profiles: list[Any]) -> list[Target]:
    """One target per distinct file (profiles sharing the base settings write it once)."""
    found: dict[str, Target] = {}
    for profile in profiles:
        target = settings_target(profile.directory)
        key = os.path.realpath(target.path) if not target.problem else f"problem:{target.path}"
        found.setdefault(key, target).profiles.append(profile.name)
    return list(found.values())


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
    except (ValueError, UnicodeDecodeError) as exc:
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


def write_settings(path: Path, old_bytes: bytes | None, new: dict[str, Any]) -> str | None:
    """Back up the old file beside it, then replace atomically (never through a link); the backup's path."""
    backup = None
    mode = 0o644
    if old_bytes is not None:
        mode = os.stat(path).st_mode & 0o777
        backup = backup_path(path)
        write_user_file(backup, old_bytes, mode)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
    write_user_file(path, (json.dumps(new, indent=2) + "\n").encode("utf-8"), mode)
    return str(backup) if backup else None


def change(target: Target, roost: str, remove: bool) -> dict[str, Any]:
    result: dict[str, Any] = {"profiles": target.profiles, "path": str(target.path), "shared": target.shared,
                              "action": "refused", "backup": None, "kept_statusline": None, "error": None}
    if target.problem:
        result["error"] = target.problem
        return result
    try:
        current = read_settings(target.path)
        old_bytes = target.path.read_bytes() if current is not None else None
        if remove:
            if current is None:
                result["action"] = "unchanged"
                return result
            new = removed(current)
        else:
            new, result["kept_statusline"] = merged(current or {}, roost)
        if current is not None and new == current:
            result["action"] = "unchanged"
            return result
        result["backup"] = write_settings(target.path, old_bytes, new)
        result["action"] = "removed" if remove else ("created" if current is None else "updated")
    except RoostError as err:
        result["error"] = err.message
    except OSError as exc:
        result["error"] = f"cannot write {target.path}: {exc.strerror or exc}"
    return result


# -- the command ------------------------------------------------------------------------------

def run_setup(rctx: Any, name: str | None, all_: bool, apply: bool, remove: bool) -> int:
    if apply and remove:
        raise ValidationError("--apply and --remove exclude each other")
    if name and all_:
        raise ValidationError("give a profile NAME or --all, not both")
    profiles = [rctx.profile(name)] if name else rctx.profiles()
    roost = roost_command()
    if not (apply or remove):
        data = {"fragment": fragment(roost), "profiles": [p.name for p in profiles],
                "files": [{"path": str(t.path), "profiles": t.profiles, "shared": t.shared}
                          for t in targets(profiles)]}
        rctx.out.emit(data, {"apply": False}, text=json.dumps(data["fragment"], indent=2))
        return 0
    if not profiles:
        raise ValidationError("no profiles to set up (import one with 'roost add NAME')")
    results = [change(t, roost, remove) for t in targets(profiles)]
    failed = [r for r in results if r["error"]]
    lines = []
    for r in results:
        who = ", ".join(r["profiles"])
        extra = "; your statusLine kept as --then" if r["kept_statusline"] else ""
        extra += f"; backup {r['backup']}" if r["backup"] else ""
        extra += f": {r['error']}" if r["error"] else ""
        lines.append(f"{r['action']} {r['path']} ({who}){extra}")
    meta = {"apply": apply, "remove": remove, "count": len(results), "failed": len(failed)}
    rctx.out.emit(results, meta, text="\n".join(lines))
    if failed:
        rctx.warn(f"{len(failed)} settings file(s) not changed; see above")
        return int(failed_code(failed))
    return 0


def failed_code(failed: list[dict[str, Any]]) -> int:
    from roost_core.api import ExitCode

    return ExitCode.VALIDATION if all("link" in (r["error"] or "") or "JSON" in (r["error"] or "")
                                      for r in failed) else ExitCode.UNEXPECTED
