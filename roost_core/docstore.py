"""``JsonDocuments``: JSON documents and named filelocks in one local directory.

The files backend's documents and locks, and any backend's local copies
(roost-redis mirrors its store with it):

* ``<directory>/<name>.json``, rewritten atomically under a per-document
  lock file; a corrupt one is reported through ``warn`` (read as empty) and
  rebuilt at once, even by a command that only reads it (``_rebuild``);
* lock files in ``<directory>/locks/`` (hashed names, 0700 dir; ``flock``, as
  filelock takes them, see ``hold_lock_file``): a lock held past ``timeout``
  is CONFLICT.
"""

from __future__ import annotations

import contextlib
import errno
import json
import marshal
import os
import re
import stat
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

from .atomic import TEMP_SUFFIX, atomic_write, ensure_private_dir, remove_stale_temps
from .errors import Conflict, ExitCode, RoostError

MAX_DOC_BYTES = 16 * 1024 * 1024
REBUILD_WAIT_S = 2.0  # a corrupt document's rebuild waits this long for a writer, then leaves it to it


def lock_file_name(name: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name)[:40]
    import hashlib  # only where a lock is taken: hashlib loads OpenSSL

    return f"{safe}.{hashlib.sha256(name.encode()).hexdigest()[:12]}.lock"


class JsonDocuments:
    def __init__(self, directory: Path, warn: Callable[[str], None],
                 rebuild: Callable[[str], bool] | None = None):
        self.directory = directory
        self._warn = warn
        self._may_rebuild = rebuild  # None: every document; else which names a read may rebuild
        self._held: set[str] = set()  # locks this process holds (a rebuild never waits on its own)

    def _doc_path(self, name: str) -> Path:
        return self.directory / f"{name}.json"

    def read_doc(self, name: str) -> dict[str, Any]:
        data, corrupt = self._load(name)
        if corrupt is not None:
            problem, seen = corrupt
            outcome = self._rebuild(name, seen)
            self._warn(f"{self._doc_path(name).name} is corrupt ({problem}); read as empty, and {outcome}")
        return data

    def _load(self, name: str) -> tuple[dict[str, Any], tuple[str, os.stat_result] | None]:
        """The document, and (what is wrong, the file's fstat) when it is corrupt (then read as empty)."""
        path = self._doc_path(name)
        try:
            with open(path, "rb") as handle:
                st = os.fstat(handle.fileno())
                if st.st_size >= PARSED_MIN_BYTES:
                    parsed = _read_parsed(path, st)
                    if parsed is not None:
                        return parsed, None
                raw = handle.read(MAX_DOC_BYTES + 1)
        except FileNotFoundError:
            return {}, None
        except OSError as exc:  # a directory, a symlink loop, no permission: not a file to rebuild
            self._warn(f"{path.name} is unreadable ({exc.strerror}); treating it as empty")
            return {}, None
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
                    if len(raw) >= PARSED_MIN_BYTES:
                        _write_parsed(path, st, data)
                    return data, None
                problem = "not a JSON object"
        return {}, (problem, st)

    def _rebuild(self, name: str, seen: os.stat_result) -> str:
        """Replace a corrupt document with ``{}`` now (a command that only reads it would never
        write it, and every later run would warn again); says what happened, for the warning.

        Under the writers' lock, and only while the name still holds the very file found corrupt
        (a regular file of ours, same device, inode, size and mtime), checked again once the new
        bytes are durable, just before the rename: a locked writer's good document is never
        replaced. A symlink, another user's file or a document the owner keeps (``rebuild``) is
        left as it is. Only reached on damage: the lock (and filelock's import) costs nothing on
        a healthy read.
        """
        path = self._doc_path(name)
        if (self._may_rebuild is not None and not self._may_rebuild(name)) or f"doc:{name}" in self._held:
            return "rebuilt by the next write"  # kept by its owner, or this process is writing it now

        def still_corrupt() -> bool:
            try:
                now = os.lstat(path)
            except OSError:
                return False
            return (stat.S_ISREG(now.st_mode) and now.st_uid == getattr(os, "getuid", lambda: now.st_uid)()
                    and _identity(now) == _identity(seen))

        if not still_corrupt():
            return "left as it is (not a regular file of this user's, or changed meanwhile)"
        try:
            with self.lock(f"doc:{name}", timeout=REBUILD_WAIT_S):
                replaced = atomic_write(path, b"{}\n", 0o600, only_if=still_corrupt)
        except (RoostError, OSError) as exc:  # read-only, full, the lock held: the next write rebuilds it
            reason = exc.message if isinstance(exc, RoostError) else (exc.strerror or str(exc))
            return f"rebuilt by the next write (not now: {reason})"
        return "rebuilt as an empty document" if replaced else "rewritten meanwhile by another roost process"

    def update_doc(self, name: str, fn: Callable[[dict[str, Any]], dict[str, Any] | None]) -> dict[str, Any]:
        with self.lock(f"doc:{name}", timeout=10.0):
            data, corrupt = self._load(name)  # never _rebuild here: it would wait on this very lock
            if corrupt is not None:
                self._warn(f"{self._doc_path(name).name} is corrupt ({corrupt[0]}); read as empty, and "
                           "rebuilt by this write")
            result = fn(data)
            new = data if result is None else result
            ensure_private_dir(self.directory)
            # Every writer of this document holds this lock, so any temp file is a killed writer's.
            remove_stale_temps(self._doc_path(name))
            try:
                atomic_write(self._doc_path(name), (json.dumps(new, indent=1, sort_keys=True) + "\n").encode(),
                             0o600)
            except OSError as exc:  # disk full, read-only, a directory where the file should be
                raise RoostError(f"cannot write {self._doc_path(name)}: {exc.strerror or exc}",
                                 details={"path": str(self._doc_path(name))},
                                 exit_code=ExitCode.UNAVAILABLE) from None  # a named code, not 1
            return new

    def replace_doc(self, name: str, data: dict[str, Any]) -> None:
        """Replace the document whole, without its lock: the rename is atomic, so a reader
        sees the old or the new document, and a locked writer's cleanup that removes our
        temp file (it takes any for a killed writer's) only makes us write again."""
        ensure_private_dir(self.directory)
        payload = (json.dumps(data, indent=1, sort_keys=True) + "\n").encode()
        for attempt in range(3):
            try:
                atomic_write(self._doc_path(name), payload, 0o600)
                return
            except OSError as exc:  # WriteFailed: one line naming the file, exit 9
                if exc.errno != errno.ENOENT or attempt == 2:
                    raise

    @contextlib.contextmanager
    def lock(self, name: str, timeout: float) -> Iterator[None]:
        lock_dir = ensure_private_dir(ensure_private_dir(self.directory) / "locks")
        path = str(lock_dir / lock_file_name(name))
        try:
            release = hold_lock_file(path, timeout)
        except TimeoutError:
            raise Conflict(f"another roost process holds the {name.split(':')[0]} lock "
                           f"(waited {round(timeout, 2):g}s); retry later", details={"lock": name}) from None
        except OSError as exc:  # a symlink planted at the lock path (never followed), a directory, EACCES
            if exc.errno in (errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EFBIG):  # the disk, not the file
                raise RoostError(f"cannot write {path}: {exc.strerror}", details={"lock": name},
                                 exit_code=ExitCode.UNAVAILABLE) from None
            raise RoostError(f"cannot use the lock file {path}: {exc.strerror}; it must be a "
                             "regular file roost can create: remove it", details={"lock": name},
                             exit_code=ExitCode.UNAVAILABLE) from None
        self._held.add(name)
        try:
            yield
        finally:
            self._held.discard(name)
            release()


_CONTENDED = frozenset({errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES})


def hold_lock_file(path: str, timeout: float) -> Callable[[], None]:
    """Take the exclusive lock on the file ``path`` within ``timeout`` seconds; returns its release.

    On POSIX this is what filelock's ``UnixFileLock`` does (``flock`` on the file, never
    followed through a symlink, left in place on release), without importing filelock, whose
    logging, decimal and settings modules cost ~30 ms on every command that takes a lock (a
    lease before each ``roost exec``). Processes using either interoperate. On Windows
    filelock takes it (msvcrt); on a filesystem without ``flock`` filelock's soft lock
    (``<path>.soft``, created exclusively) does, as filelock itself would fall back. TimeoutError
    when the lock stays held; OSError when the path cannot be a lock file.
    """
    try:
        import fcntl
    except ImportError:  # Windows
        return _filelock_hold(path, timeout, soft=False)
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, 0o600)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # a FIFO or device planted at the path
            raise OSError(errno.EINVAL, "not a regular file")
        if not _flock_within(fcntl, fd, timeout):
            raise TimeoutError(path)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.ENOSYS, errno.EOPNOTSUPP):  # no flock on this filesystem
            return _filelock_hold(path + ".soft", timeout, soft=True)
        raise
    except BaseException:
        os.close(fd)
        raise
    return lambda: os.close(fd)  # closing the descriptor releases the flock


def _flock_within(fcntl: Any, fd: int, timeout: float) -> bool:
    """Poll a non-blocking flock (5 ms, doubling to 50 ms) until it is ours or ``timeout`` passes."""
    import time

    deadline, pause = time.monotonic() + max(timeout, 0.0), 0.005
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError as exc:
            if exc.errno not in _CONTENDED:
                raise
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(pause, left))
        pause = min(pause * 2, 0.05)


def _filelock_hold(path: str, timeout: float, soft: bool) -> Callable[[], None]:
    from filelock import FileLock, SoftFileLock, Timeout

    lock = (SoftFileLock if soft else FileLock)(path, timeout=timeout, mode=0o600)
    try:
        lock.acquire()
    except Timeout:
        raise TimeoutError(path) from None
    return lock.release


# -- the parsed copy of a large document --------------------------------------------------
# A pick reads health.json on every run; with 1000 profiles it is 2 MB of JSON and its parse is
# most of the per-profile cost. Beside a document of at least PARSED_MIN_BYTES, the first reader
# keeps ``.<name>.json.parsed``: the same data in marshal form (3x faster to load), tagged with
# the document's identity (device, inode, size, mtime; every write renames a new file in) and
# the Python that wrote it. Any mismatch or damage means the JSON is read, as before.

PARSED_MIN_BYTES = 256 * 1024
PARSED_SUFFIX = ".parsed"


def _parsed_key(st: os.stat_result) -> tuple[Any, ...]:
    return (marshal.version, tuple(sys.version_info[:2]), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _read_parsed(path: Path, st: os.stat_result) -> dict[str, Any] | None:
    try:
        with open(path.with_name(f".{path.name}{PARSED_SUFFIX}"), "rb") as handle:
            key, data = marshal.loads(handle.read())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    return data if key == _parsed_key(st) and isinstance(data, dict) else None


def _write_parsed(path: Path, st: os.stat_result, data: dict[str, Any]) -> None:
    """Best effort, no fsync and no lock: a cache that a torn or lost write only makes a miss."""
    target = path.with_name(f".{path.name}{PARSED_SUFFIX}")
    tmp = path.with_name(f".{path.name}.{os.urandom(6).hex()}{TEMP_SUFFIX}")  # swept like any temp of it
    try:
        payload = marshal.dumps((_parsed_key(st), data))
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            os.write(fd, payload)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except (OSError, ValueError):
        try:
            os.unlink(tmp)
        except OSError:
            pass


def _identity(st: os.stat_result) -> tuple[int, ...]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
