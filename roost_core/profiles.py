"""Profile discovery: ``<tree>/<name>/.credentials.json``, sorted by name.

Directories without credentials, invalid names and claude's ``*.lock``
directories are skipped silently. ``$CLAUDE_CONFIG_DIR`` with a direct
credentials file adds the single-profile fallback ``default``, unless it is
one of the tree's own profile directories.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from .errors import NotFound, ValidationError
from .names import is_valid_name, validate_name
from .paths import Paths
from .records import Profile

DEFAULT_PROFILE = "default"
CREDENTIALS_FILE = ".credentials.json"
KEYCHAIN_MARKER = ".roost-keychain"  # roost_core.filestore: written when the keychain store removes the file


def discover(paths: Paths, *, fallback: bool = True) -> list[Profile]:
    """Profiles of the tree, plus ``default`` from $CLAUDE_CONFIG_DIR when ``fallback``."""
    found: dict[str, Profile] = {}
    try:
        names = os.listdir(paths.profiles_tree)
    except OSError:
        names = []
    tree = os.path.join(paths.profiles_tree, "")  # strings, not pathlib: this loop runs per profile on every pick
    for name in names:
        if not is_valid_name(name):
            continue
        directory = tree + name + os.sep
        if os.path.isfile(directory + CREDENTIALS_FILE) or os.path.isfile(directory + KEYCHAIN_MARKER):
            found[name] = Profile(name, paths.profiles_tree / name)  # marker: the login is in the macOS keychain
    single = paths.single_profile_dir
    if fallback and single is not None and DEFAULT_PROFILE not in found and (single / CREDENTIALS_FILE).is_file() \
            and not _names_tree_profile(single, paths.profiles_tree, found):
        found[DEFAULT_PROFILE] = Profile(DEFAULT_PROFILE, single)
    return [found[name] for name in sorted(found)]


def _names_tree_profile(single: Path, tree: Path, found: dict[str, Profile]) -> bool:
    """$CLAUDE_CONFIG_DIR is one of the tree's own profiles (roost exec sets it so for its child):
    the fallback is for a login outside the tree, not a second name for one inside it."""
    trees = {os.path.abspath(tree), os.path.realpath(tree)}
    return any(os.path.basename(spelled) in found and os.path.dirname(spelled) in trees
               for spelled in (os.path.abspath(single), os.path.realpath(single)))


def find_profile(profiles: list[Profile], name: str, tree: Path | None = None) -> Profile:
    """``name`` among ``profiles`` (already discovered), NOT_FOUND when absent (VALIDATION when
    ``tree`` holds it behind a symlink loop: discovery cannot see through one)."""
    for profile in profiles:
        if profile.name == name:
            return profile
    if tree is not None:
        _refuse_a_loop(tree / name, name)
    raise NotFound(f"unknown profile {name!r}", details={"profile": name,
                   "available": [p.name for p in profiles]})


def _refuse_a_loop(directory: Path, name: str) -> None:
    for path in (directory, directory / CREDENTIALS_FILE):
        try:
            os.stat(path)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise ValidationError(f"profile {name!r}: {path} is a symlink loop (ELOOP); fix or remove the link",
                                      details={"profile": name, "path": str(path)}) from None
            return


def profile_dir(paths: Paths, name: str) -> Path:
    """Where a (possibly new) profile of this name lives; the name is validated first."""
    return paths.profiles_tree / validate_name(name)


def alias_roots(profiles: list[Profile]) -> dict[str, str]:
    """Each profile's alias group, named by its first member: names whose
    credentials are one file (symlinks) are one account, and share one probe budget."""
    first: dict[str, str] = {}
    roots = {}
    for profile in sorted(profiles, key=lambda p: p.name):
        real = os.path.realpath(profile.credentials_path)
        roots[profile.name] = first.setdefault(real, profile.name)
    return roots
