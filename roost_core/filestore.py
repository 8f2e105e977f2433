"""The file credential store: ``<profile dir>/.credentials.json``, as claude keeps it on
Linux and Windows (and on macOS when the keychain is not used).

Writes are atomic (same-dir temp, fsync, rename; mode 0600 except on Windows,
where the directory's ACLs protect the file and chmod only toggles read-only),
compare-and-set on the refresh token, and read back. Reads and the rename are
retried on Windows sharing violations (winerror 5/32/33, roost_core.winretry).
The caller holds claude's locks (the files backend does).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

from .atomic import atomic_write, ensure_private_dir
from .credstore import ANY, PLATFORMS, StoredCredentials, check_expected, env_platform, verify_written
from .errors import Forbidden
from .profiles import KEYCHAIN_MARKER  # noqa: F401  (re-exported: the login lives in the keychain)
from .records import Profile
from .winretry import windows_retry

MAX_BYTES = 16 * 1024 * 1024


def read_file(path: Path) -> bytes:
    def once() -> bytes:
        with open(path, "rb") as handle:
            return handle.read(MAX_BYTES)

    return windows_retry(once)


class FileCredentialStore:
    name = "file"
    platforms = frozenset(PLATFORMS)
    priority = 10

    def __init__(self, platform: str | None = None, warn: Callable[[str], None] = lambda message: None):
        self.platform = platform or env_platform()
        self.warn = warn
        self._checked: set[str] = set()

    def read(self, profile: Profile) -> StoredCredentials:
        path = profile.credentials_path
        data = read_file(path)
        self._warn_if_exposed(profile)
        return StoredCredentials(data, self.name, str(path))

    def _warn_if_exposed(self, profile: Profile) -> None:
        """Like ssh: a login another user owns, or others may read, is named once per run."""
        path = str(profile.credentials_path)
        if path in self._checked or self.platform == "win32" or not hasattr(os, "geteuid"):
            return
        self._checked.add(path)
        try:
            st = os.stat(path)
        except OSError:
            return
        elsewhere = owned_elsewhere(profile.credentials_path, st)
        if elsewhere:
            self.warn(f"{profile.name}: its credentials file is {elsewhere}, not yours ({path}); "
                      "roost will not rewrite it")
            return
        mode = st.st_mode & 0o777
        if mode & 0o077:
            self.warn(f"{profile.name}: its credentials file is mode {mode:04o}, readable by others "
                      f"(chmod 600 {path})")

    def current(self, profile: Profile) -> StoredCredentials | None:
        try:
            return self.read(profile)
        except FileNotFoundError:
            return None

    def write(self, profile: Profile, data: bytes, expected: Any = ANY) -> StoredCredentials:
        self.ready_to_spend(profile)
        check_expected(profile, self.current(profile), expected)
        ensure_private_dir(profile.directory)
        atomic_write(profile.credentials_path, data, 0o600)
        back = self.current(profile)
        verify_written(profile, data, back.data if back else None, str(profile.credentials_path))
        return StoredCredentials(data, self.name, str(profile.credentials_path))

    def delete(self, profile: Profile) -> list[str]:
        try:
            windows_retry(lambda: os.unlink(profile.credentials_path))
        except FileNotFoundError:
            return []
        return [str(profile.credentials_path)]

    def lock_dir(self, profile: Profile) -> Path:
        return profile.directory

    def protection(self) -> str:
        if self.platform == "win32":
            return "protected by the profile directory's ACLs (Windows: roost does not chmod)"
        return "mode 0600 in a 0700 directory"

    def inspect(self, profile: Profile) -> dict[str, Any]:
        present = profile.credentials_path.is_file()
        return {"store": self.name, "live": "file" if present else None, "stray": None,
                "file": str(profile.credentials_path), "file_present": present, "protection": self.protection()}

    def ready_to_spend(self, profile: Profile) -> None:
        """Never write through a link out of this user's ownership (checked before a token is spent)."""
        elsewhere = None if self.platform == "win32" else owned_elsewhere(profile.credentials_path)
        if elsewhere:
            raise Forbidden(f"the credentials of {profile.name!r} are {elsewhere} "
                            f"({os.path.realpath(profile.credentials_path)}); roost does not write another "
                            "user's file: nothing was spent", details={"profile": profile.name})


def owned_elsewhere(path: Path, st: os.stat_result | None = None) -> str | None:
    """POSIX: how the file ``path`` names (links followed; ``st``: its stat, when already taken) is out
    of this user's ownership, or None. Through a link, the directory the file lives in counts too (the
    new file is created there)."""
    if not hasattr(os, "geteuid"):
        return None
    me = os.geteuid()
    try:
        owner = (st or os.stat(path)).st_uid
    except OSError:
        return None
    if owner != me:
        return f"owned by uid {owner}"
    real = os.path.realpath(path)
    if real != os.path.abspath(path):
        try:
            parent = os.stat(os.path.dirname(real)).st_uid
        except OSError:
            return None
        if parent != me:
            return f"in a directory owned by uid {parent}"
    return None
