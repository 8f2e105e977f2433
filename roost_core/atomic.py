"""Durable atomic replacement of a file: same-dir temp, fsync, rename, fsync dir.

A reader (or a crash) only ever sees the old bytes or the new bytes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from .errors import ExitCode, RoostError, ValidationError

from .winretry import windows_retry

TEMP_SUFFIX = ".roost-tmp"


def _windows() -> bool:
    """Windows file rules ($CLAUDE_LB_PLATFORM=win32 applies them on any OS, for tests)."""
    from .credstore import env_platform

    return env_platform() == "win32"


class WriteFailed(RoostError, OSError):
    """A file could not be replaced (disk full, file too large, read-only, ...).

    Still an OSError with ``errno``/``strerror`` for callers that handle those;
    for callers that do not, a RoostError: one clear line naming the file,
    never a traceback, and exit 9 (UNAVAILABLE: the disk is full, read-only or
    refuses the file; nothing roost can fix by retrying at once).
    """

    exit_code = ExitCode.UNAVAILABLE

    def __init__(self, path: Path, exc: OSError):
        RoostError.__init__(self, f"cannot write {path}: {exc.strerror or exc}", details={"path": str(path)})
        self.errno, self.strerror, self.filename = exc.errno, exc.strerror, str(path)


def atomic_write(path: Path, data: bytes, mode: int = 0o600, *,
                 only_if: Callable[[], bool] | None = None) -> bool:
    """Replace ``path`` with ``data`` atomically; the file ends with ``mode``.

    For files roost keeps (credentials, state). A symlinked ``path`` is written
    through: the link stays and its target is replaced beside itself (so two
    linked profiles keep sharing one file). The kernel resolves the link (see
    ``_link_target``), so its protected-symlinks rule still applies.
    ``only_if`` is asked once the new bytes are durable, just before the
    rename: False drops them and leaves ``path`` alone (returns False).
    """
    return _replace(_link_target(Path(path)), data, mode, only_if)


def write_user_file(path: Path, data: bytes, mode: int = 0o600, *, force: bool = False,
                    force_flag: str | None = None) -> None:
    """Write ``data`` at a path the user named (snapshot, plot): never through a link.

    A new file is made with O_CREAT|O_EXCL|O_NOFOLLOW in the destination's
    directory and renamed over the name, so a symlink planted there (say in a
    shared sticky directory) is replaced, never its target. A destination that
    is a symlink is refused unless ``force`` (then the link itself is replaced); ``force_flag``
    names the caller's flag for that in the refusal (``snapshot --force``).
    """
    path = Path(path)
    if not force and os.path.islink(path):
        hint = f"; {force_flag} replaces the link itself" if force_flag else ""
        raise ValidationError(f"{path} is a symbolic link; refusing to write through it (remove the "
                              f"link or name another path{hint})")
    _replace(path, data, mode)


def _link_target(path: Path) -> Path:
    """The file a symlinked ``path`` names, as the kernel resolves it (no hand-made realpath).

    Opening the path lets the kernel follow the link under its own rules
    (fs.protected_symlinks refuses another user's link in a sticky directory);
    /proc then names what it opened. A path that is not a link, or whose link
    dangles, is used as it is (the rename replaces the name itself).
    """
    if not os.path.islink(path):
        return path
    o_path = getattr(os, "O_PATH", None)
    if o_path is None or not os.path.isdir("/proc/self/fd"):
        return Path(os.path.realpath(path))  # no O_PATH//proc (macOS): the best the platform offers
    try:
        fd = os.open(path, o_path | os.O_CLOEXEC)
    except FileNotFoundError:
        return path
    except OSError as exc:
        raise WriteFailed(path, exc) from None
    try:
        return Path(os.readlink(f"/proc/self/fd/{fd}"))
    finally:
        os.close(fd)


def _create_temp(directory: Path, name: str) -> tuple[int, Path]:
    """A new, empty, 0600 temp file beside ``name``: O_CREAT|O_EXCL|O_NOFOLLOW, never an existing one."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = directory / f".{name}.{os.urandom(6).hex()}{TEMP_SUFFIX}"  # secrets' source, not its imports
        try:
            return os.open(tmp, flags, 0o600), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temp name in {directory}")


def _replace(target: Path, data: bytes, mode: int, only_if: Callable[[], bool] | None = None) -> bool:
    try:
        fd, tmp = _create_temp(target.parent, target.name)
    except OSError as exc:
        raise WriteFailed(target, exc) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            if not _windows():  # Windows: chmod only toggles read-only; the directory ACLs protect it
                os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if only_if is not None and not only_if():
            os.unlink(tmp)
            return False
        windows_retry(lambda: os.replace(tmp, target))  # a scanner holding the file: retry briefly
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError) and not isinstance(exc, WriteFailed):
            raise WriteFailed(target, exc) from None
        raise
    fsync_dir(target.parent)
    return True


def fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def ensure_private_dir(directory: Path) -> Path:
    """Create ``directory`` and each missing parent as 0700 (whatever the umask); leave existing modes alone.

    pathlib's ``mkdir(parents=True)`` makes parents 0777 & ~umask, so a missing
    $XDG_CONFIG_HOME under umask 000 would be world-writable: each is made here.
    """
    directory = Path(directory)
    if directory.is_dir():
        return directory
    missing = []
    for part in (directory, *directory.parents):
        if part.is_dir():
            break
        missing.append(part)
    for part in reversed(missing):
        try:
            os.mkdir(part, 0o700)
        except FileExistsError:
            continue  # made meanwhile by another process: its mode is its maker's
        except OSError as exc:  # read-only, full, not a directory: one line naming it, exit 9
            raise WriteFailed(part, exc) from None
        if not _windows():
            os.chmod(part, 0o700)
    return directory


def remove_stale_temps(path: Path) -> None:
    """Drop temp files a killed writer of ``path`` left behind.

    Call it only while holding the lock that every writer of ``path`` takes,
    so a live writer's temp file is never removed.
    """
    target = _link_target(Path(path))
    prefix = f".{target.name}."
    try:
        names = os.listdir(target.parent)
    except OSError:
        return
    for name in names:
        if name.startswith(prefix) and name.endswith(TEMP_SUFFIX):
            try:
                os.unlink(target.parent / name)
            except OSError:
                pass
