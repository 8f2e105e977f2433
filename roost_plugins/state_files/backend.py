"""The built-in ``files`` state backend: everything under the config dir.

* JSON documents ``<config>/<name>.json`` and named filelocks in
  ``<config>/locks/``: roost_core's ``JsonDocuments``.
* Line logs appended with one O_APPEND write per record; rotation to
  ``<log>.1`` happens under a lock after re-checking the size;
  ``log_stats``/``truncate_log`` count and empty a log in place.
* Credentials: through the platform's credential store (roost_core.api
  ``credential_store``: the profile's ``.credentials.json``, or the macOS
  keychain); a write after a read is refused (CONFLICT) if the stored refresh
  token changed in between, and every write holds claude's three locks.
* The refresh protocol: Claude Code's lock directories are taken with
  roost's refresh lock (claudelock.py), and each grant is journaled beside
  the credentials until written (journal.py).
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Any, Callable, Iterator

try:
    import fcntl
except ImportError:  # Windows: appends are not interleaved by the OS there either
    fcntl = None  # type: ignore[assignment]

from roost_core.api import JsonDocuments, RoostError, StateBackendBase, append_line, ensure_private_dir

from . import journal

MAX_DOC_BYTES = 16 * 1024 * 1024
LOCK_STALE_S = 60.0  # claude's own stale window for its lock directories
STORAGE_WAIT_S = 20.0  # longer than .storage-write.lock's 15 s stale window: a dead holder's lock is taken


class FilesBackend(JsonDocuments, StateBackendBase):
    name = "files"

    def __init__(self, config_dir: Path, warn: Callable[[str], None], lock_stale_s: float = LOCK_STALE_S,
                 profiles_tree: Path | None = None, store: Callable[[], Any] | None = None):
        super().__init__(config_dir, warn)
        self.config_dir = config_dir
        self.lock_stale_s = lock_stale_s  # the ``lock_stale`` setting
        self.profiles_tree = profiles_tree  # where aliases of a profile's credentials may live
        self._open_store = store  # the run's credential store, opened on first use (default: the file)
        self._store: Any = None
        self._read_tokens: dict[str, str | None] = {}  # credentials realpath -> refresh token last read
        self._guarded: set[str] = set()  # profiles whose claude refresh locks this process holds

    @property
    def store(self) -> Any:
        if self._store is None:
            from roost_core.api import FileCredentialStore

            self._store = self._open_store() if self._open_store is not None else FileCredentialStore(warn=self._warn)
        return self._store

    # -- logs ------------------------------------------------------------------
    def append_line(self, log: str, line: str, max_bytes: int | None = None) -> None:
        ensure_private_dir(self.config_dir)
        path = self.config_dir / log
        if max_bytes:
            self._rotate_if_needed(path, log, max_bytes)
        append_line(path, line)

    def _rotate_if_needed(self, path: Path, log: str, max_bytes: int) -> None:
        try:
            if path.stat().st_size < max_bytes:
                return
        except FileNotFoundError:
            return
        with self.lock(f"rotate:{log}", timeout=10.0):
            try:
                if path.stat().st_size < max_bytes:
                    return  # another process rotated while we waited
            except FileNotFoundError:
                return
            os.replace(path, path.with_name(path.name + ".1"))

    def iter_lines(self, log: str) -> Iterator[str]:
        path = self.config_dir / log
        for candidate in (path.with_name(path.name + ".1"), path):
            try:
                with open(candidate, "r", encoding="utf-8", errors="replace") as handle:
                    for line in handle:
                        if line.endswith("\n"):
                            yield line
            except FileNotFoundError:
                continue
            except OSError as exc:  # a directory, a symlink loop, no permission: skip, say so
                self._warn(f"{candidate.name} is unreadable ({exc.strerror}); skipping it")

    def log_path(self, log: str) -> Path:
        return self.config_dir / log

    def log_stats(self, log: str) -> dict[str, Any]:
        """{location, records (lines), bytes} of the live file (a rotated ``.1`` is not counted)."""
        path = self.log_path(log)
        size, records = 0, 0
        try:
            with open(path, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                records = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
        except FileNotFoundError:
            pass
        except OSError as exc:  # a directory, no permission: say so, report nothing
            self._warn(f"{path.name} is unreadable ({exc.strerror}); not counted")
        return {"location": str(path), "records": records, "bytes": size, "backend": self.name,
                "degraded": False}

    def truncate_log(self, log: str) -> int:
        """Empty the log in place; returns the bytes dropped (0 when there is no file).

        In place (not replaced), under the appenders' flock: a concurrent
        O_APPEND writer's record lands whole at the new end, never in a file
        that was unlinked behind it.
        """
        path = self.log_path(log)
        try:
            fd = os.open(path, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            return 0
        except OSError as exc:
            raise RoostError(f"cannot truncate {path}: {exc.strerror}") from None
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            os.ftruncate(fd, 0)
        except OSError as exc:
            raise RoostError(f"cannot truncate {path}: {exc.strerror}") from None
        finally:
            os.close(fd)
        return size

    # -- credentials -----------------------------------------------------------
    def read_credentials(self, profile: Any) -> bytes:
        from roost_core.api import refresh_token_of

        stored = self.store.read(profile)
        for note in stored.notes:
            self._warn(f"{profile.name}: {note}")
        self._read_tokens[os.path.realpath(profile.credentials_path)] = refresh_token_of(stored.data)
        return stored.data

    def write_credentials(self, profile: Any, data: bytes) -> None:
        """Store the login; CONFLICT if its refresh token changed since this instance last read it.

        Compare-and-set (the store checks, under claude's three locks and a
        per-file lock), then read back and verified: a write based on a stale
        read never overwrites what another writer stored meanwhile. A write
        with no earlier read (an import) is unconditional, as before.
        """
        ensure_private_dir(profile.directory)
        with self._claude_write_locks(profile):
            self._write_credentials(profile, data)

    @contextlib.contextmanager
    def _claude_write_locks(self, profile: Any) -> Iterator[None]:
        """All three of claude's locks: the two refresh locks (unless this process's refresh holds them)
        and ``.storage-write.lock``."""
        with contextlib.ExitStack() as stack:
            if os.path.realpath(profile.credentials_path) not in self._guarded:
                stack.enter_context(self.guard_refresh(profile, time.monotonic() + STORAGE_WAIT_S))
            stack.enter_context(self.storage_write_guard(profile))
            yield

    @contextlib.contextmanager
    def storage_write_guard(self, profile: Any, tree: Path | None = None) -> Iterator[Any]:
        """Claude Code's ``.storage-write.lock`` in every directory that writes this file (15 s stale)."""
        from .claudelock import STORAGE_STALE_S, ClaudeLocks, storage_lock_paths

        locks = ClaudeLocks(storage_lock_paths(profile.directory, profile.credentials_path,
                                               tree or self.profiles_tree),
                            stale_s=STORAGE_STALE_S, warn=self._warn)
        locks.acquire(time.monotonic() + STORAGE_WAIT_S)
        try:
            yield locks
        finally:
            locks.release()

    def _write_credentials(self, profile: Any, data: bytes) -> None:
        from roost_core.api import ANY_TOKEN, refresh_token_of

        key = os.path.realpath(profile.credentials_path)
        expected = self._read_tokens.get(key, ANY_TOKEN)
        with self.lock(f"credentials:{key}", timeout=10.0):
            self.store.write(profile, data, expected)
            self._read_tokens[key] = refresh_token_of(data)

    def begin_spend(self, profile: Any) -> None:
        """The store's last word before the token is spent (a locked keychain: UNAVAILABLE, exit 9)."""
        self.store.ready_to_spend(profile)

    # -- the refresh protocol's guards (docs/PLUGINS.md, "State backends") -------------
    @contextlib.contextmanager
    def guard_refresh(self, profile: Any, deadline: float) -> Iterator[Any]:
        """Claude Code's own lock directories for this profile (claudelock.py)."""
        from .claudelock import ClaudeLocks, lock_paths

        locks = ClaudeLocks(lock_paths(self.store.lock_dir(profile), profile.credentials_path, self.profiles_tree),
                            stale_s=self.lock_stale_s, warn=self._warn)
        locks.acquire(deadline)
        key = os.path.realpath(profile.credentials_path)
        self._guarded.add(key)
        try:
            yield locks
        finally:
            self._guarded.discard(key)
            locks.release()

    # -- the pending-grant journal (journal.py) ----------------------------------------
    def reserve_grant(self, profile: Any, current: bytes) -> Path:
        return journal.reserve(profile, current)

    def record_grant(self, handle: Path, document: dict[str, Any], replaces: str | None, now: float) -> None:
        journal.record(handle, document, replaces, now)

    def release_grant(self, handle: Path) -> None:
        journal.release(handle)

    def pending_grant(self, profile: Any) -> journal.PendingGrant | None:
        return journal.pending(profile, self._warn)

    def rename_profile(self, profile: Any, new: str, replace: bool = False) -> None:
        """Before the directory moves: a login named after the directory (a keychain item) moves to
        the new name's item (``relocate``, optional for a store), under claude's locks."""
        relocate = getattr(self.store, "relocate", None)
        if callable(relocate):
            with self._claude_write_locks(profile):
                relocate(profile, type(profile)(new, Path(profile.directory).parent / new))

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "shared": False, "degraded": False, "path": str(self.config_dir)}
