"""Append-only line logs in local files: a line is logged whole or not at all.

One O_APPEND write per record, under an flock on the writer's own
descriptor (appenders take turns; the kernel drops it if a writer is
killed). A torn tail left by a killed writer is skipped by readers, and the
next record starts on a fresh line.
"""

from __future__ import annotations

import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: appends are not interleaved by the OS there either
    fcntl = None  # type: ignore[assignment]

from .errors import RoostError


def append_line(path: Path, line: str) -> None:
    """Append ``line`` (no newline) to ``path`` (created 0600, never through a symlink)."""
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
