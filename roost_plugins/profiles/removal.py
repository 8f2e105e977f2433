"""Taking a profile directory apart without losing the user's work (remove, rename --force).

After ``exec`` a profile directory holds claude's state too: ``.claude.json``,
``projects/`` (session transcripts), backups. roost deletes only what it owns
(the credentials, its own files, its links to the shared setup, an identity
file claude never used) and moves everything else to
``<data dir>/removed/<name>-<UTC timestamp>/`` (0700), where ``roost removed``
lists it and ``roost add NAME --restore`` brings it back. The data dir is the
platform's user data dir (``$XDG_DATA_HOME/claude-lb``, ``~/.local/share/claude-lb``);
earlier versions kept them in ``<config dir>/removed/``, which is still listed
and restored from (never moved: those are the user's files). Nothing is ever
deleted through a symbolic link: links are unlinked, directories removed with
``rmtree`` (which unlinks the links inside, never following them).
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from roost_core.api import CLAUDE_JSON, ensure_private_dir, holds_only_identity

from .setup import MARKER, is_roost_link, read_marker, roost_bases

CREDENTIALS = ".credentials.json"
REMOVED = "removed"
_KEPT_NAME = re.compile(r"^(?P<name>.+)-(?P<stamp>\d{8}T\d{6}Z)(?:-\d+)?$")


@dataclass
class Dismantle:
    """What happens to each top-level entry of a profile directory."""

    directory: Path
    deleted: list[str] = field(default_factory=list)  # roost's own files
    unlinked: list[str] = field(default_factory=list)  # roost's links to the shared setup
    kept: list[str] = field(default_factory=list)  # everything else: moved aside

    def everything(self) -> list[str]:
        return sorted(self.deleted + self.unlinked + self.kept)


def removed_root(paths: Any) -> Path:
    """``<data dir>/removed``: where ``remove`` keeps a user's files now (the platform's user data dir)."""
    data_dir = getattr(paths, "data_dir", None)
    return Path(data_dir if data_dir is not None else paths.config_dir) / REMOVED


def legacy_removed_root(paths: Any) -> Path:
    """``<config dir>/removed``: where earlier versions kept them; still listed and restored from, never moved."""
    return Path(paths.config_dir) / REMOVED


def removed_roots(paths: Any) -> list[Path]:
    """Every place a kept directory may be: the data dir's, then the old config dir's (when another)."""
    roots = [removed_root(paths), legacy_removed_root(paths)]
    return roots[:1] if roots[0] == roots[1] else roots


def _owned_file(directory: Path, name: str) -> bool:
    path = directory / name
    if name == CREDENTIALS:
        return os.path.islink(path) or os.path.isfile(path)
    if name == MARKER or name.startswith((".roost", CREDENTIALS + ".roost")):
        return not os.path.isdir(path) or os.path.islink(path)
    return name == CLAUDE_JSON and holds_only_identity(path)


def plan(directory: Path, base: Path) -> Dismantle:
    """Sort the entries: roost's links (into ``base`` or a base the marker records), roost's files, the rest.

    The marker of an isolated profile goes with the kept files, so that
    ``add NAME --restore`` keeps the choice; with nothing else kept it is deleted.
    """
    out = Dismantle(Path(directory))
    bases = roost_bases(out.directory, base)
    for name in sorted(os.listdir(directory)):
        if any(is_roost_link(out.directory / name, b) for b in bases):
            out.unlinked.append(name)
        elif _owned_file(out.directory, name):
            out.deleted.append(name)
        else:
            out.kept.append(name)
    if out.kept and MARKER in out.deleted and kept_isolated(out.directory):
        out.deleted.remove(MARKER)
        out.kept = sorted([*out.kept, MARKER])
    return out


def kept_isolated(directory: Path) -> bool:
    """Whether roost's marker in ``directory`` (a profile, or a kept directory) records ``--isolated``."""
    return read_marker(directory).get("isolated") is True


def describe(directory: Path, names: list[str]) -> list[str]:
    """Names as people read them: ``projects/`` for a directory, ``x -> target`` for a link."""
    shown = []
    for name in names:
        path = Path(directory) / name
        if os.path.islink(path):
            shown.append(f"{name} -> {os.readlink(path)}")
        elif path.is_dir():
            shown.append(name + "/")
        else:
            shown.append(name)
    return shown


def utc_stamp(now: float) -> str:
    return datetime.fromtimestamp(now, tz=timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _new_kept_dir(root: Path, name: str, now: float) -> Path:
    ensure_private_dir(root)
    stem = f"{name}-{utc_stamp(now)}"
    for n in range(1, 1000):
        candidate = root / (stem if n == 1 else f"{stem}-{n}")
        try:
            os.mkdir(candidate, 0o700)
        except FileExistsError:
            continue
        os.chmod(candidate, 0o700)
        return candidate
    raise OSError(errno.EEXIST, f"too many kept directories named {stem}")


def move_entry(source: Path, target: Path) -> None:
    """Move one entry (file, directory or link, never following a link); copies across filesystems."""
    if os.path.lexists(target):
        raise FileExistsError(errno.EEXIST, "exists", str(target))
    try:
        os.rename(source, target)
        return
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
    if os.path.islink(source):
        os.symlink(os.readlink(source), target)
        os.unlink(source)
    elif source.is_dir():
        shutil.copytree(source, target, symlinks=True)
        shutil.rmtree(source)
    else:
        shutil.copy2(source, target, follow_symlinks=False)
        os.unlink(source)


def delete_entry(path: Path) -> None:
    """Unlink a file or a link; remove a real directory's tree (links inside are unlinked, not followed)."""
    if os.path.islink(path) or not path.is_dir():
        os.unlink(path)
    else:
        shutil.rmtree(path)


def set_aside(dismantle: Dismantle, root: Path, name: str, now: float | None = None) -> Path | None:
    """Delete roost's entries, move the rest to a new kept directory; then remove the directory.

    Returns the kept directory (None when nothing was kept). Moves first, so a
    failure part-way loses nothing: the entries not yet moved stay where they were.
    """
    directory = dismantle.directory
    kept_in: Path | None = None
    if dismantle.kept:
        kept_in = _new_kept_dir(root, name, time.time() if now is None else now)
        for entry in dismantle.kept:
            move_entry(directory / entry, kept_in / entry)
    for entry in dismantle.unlinked + dismantle.deleted:
        try:
            delete_entry(directory / entry)
        except FileNotFoundError:
            pass
    _remove_dir(directory, root, name, kept_in, dismantle)
    return kept_in


def set_aside_path(path: Path, root: Path, name: str, now: float | None = None) -> Path:
    """Keep a single entry (a file where a profile directory should be) in a new kept directory."""
    kept_in = _new_kept_dir(root, name, time.time() if now is None else now)
    move_entry(path, kept_in / Path(path).name)
    return kept_in


def _remove_dir(directory: Path, root: Path, name: str, kept_in: Path | None, dismantle: Dismantle) -> None:
    """rmdir; something created meanwhile (claude writing) is kept too, never deleted."""
    for _ in range(3):
        try:
            os.rmdir(directory)
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
        late = sorted(os.listdir(directory))
        if kept_in is None:
            kept_in = _new_kept_dir(root, name, time.time())
        for entry in late:
            move_entry(directory / entry, kept_in / entry)
            dismantle.kept.append(entry)
    os.rmdir(directory)


def purge(directory: Path) -> None:
    for name in os.listdir(directory):
        delete_entry(Path(directory) / name)
    os.rmdir(directory)


@dataclass(frozen=True)
class KeptDir:
    profile: str
    removed_at: str | None
    path: Path
    items: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"profile": self.profile, "removed_at": self.removed_at, "path": str(self.path),
                "items": self.items}


def kept_dirs(roots: "Path | list[Path]") -> list[KeptDir]:
    """Every kept directory under ``roots`` (one or several removed/ directories), oldest first."""
    found: list[KeptDir] = []
    for root in [roots] if isinstance(roots, (str, Path)) else roots:
        found.extend(_kept_in(Path(root)))
    return sorted(found, key=lambda k: (k.removed_at or "", k.path.name, str(k.path)))


def _kept_in(root: Path) -> list[KeptDir]:
    try:
        names = os.listdir(root)
    except OSError:
        return []
    found = []
    for entry in names:
        match = _KEPT_NAME.match(entry)
        path = root / entry
        if not match or os.path.islink(path) or not path.is_dir():
            continue
        stamp = datetime.strptime(match["stamp"], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        try:
            items = describe(path, sorted(os.listdir(path)))
        except OSError:
            items = []
        found.append(KeptDir(match["name"], stamp.isoformat().replace("+00:00", "Z"), path, items))
    return found


def latest_kept(roots: "Path | list[Path]", name: str) -> KeptDir | None:
    mine = [k for k in kept_dirs(roots) if k.profile == name]
    return mine[-1] if mine else None


def restore_into(kept: Path, directory: Path) -> tuple[list[str], list[str]]:
    """Move a kept directory's entries back; an entry whose name is taken stays kept.

    Returns (restored, left). roost's marker is not moved back (``add`` has
    read its ``isolated`` already and records it anew); it is deleted with
    the kept directory, once that is otherwise empty.
    """
    restored, left = [], []
    record = os.path.lexists(Path(kept) / MARKER) and _owned_file(Path(kept), MARKER)
    for entry in sorted(os.listdir(kept)):
        if entry == MARKER and record:
            continue
        if os.path.lexists(directory / entry):
            left.append(entry)
            continue
        move_entry(kept / entry, directory / entry)
        restored.append(entry)
    if not left:
        if record:
            delete_entry(Path(kept) / MARKER)
        os.rmdir(kept)
    return restored, left
