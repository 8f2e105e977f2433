"""The built-in ``files`` state backend: everything under the config dir.

* JSON documents ``<config>/<name>.json``, rewritten atomically under a
  per-document filelock; a corrupt one is reported and rebuilt.
* Named locks: filelocks in ``<config>/locks/`` (hashed names, 0700 dir).
* Line logs appended with one O_APPEND write per record; rotation to
  ``<log>.1`` happens under a lock after re-checking the size;
  ``log_stats``/``truncate_log`` count and empty a log in place.
* Credentials: the profile's own ``.credentials.json`` (0600, dir 0700);
  a write after a read is refused (CONFLICT) if the file changed in between.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Callable, Iterator

try:
    import fcntl
except ImportError:  # Windows: appends are not interleaved by the OS there either
    fcntl = None  # type: ignore[assignment]

from roost_core import hookimpl
from roost_core.atomic import atomic_write, ensure_private_dir, remove_stale_temps
from roost_core.errors import Conflict, RoostError

MAX_DOC_BYTES = 16 * 1024 * 1024


def _lock_file_name(name: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name)[:40]
    return f"{safe}.{hashlib.sha256(name.encode()).hexdigest()[:12]}.lock"


class FilesBackend:
    name = "files"

    def __init__(self, config_dir: Path, warn: Callable[[str], None]):
        self.config_dir = config_dir
        self._warn = warn
        self._read_digests: dict[str, str] = {}  # credentials realpath -> digest of the bytes last read

    # -- documents -----------------------------------------------------------
    def _doc_path(self, name: str) -> Path:
        return self.config_dir / f"{name}.json"

    def read_doc(self, name: str) -> dict[str, Any]:
        path = self._doc_path(name)
        try:
            with open(path, "rb") as handle:
                raw = handle.read(MAX_DOC_BYTES + 1)
        except FileNotFoundError:
            return {}
        except OSError as exc:
            self._warn(f"{path.name} is unreadable ({exc.strerror}); treating it as empty")
            return {}
        problem = None
        if len(raw) > MAX_DOC_BYTES:
            problem = "too large"
        else:
            try:
                data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
            except (ValueError, UnicodeDecodeError, RecursionError) as exc:
                problem = f"not valid JSON: {type(exc).__name__}"
            else:
                if isinstance(data, dict):
                    return data
                problem = "not a JSON object"
        self._warn(f"{path.name} is corrupt ({problem}); rebuilding it")
        return {}

    def update_doc(self, name: str, fn: Callable[[dict[str, Any]], dict[str, Any] | None]) -> dict[str, Any]:
        with self.lock(f"doc:{name}", timeout=10.0):
            data = self.read_doc(name)
            result = fn(data)
            new = data if result is None else result
            ensure_private_dir(self.config_dir)
            # Every writer of this document holds this lock, so any temp file is a killed writer's.
            remove_stale_temps(self._doc_path(name))
            try:
                atomic_write(self._doc_path(name), (json.dumps(new, indent=1, sort_keys=True) + "\n").encode(),
                             0o600)
            except OSError as exc:  # disk full, read-only, a directory where the file should be
                raise RoostError(f"cannot write {self._doc_path(name)}: {exc.strerror or exc}",
                                 details={"path": str(self._doc_path(name))}) from None
            return new

    # -- locks -----------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, name: str, timeout: float) -> Iterator[None]:
        from filelock import FileLock, Timeout

        lock_dir = ensure_private_dir(ensure_private_dir(self.config_dir) / "locks")
        lock = FileLock(str(lock_dir / _lock_file_name(name)), timeout=timeout, mode=0o600)
        try:
            lock.acquire()
        except Timeout:
            raise Conflict(f"another roost process holds the {name.split(':')[0]} lock "
                           f"(waited {timeout:g}s); retry later", details={"lock": name}) from None
        except OSError as exc:  # a symlink planted at the lock path (never followed), a directory, EACCES
            raise RoostError(f"cannot use the lock file {lock.lock_file}: {exc.strerror}; it must be a "
                             "regular file roost can create: remove it", details={"lock": name}) from None
        try:
            yield
        finally:
            lock.release()

    # -- logs ------------------------------------------------------------------
    def append_line(self, log: str, line: str, max_bytes: int | None = None) -> None:
        ensure_private_dir(self.config_dir)
        path = self.config_dir / log
        if max_bytes:
            self._rotate_if_needed(path, log, max_bytes)
        try:
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except OSError as exc:
            raise RoostError(f"cannot append to {path}: {exc.strerror}") from None
        try:
            # flock on our own descriptor: appenders take turns, so the tail we
            # inspect is never another writer's record still in flight. The
            # kernel drops it if we are killed.
            size = None
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            # Start on a fresh line if a killed writer left a torn tail.
            lead = b"\n" if size and os.pread(fd, 1, size - 1) != b"\n" else b""
            record = lead + line.encode("utf-8") + b"\n"
            written = os.write(fd, record)
            if written != len(record):
                _take_back(fd, size)
                raise RoostError(f"short write to {path.name} ({written} of {len(record)} bytes); not logged")
        except OSError as exc:
            _take_back(fd, size)
            raise RoostError(f"cannot append to {path}: {exc.strerror}") from None
        finally:
            os.close(fd)

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
        with open(profile.credentials_path, "rb") as handle:
            data = handle.read(MAX_DOC_BYTES)
        self._read_digests[os.path.realpath(profile.credentials_path)] = _digest(data)
        return data

    def write_credentials(self, profile: Any, data: bytes) -> None:
        """Replace the file; CONFLICT if it changed since this instance last read it.

        Optimistic concurrency, checked under a per-file lock: a write based on
        a stale read never overwrites what another writer stored meanwhile. A
        write with no earlier read (an import) is unconditional, as before.
        """
        ensure_private_dir(profile.directory)
        key = os.path.realpath(profile.credentials_path)
        expected = self._read_digests.get(key)
        if expected is None:
            atomic_write(profile.credentials_path, data, 0o600)
            return
        with self.lock(f"credentials:{key}", timeout=10.0):
            try:
                with open(profile.credentials_path, "rb") as handle:
                    current = _digest(handle.read(MAX_DOC_BYTES))
            except FileNotFoundError:
                current = None
            if current != expected:
                raise Conflict(f"the credentials of {profile.name!r} changed since roost read them; "
                               "not overwritten", details={"profile": profile.name})
            atomic_write(profile.credentials_path, data, 0o600)
            self._read_digests[key] = _digest(data)

    # -- optional protocol extensions (docs/PLUGINS.md, state backends) ------------
    shared = False  # state is this machine's alone

    def begin_spend(self, profile: Any) -> None:
        """Nothing to record locally: the held filelock already excludes every refresher."""

    def child_credentials_dir(self, profile: Any, lease: Any = None) -> Path | None:
        """None: a child uses the profile's own directory and credentials file."""
        return None

    @contextlib.contextmanager
    def claim(self, name: str, ttl_s: float) -> Iterator[bool]:
        """True to the one process that may do ``name`` now (a non-blocking filelock)."""
        from filelock import FileLock, Timeout

        lock_dir = ensure_private_dir(ensure_private_dir(self.config_dir) / "locks")
        lock = FileLock(str(lock_dir / _lock_file_name(f"claim:{name}")), timeout=0, mode=0o600)
        try:
            lock.acquire()
        except Timeout:
            yield False
            return
        try:
            yield True
        finally:
            lock.release()

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "shared": False, "degraded": False, "path": str(self.config_dir)}


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _take_back(fd: int, size: int | None) -> None:
    """Drop a partly written record (disk full, EFBIG): a line is logged whole or not at all.

    Safe only under the log's flock, which every appender holds while it writes.
    """
    if size is None or fcntl is None:
        return
    try:
        os.ftruncate(fd, size)
    except OSError:
        pass  # readers skip a torn tail, and the next append starts on a fresh line


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class FilesBackendFactory:
    name = "files"

    def open(self, ctx: Any) -> FilesBackend:
        return FilesBackend(ctx.paths.config_dir, ctx.warn)


@hookimpl
def roost_register_state_backends():
    return FilesBackendFactory()
