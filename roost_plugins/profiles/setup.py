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
- roost's links are exactly the symlinks ``<profile>/<item> -> <base>/<item>``
  for the base in effect or a base roost recorded it linked from (``linked_from``
  in the profile's marker); only those are ever removed or replaced by roost (an
  item dropped from ``share``, an isolated profile, a changed base, ``remove``),
  and always as links: a changed base's new link is made under a temp name and
  renamed over the old one.

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
MARKER = ".roost-profile.json"  # roost's own per-profile file: {"isolated": bool, "kind": ..., "linked_from": [...]}
LINKED_FROM = "linked_from"  # marker key: the base(s) roost's links in the profile point into
LINK_TEMP_SUFFIX = ".roost-tmp"  # a new link waiting to be renamed over roost's old one
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
    from roost_core.api import claude_dir

    raw = section.get("base")
    return claude_dir(env, None if raw is None else _validated("[profiles] base", as_base, raw))


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
    return _load_marker(directory) or {}


def _load_marker(directory: Path) -> dict[str, Any] | None:
    """The marker; ``{}`` when there is none, None when one is there but is not a JSON object roost can read."""
    return _parse_marker(_marker_bytes(Path(directory) / MARKER))


def _marker_bytes(path: Path) -> bytes | None | OSError:
    """The marker's bytes; None when there is none; the error when it cannot be read."""
    try:
        with open(path, "rb") as handle:
            return handle.read(65536)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return exc


def _parse_marker(raw: bytes | None | OSError) -> dict[str, Any] | None:
    if raw is None:
        return {}
    if isinstance(raw, OSError):
        return None
    try:
        doc = json.loads(raw.decode("utf-8"))
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def write_marker(directory: Path, **fields: Any) -> None:
    """Set ``fields`` in the marker, keeping its other keys (an unreadable marker is replaced)."""
    _update_marker(Path(directory), fields, replace_unreadable=True)


def _update_marker(directory: Path, fields: dict[str, Any], *, replace_unreadable: bool) -> bool:
    """Read, merge, write atomically; the write lands only if the marker is still what was read (a
    concurrent add or exec may write it too: its keys are never lost). False: left alone."""
    from roost_core.api import atomic_write

    path = directory / MARKER
    for _ in range(10):
        before = _marker_bytes(path)
        doc = _parse_marker(before)
        if doc is None and not replace_unreadable:
            return False
        data = (json.dumps({**(doc or {}), **fields}, sort_keys=True) + "\n").encode()
        if atomic_write(path, data, 0o600, only_if=lambda: _same(_marker_bytes(path), before)):
            return True
    raise OSError(f"{path} kept changing while roost wrote it")


def _same(now: bytes | None | OSError, before: bytes | None | OSError) -> bool:
    if isinstance(now, OSError) or isinstance(before, OSError):
        return isinstance(now, OSError) and isinstance(before, OSError) and now.errno == before.errno
    return now == before


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


def recorded_bases(marker: Mapping[str, Any]) -> list[Path]:
    """The bases the marker says roost linked from (absolute paths; anything else in it is ignored)."""
    raw = marker.get(LINKED_FROM)
    if not isinstance(raw, list):
        return []
    found = [Path(b) for b in raw if isinstance(b, str) and os.path.isabs(b) and "\0" not in b]
    return list(dict.fromkeys(found))


def roost_bases(directory: Path, base: Path) -> tuple[Path, ...]:
    """Every base whose ``<item> -> <base>/<item>`` links in ``directory`` are roost's: ``base``, then
    those recorded in the marker (a profile without a record: ``base`` only)."""
    base = Path(base)
    return (base, *(b for b in recorded_bases(read_marker(directory)) if b != base))


def ensure_links(directory: Path, policy: SharePolicy) -> LinkReport:
    """Link each shared item of the base into ``directory``; take away roost's links no longer wanted.

    Never replaces an existing name (a real file wins; so does a link of the
    user's) but roost's own link into an earlier base recorded in the marker,
    which follows the base; never touches a base. Missing base items are skipped.
    """
    report = LinkReport()
    directory, base = Path(directory), Path(policy.base)
    if not directory.is_dir() or _same_dir(directory, base):
        return report
    old = _record_base(directory, base)
    wanted = () if policy.isolated else policy.items
    _drop_unwanted(directory, (base, *old), set(wanted), report)
    for item in wanted:
        target, link = base / item, directory / item
        if os.path.lexists(link):
            _settle(link, target, base, old, report)
            continue
        if not os.path.exists(target):
            continue
        try:
            os.symlink(target, link)
            report.linked.append(item)
        except FileExistsError:  # another roost (or claude) made it meanwhile: theirs stands
            _found(link, base, report)
    if old and not _links_into(directory, old):
        _write_record(directory, [base])  # every link into an earlier base is gone: forget those bases
    return report


def _record_base(directory: Path, base: Path) -> tuple[Path, ...]:
    """Record ``base`` in the marker before any link into it is made; return the earlier recorded bases.

    While links still point into an earlier base both are recorded, so an
    interrupted run leaves every one of roost's links recognisable. A profile
    without a record (new, or made by an earlier roost) gets ``base`` only:
    links into any other directory are not known to be roost's and stay. A
    marker roost cannot read is left as it is (and nothing but ``base`` is roost's).
    """
    doc = _load_marker(directory)
    if doc is None:
        return ()
    recorded = recorded_bases(doc)
    old = tuple(b for b in recorded if b != base)
    if doc.get(LINKED_FROM) != [str(b) for b in (*old, base)]:
        _write_record(directory, [*old, base])
    return old


def _write_record(directory: Path, bases: list[Path]) -> None:
    """Best effort: a marker that cannot be written keeps its earlier record, which stays true (a
    link into the base in effect is always roost's), so the links are still handled safely."""
    try:
        _update_marker(directory, {LINKED_FROM: [str(b) for b in bases]}, replace_unreadable=False)
    except OSError:
        pass


def _found(link: Path, base: Path, report: LinkReport) -> None:
    if is_roost_link(link, base):
        report.present.append(link.name)
    elif os.path.lexists(link):
        report.own.append(link.name)


def _settle(link: Path, target: Path, base: Path, old: tuple[Path, ...], report: LinkReport) -> None:
    """An existing name: roost's link into an earlier base follows the base; anything else stays."""
    earlier = next((b for b in old if is_roost_link(link, b)), None)
    if earlier is None:
        _found(link, base, report)
    elif not os.path.exists(target):  # the base in effect has no such item: roost's link goes (rule 3)
        if not _unlink(link, str(earlier / link.name), report):
            _found(link, base, report)
    elif _relink(link, str(earlier / link.name), target):
        report.linked.append(link.name)
    else:
        _found(link, base, report)


def _relink(link: Path, expected: str, target: Path) -> bool:
    """Point roost's link ``link`` (now ``-> expected``) at ``target``, atomically: a new link under a
    temp name in the same directory, renamed over it. False (nothing changed) when ``link`` is no
    longer that link (the user replaced it meanwhile: theirs stands)."""
    tmp = None
    for _ in range(10):
        candidate = link.parent / f".roost-link.{link.name}.{os.urandom(6).hex()}{LINK_TEMP_SUFFIX}"
        try:
            os.symlink(target, candidate)
            tmp = candidate
            break
        except FileExistsError:
            continue
    if tmp is None:
        return False
    try:
        try:  # checked again just before the rename: what the user put there meanwhile stands
            if os.readlink(link) != expected:
                return False
        except OSError:  # gone, or no longer a link
            return False
        os.replace(tmp, link)  # never a moment without the item, for a claude running in the profile
        tmp = None
        return True
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _unlink(link: Path, expected: str, report: LinkReport) -> bool:
    """Unlink roost's link ``link -> expected`` (the link only: its target is the user's); False when
    ``link`` is no longer that link."""
    try:
        if os.readlink(link) != expected:
            return False
        os.unlink(link)
    except OSError:  # gone, or no longer a link
        return False
    report.unlinked.append(link.name)
    return True


def _links_into(directory: Path, bases: tuple[Path, ...]) -> bool:
    """Whether ``directory`` still holds a roost link into one of ``bases``."""
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return True
    return any(entry.is_symlink() and not _per_profile(entry.name)
               and any(is_roost_link(Path(entry.path), b) for b in bases) for entry in entries)


def _drop_unwanted(directory: Path, bases: tuple[Path, ...], wanted: set[str], report: LinkReport) -> None:
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        if entry.name in wanted or _per_profile(entry.name) or not entry.is_symlink():
            continue  # a user's own alias (say .credentials.json -> ~/.claude's) is never roost's link
        owner = next((b for b in bases if is_roost_link(Path(entry.path), b)), None)
        if owner is not None:
            _unlink(Path(entry.path), str(owner / entry.name), report)


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
