"""Durable atomic replacement of a file: same-dir temp, fsync, rename, fsync dir.

A reader (or a crash) only ever sees the old bytes or the new bytes.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import RoostError

TEMP_SUFFIX = ".roost-tmp"


class WriteFailed(RoostError, OSError):
    """A file could not be replaced (disk full, file too large, read-only, ...).

    Still an OSError with ``errno``/``strerror`` for callers that handle those;
    for callers that do not, a RoostError: one clear line naming the file,
    never a traceback.
    """

    def __init__(self, path: Path, exc: OSError):
        RoostError.__init__(self, f"cannot write {path}: {exc.strerror or exc}", details={"path": str(path)})
        self.errno, self.strerror, self.filename = exc.errno, exc.strerror, str(path)


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` atomically; the file ends with ``mode``.

    A symlinked ``path`` is written through: the link stays and its target is
    replaced beside itself (so two linked profiles keep sharing one file).
    """
    target = Path(os.path.realpath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=target.parent)
    except OSError as exc:
        raise WriteFailed(target, exc) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError) and not isinstance(exc, WriteFailed):
            raise WriteFailed(target, exc) from None
        raise
    fsync_dir(target.parent)


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
    """Create ``directory`` (and parents) as 0700 if missing; leave existing modes alone."""
    if not directory.is_dir():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
    return directory


def remove_stale_temps(path: Path) -> None:
    """Drop temp files a killed writer of ``path`` left behind.

    Call it only while holding the lock that every writer of ``path`` takes,
    so a live writer's temp file is never removed.
    """
    target = Path(os.path.realpath(path))
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
