"""Claude Code's own refresh locks, honoured by the files backend (docs/refresh.md).

Before refreshing, claude takes two proper-lockfile locks: the directory
``<config dir>/.oauth_refresh.lock`` and then the legacy ``<realpath(config
dir)>.lock``. Each is an atomic ``mkdir`` whose holder touches its mtime every
5 s. roost takes the same directories, in the same order, for every refresh.

Around every write of the credentials claude also takes a third lock,
``<config dir>/.storage-write.lock`` (same protocol, stale after 15 s), and
writes ``.credentials.json.tmp.<8 hex>`` before renaming it: roost takes that
lock around each of its own writes too (``storage_lock_paths``) and never
touches claude's temp files. With symlinked credentials every directory of
the tree whose file resolves to the same one is locked (``alias_dirs``).

A lock is stale only when its mtime is older than the stale window
(``lock_stale``, 60 s by default: what current claude builds use) or more than
60 s in the future (a clock jump, claude-code #95739), or when roost itself
made it and its holder is provably dead on this host (``owner_dead``), or
claude's own owner record (``.oauth_refresh.lock.owner``, 2.1.332+) proves its
holder gone from this host (``claude_owner_dead``). A live
lock is never taken: we wait, and past the deadline the caller gets CONFLICT.
A stale lock is taken over by renaming it to a unique tombstone first, so of
two takers only one wins the rename.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from roost_core.api import (Conflict, NotFound, RoostError, ValidationError, boot_id, process_start, remove_stale_temps,
                            write_user_file)

LOCK_DIR_NAME = ".oauth_refresh.lock"
STORAGE_LOCK_NAME = ".storage-write.lock"
STORAGE_STALE_S = 15.0  # claude's stale window for .storage-write.lock
CREDENTIALS_NAME = ".credentials.json"
OWNER_RECORD_NAME = ".oauth_refresh.lock.owner"
HEARTBEAT_S = 5.0
FUTURE_SLACK_S = 60.0
POLL_MIN_S = 0.05
POLL_MAX_S = 0.5
OWNER_XATTR = "user.roost.lock-owner"


def alias_dirs(profile_dir: Path, credentials_path: Path | None = None, tree: Path | None = None) -> list[Path]:
    """Every config directory whose claude would write this profile's credentials file.

    The profile's own directory first (claude's order), then the credentials'
    real directory when the file is a symlink, then every other directory of
    the tree whose ``.credentials.json`` resolves to the same file (sorted, so
    every roost takes them in one order). A directory reached twice (a
    symlinked directory) counts once: taking its lock twice would wait forever.
    """
    dirs = [Path(profile_dir)]
    if credentials_path is not None:
        real = os.path.realpath(credentials_path)
        dirs.append(Path(real).parent)
        dirs += _tree_aliases(tree, real) if tree is not None else []
    unique: dict[str, Path] = {}
    for directory in dirs:
        unique.setdefault(os.path.realpath(directory), directory)
    return list(unique.values())


def _tree_aliases(tree: Path, real: str) -> list[Path]:
    try:
        names = sorted(os.listdir(tree))
    except OSError:
        return []
    found = []
    for name in names:
        if name.startswith(".") or name.endswith(".lock"):
            continue
        candidate = Path(tree) / name / CREDENTIALS_NAME
        try:
            if os.path.isfile(candidate) and os.path.realpath(candidate) == real:
                found.append(Path(tree) / name)
        except OSError:
            continue
    return found


def lock_paths(profile_dir: Path, credentials_path: Path | None = None, tree: Path | None = None) -> list[Path]:
    """The refresh lock directories claude would create for this profile, in claude's order:
    ``<dir>/.oauth_refresh.lock`` then the legacy ``<realpath(dir)>.lock``, for every
    directory of ``alias_dirs`` (a claude in any of them refreshes the same file)."""
    paths: list[Path] = []
    for directory in alias_dirs(profile_dir, credentials_path, tree):
        for path in (directory / LOCK_DIR_NAME, Path(os.path.realpath(directory) + ".lock")):
            if path not in paths:
                paths.append(path)
    return paths


def storage_lock_paths(profile_dir: Path, credentials_path: Path | None = None,
                       tree: Path | None = None) -> list[Path]:
    """Claude Code's third lock (2.1.204+), ``<dir>/.storage-write.lock``, taken around every
    write of the credentials, for every directory that writes this file."""
    return [directory / STORAGE_LOCK_NAME for directory in alias_dirs(profile_dir, credentials_path, tree)]


def is_stale(mtime: float, now: float, stale_s: float) -> bool:
    """Older than the stale window, or implausibly far in the future."""
    return mtime < now - stale_s or mtime > now + FUTURE_SLACK_S


@dataclass
class _Held:
    path: Path
    # (st_dev, st_ino, st_ctime_ns) of our directory as of our last touch: inode numbers are
    # reused at once after an rmdir, so the change time tells a replacement apart.
    ident: tuple[int, int, int]


@dataclass
class ClaudeLocks:
    """Take every lock directory in ``paths`` (in order); heartbeat them while held."""

    paths: list[Path]
    stale_s: float = 60.0
    heartbeat_s: float = HEARTBEAT_S
    clock: Callable[[], float] = time.time  # wall clock: lock mtimes are wall-clock times
    warn: Callable[[str], None] = lambda message: None
    held: list[_Held] = field(default_factory=list)
    compromised: bool = False  # a held directory was removed or replaced by someone else
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _records: list[tuple[Path, float | None]] = field(default_factory=list)  # claude owner records we wrote

    def acquire(self, deadline: float) -> None:
        """Take every lock before ``deadline`` (time.monotonic), else CONFLICT and hold nothing."""
        try:
            for path in self.paths:
                self._take(path, deadline)
        except BaseException:
            self.release()
            raise
        self._write_owner_records()
        self._thread = threading.Thread(target=self._beat, name="roost-claude-lock-heartbeat", daemon=True)
        self._thread.start()

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        self._remove_owner_records()
        for held in reversed(self.held):
            if _ident(held.path) == held.ident:
                try:
                    os.rmdir(held.path)
                except OSError:
                    pass
        self.held.clear()

    def __enter__(self) -> "ClaudeLocks":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    # -- claude's owner record -----------------------------------------------
    def _write_owner_records(self) -> None:
        """Say who holds each refresh lock in claude's own format, so that claude (2.1.332+) and
        roost reclaim the lock at once if this process dies holding it, instead of after 60 s."""
        mtimes = {str(h.path): _mtime_ms(h.path) for h in self.held}
        self._records = []
        for held in self.held:
            if held.path.name != LOCK_DIR_NAME:
                continue
            legacy = os.path.realpath(held.path.parent) + ".lock"
            record = owner_record(mtimes[str(held.path)], mtimes.get(legacy))
            path = claude_owner_record(held.path)
            remove_stale_temps(path)  # a roost killed mid-write left one; we hold the lock now
            try:
                write_user_file(path, (json.dumps(record) + "\n").encode(), 0o600, force=True)
            except (RoostError, OSError):
                continue  # the stale window still applies; never a reason to fail a refresh
            self._records.append((path, record["lockBirthtimeMs"]))

    def _remove_owner_records(self) -> None:
        """Remove our records (only ours: a record another holder wrote meanwhile stays)."""
        for path, birth in self._records:
            try:
                record = json.loads(path.read_bytes())
                if record.get("pid") == os.getpid() and record.get("lockBirthtimeMs") == birth:
                    os.unlink(path)
            except (OSError, ValueError, AttributeError):
                pass
        self._records = []

    # -- taking one lock -----------------------------------------------------
    def _take(self, path: Path, deadline: float) -> None:
        pause = POLL_MIN_S
        while True:
            try:
                ident = self._try_take(path)
            except _NoPermission as exc:
                if path.name == LOCK_DIR_NAME:  # inside the credentials' directory: we could not write there
                    raise ValidationError(f"cannot write in {path.parent} ({exc.strerror}); a refreshed token "
                                          "could not be saved there", details={"lock": str(path)}) from None
                # Nobody running as us can create it either, so nobody holds it.
                self.warn(f"cannot create the legacy lock {path} ({exc.strerror}); going on without it")
                return
            if ident is not None:
                self.held.append(_Held(path, ident))
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Conflict(f"claude is refreshing this profile (lock {path} is held); retry later",
                               details={"lock": str(path)})
            time.sleep(min(pause, remaining))
            pause = min(pause * 2, POLL_MAX_S)

    def _try_take(self, path: Path) -> tuple[int, int, int] | None:
        """Our directory's identity when we created it, or None when it is held."""
        ident = _mkdir(path)
        if ident is not None:
            return ident
        try:
            stat = os.lstat(path)
        except FileNotFoundError:
            return _mkdir(path)  # released meanwhile
        if not self._reclaimable(path, stat.st_mtime):
            return None
        if not self._take_over(path):
            return None
        return _mkdir(path)

    def _reclaimable(self, path: Path, mtime: float, lock: Path | None = None) -> bool:
        """``path`` is the directory as it lies now; ``lock`` its name as a lock (for claude's record)."""
        now = self.clock()
        return (is_stale(mtime, now, self.stale_s) or owner_dead(path)
                or claude_owner_dead(lock or path, mtime, now))

    def _take_over(self, path: Path) -> bool:
        """Move a stale lock aside (atomically: one taker wins) and delete it."""
        tomb = path.with_name(f".{path.name}.roost-stale-{secrets.token_hex(4)}")
        try:
            os.rename(path, tomb)
        except OSError:
            return False
        try:
            stat = os.lstat(tomb)
            if not self._reclaimable(tomb, stat.st_mtime, lock=path):
                # Someone replaced it with a live lock between our look and the rename: put it back.
                if not os.path.lexists(path):
                    try:
                        os.rename(tomb, path)
                        return False
                    except OSError:
                        pass
            if os.path.isdir(tomb) and not os.path.islink(tomb):
                shutil.rmtree(tomb, ignore_errors=True)
            else:
                os.unlink(tomb)
        except OSError:
            pass
        self.warn(f"took over a stale claude refresh lock {path}")
        return True

    # -- heartbeat -----------------------------------------------------------
    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            self.touch()

    def touch(self) -> None:
        """Refresh every held directory's mtime, noticing one that is no longer ours."""
        for held in self.held:
            if _ident(held.path) != held.ident:
                self.compromised = True
                continue
            try:
                os.utime(held.path)
            except OSError:
                self.compromised = True
                continue
            held.ident = _ident(held.path) or held.ident


class _NoPermission(OSError):
    """mkdir of a lock directory was refused (permissions, read-only filesystem)."""


def _mkdir(path: Path) -> tuple[int, int, int] | None:
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        return None
    except OSError as exc:
        if exc.errno == errno.EEXIST:
            return None
        if isinstance(exc, PermissionError) and _windows():
            return None  # Windows: a mkdir racing the holder's rmdir fails with EPERM: busy, try again
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise _NoPermission(exc.errno, exc.strerror) from None
        if exc.errno == errno.ENOENT:  # a concurrent remove or rename took the profile directory
            raise NotFound(f"profile directory {path.parent} no longer exists (removed or renamed meanwhile)",
                           details={"lock": str(path)}) from None
        raise RoostError(f"cannot create the refresh lock {path}: {exc.strerror}",
                         details={"lock": str(path)}) from None
    _mark_owner(path)
    return _ident(path)


def _windows() -> bool:
    from roost_core.api import env_platform

    return env_platform() == "win32"


def _mark_owner(path: Path) -> None:
    """Tag our lock directory with who holds it (an xattr: the directory stays empty for claude).

    A roost killed while holding the lock leaves the directory behind; the
    next roost reclaims it at once when the tag proves the holder dead on
    this host, instead of waiting out the stale window. Where the filesystem
    has no user xattrs, only the stale window applies.
    """
    owner = {"pid": os.getpid(), "start": process_start(os.getpid()), "boot": boot_id()}
    try:
        os.setxattr(path, OWNER_XATTR, json.dumps(owner).encode(), follow_symlinks=False)
    except (OSError, AttributeError):
        pass


def owner_dead(path: Path) -> bool:
    """True when roost tagged this lock and its holder provably no longer runs on this host."""
    try:
        owner = json.loads(os.getxattr(path, OWNER_XATTR, follow_symlinks=False))
    except (OSError, AttributeError, ValueError):
        return False
    if not isinstance(owner, dict) or not isinstance(owner.get("pid"), int) or not owner.get("start"):
        return False
    if not owner.get("boot") or owner["boot"] != boot_id():
        return False
    return process_start(owner["pid"]) != owner["start"]


def claude_owner_record(lock: Path) -> Path:
    """Where claude (2.1.332+) records who holds the refresh lock of ``lock``'s config dir.

    ``<dir>/.oauth_refresh.lock`` and the legacy ``<realpath(dir)>.lock`` share
    one record, ``<dir>/.oauth_refresh.lock.owner``.
    """
    if lock.name == LOCK_DIR_NAME:
        return lock.with_name(OWNER_RECORD_NAME)
    return Path(str(lock).removesuffix(".lock")) / OWNER_RECORD_NAME


def owner_record(lock_birth_ms: float | None, legacy_birth_ms: float | None) -> dict:
    """This process as claude's ``.oauth_refresh.lock.owner`` names a holder (docs/refresh.md)."""
    pid = os.getpid()
    try:
        space = os.readlink("/proc/self/ns/pid")
    except OSError:
        space = None
    return {"pid": pid, "procStart": process_start(pid), "pidDomain": pid_domain(), "pidSpace": space,
            "lockBirthtimeMs": lock_birth_ms, "legacyLockBirthtimeMs": legacy_birth_ms}


def _mtime_ms(path: Path) -> float | None:
    try:
        return round(os.lstat(path).st_mtime * 1000)
    except OSError:
        return None


def pid_domain() -> str | None:
    """This host's pid namespace as claude names it: ``linux:<machine-id>:pid:[<inode>]``."""
    try:
        machine = Path("/etc/machine-id").read_text().strip()
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return None
    return f"linux:{machine}:{namespace}" if machine else None


def claude_owner_dead(lock: Path, mtime: float, now: float) -> bool:
    """True when claude's owner record proves the holder of ``lock`` gone from this host.

    Conservative on purpose: the lock must have missed two heartbeats (a
    holder that just took it, before writing its record, looks fresh), the
    record must name this very pid namespace, and the pid must not exist at
    all. Anything else (no record, another format, a live or unknowable pid)
    proves nothing, and the stale window applies.
    """
    if now - mtime < 2 * HEARTBEAT_S + 1:
        return False
    try:
        record = json.loads(claude_owner_record(lock).read_bytes())
    except (OSError, ValueError):
        return False
    pid = record.get("pid") if isinstance(record, dict) else None
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    if record.get("pidDomain") != pid_domain() or pid_domain() is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def _ident(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = os.lstat(path)
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino, stat.st_ctime_ns)
