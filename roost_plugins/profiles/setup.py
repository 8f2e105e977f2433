"""Shared claude setup: a profile directory links the user's base claude directory's items.

A profile is ``CLAUDE_CONFIG_DIR`` for claude under ``roost exec``. Without
help it looks like a fresh install (no settings, CLAUDE.md, agents, ...), so
roost symlinks the *shareable* items of the base directory (``~/.claude``, or
``[profiles] base``) into each profile directory, at ``add`` and again before
every ``exec`` (an item created in the base later appears everywhere).

Rules (docs/profiles.md):

- a real file or directory in the profile always wins: roost never replaces
  anything with a link, and never writes, moves or deletes anything under the
  base directory;
- per-profile items are never shared: credentials, ``.claude.json`` (the
  account identity), history and ``projects/`` (unless ``share_history``),
  claude's locks, roost's own files;
- roost's links are exactly the symlinks ``<profile>/<item> -> <base>/<item>``;
  only those are ever removed by roost (an item dropped from ``share``, an
  isolated profile, ``remove``), and always as links.

Pure ``os`` and ``pathlib``: ``exec`` calls :func:`ensure_links` on its hot path.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from roost_core.api import ValidationError

DEFAULT_SHARE = ("settings.json", "CLAUDE.md", "agents", "commands", "skills", "plugins", "output-styles",
                 "keybindings.json", "hooks", "rules")
HISTORY_ITEMS = ("projects", "history.jsonl")
MARKER = ".roost-profile.json"  # roost's own per-profile file: {"isolated": bool, "kind": ...}
# Never linked, whatever config.toml says: the account's own files and the locks on them.
NEVER_SHARED = frozenset({".credentials.json", ".claude.json", ".oauth_refresh.lock", ".storage-write.lock",
                          MARKER})


@dataclass(frozen=True)
class SharePolicy:
    """What one profile shares: ``items`` of ``base`` (nothing when ``isolated``)."""

    base: Path
    items: tuple[str, ...]
    isolated: bool = False


@dataclass
class LinkReport:
    linked: list[str] = field(default_factory=list)  # links made now
    present: list[str] = field(default_factory=list)  # roost's links already there
    own: list[str] = field(default_factory=list)  # the profile's own file or link won
    unlinked: list[str] = field(default_factory=list)  # roost's links taken away (no longer shared)


def _per_profile(name: str) -> bool:
    return name in NEVER_SHARED or name.startswith((".roost", ".credentials.json"))


def _check_item(item: Any) -> str:
    if not isinstance(item, str) or not item or item in (".", "..") or "/" in item or "\\" in item or "\0" in item:
        raise ValueError(f"{item!r} is not a file or directory name inside the base claude directory")
    if _per_profile(item):
        raise ValueError(f"{item!r} is per-profile and is never shared")
    return item


# -- converters of the [profiles] settings (roost_plugins/profiles/settings.py declares them) --------

def as_share(value: Any) -> list[str]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise ValueError("expected a list of names")
    return [_check_item(item) for item in value]


def as_strict_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("expected true or false")
    return value


def as_base(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("expected a directory path")
    if not (value == "~" or value.startswith("~/") or os.path.isabs(value)):
        raise ValueError("must be an absolute path or start with ~/")
    return value


def _validated(what: str, convert: Any, value: Any) -> Any:
    try:
        return convert(value)
    except ValueError as exc:
        raise ValidationError(f"bad value for config.toml {what}: {value!r} ({exc})") from None


def profiles_section(file: Mapping[str, Any]) -> dict[str, Any]:
    table = file.get("profiles", {})
    if not isinstance(table, dict):
        raise ValidationError("config.toml: [profiles] must be a table")
    return table


def base_dir(section: Mapping[str, Any], env: Mapping[str, str]) -> Path:
    """``[profiles] base`` (``~`` expanded against $HOME), else ``~/.claude``."""
    home = Path(env.get("HOME") or Path.home())
    raw = section.get("base")
    if raw is None:
        return home / ".claude"
    raw = _validated("[profiles] base", as_base, raw)
    if raw == "~" or raw.startswith("~/"):
        return home / raw[2:]
    return Path(raw)


def shared_items(section: Mapping[str, Any]) -> tuple[str, ...]:
    items = _validated("[profiles] share", as_share, section.get("share", DEFAULT_SHARE))
    if _validated("[profiles] share_history", as_strict_bool, section.get("share_history", False)):
        items += [i for i in HISTORY_ITEMS if i not in items]
    return tuple(dict.fromkeys(items))


def resolved_section(settings: Any, name: str | None = None) -> dict[str, Any]:
    """``[profiles]`` as the settings resolver sees it (team over config.toml, values checked), and
    ``isolated`` of profile ``name``: ``{"base", "share", "share_history", "isolated"}``.

    ``settings`` is the run's Settings, or a plain config.toml mapping (tests, tools).
    """
    from roost_core.api import Settings

    from .settings import BASE, ISOLATED, SHARE, SHARE_HISTORY

    if not isinstance(settings, Settings):
        settings = Settings(dict(settings))
    section = {spec.name: settings.resolve(spec).value
               for spec in (BASE, SHARE, SHARE_HISTORY)}
    if section["base"] is None:
        del section["base"]
    section["isolated"] = bool(name is not None and settings.resolve(ISOLATED.named(name)).value)
    return section


def read_marker(directory: Path) -> dict[str, Any]:
    """roost's per-profile file (``{}`` when absent or unreadable: it only ever adds restrictions)."""
    try:
        with open(Path(directory) / MARKER, "rb") as handle:
            doc = json.loads(handle.read(65536).decode("utf-8"))
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def write_marker(directory: Path, **fields: Any) -> None:
    from roost_core.api import atomic_write

    doc = {**read_marker(directory), **fields}
    atomic_write(Path(directory) / MARKER, (json.dumps(doc, sort_keys=True) + "\n").encode(), 0o600)


def policy_for(settings: Any, env: Mapping[str, str], name: str, directory: Path) -> SharePolicy:
    """The sharing policy of profile ``name`` at ``directory`` (the [profiles] settings + roost's marker)."""
    section = resolved_section(settings, name)
    isolated = section["isolated"] or read_marker(directory).get("isolated") is True
    return SharePolicy(base_dir(section, env), shared_items(section), isolated)


def is_roost_link(path: Path, base: Path) -> bool:
    """A symlink ``<profile>/<item> -> <base>/<item>``: the only kind of link roost makes or removes."""
    try:
        return os.readlink(path) == str(base / path.name)
    except OSError:
        return False


def ensure_links(directory: Path, policy: SharePolicy) -> LinkReport:
    """Link each shared item of the base into ``directory``; take away roost's links no longer wanted.

    Never replaces an existing name (a real file wins; so does a link of the
    user's), never touches the base. Missing base items are skipped.
    """
    report = LinkReport()
    directory, base = Path(directory), Path(policy.base)
    if not directory.is_dir() or _same_dir(directory, base):
        return report
    wanted = () if policy.isolated else policy.items
    _drop_unwanted(directory, base, set(wanted), report)
    for item in wanted:
        target, link = base / item, directory / item
        if os.path.lexists(link):
            (report.present if is_roost_link(link, base) else report.own).append(item)
            continue
        if not os.path.exists(target):
            continue
        try:
            os.symlink(target, link)
            report.linked.append(item)
        except FileExistsError:  # another roost (or claude) made it meanwhile: theirs stands
            (report.present if is_roost_link(link, base) else report.own).append(item)
    return report


def _drop_unwanted(directory: Path, base: Path, wanted: set[str], report: LinkReport) -> None:
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        if entry.name in wanted or _per_profile(entry.name) or not entry.is_symlink():
            continue  # a user's own alias (say .credentials.json -> ~/.claude's) is never roost's link
        if not is_roost_link(Path(entry.path), base):
            continue
        try:
            os.unlink(entry.path)  # the link only; its target is the user's
            report.unlinked.append(entry.name)
        except FileNotFoundError:
            pass


def _same_dir(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def ensure_for(ctx: Any, profile: Any) -> LinkReport | None:
    """Bring a tree profile's links up to date (``exec``, ``add``); None for a profile outside the tree."""
    directory = Path(profile.directory)
    if directory.parent != ctx.paths.profiles_tree or directory.is_symlink():
        return None
    policy = policy_for(ctx.settings, ctx.env, profile.name, directory)
    return ensure_links(directory, policy)
