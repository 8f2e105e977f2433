"""Linux: exec's tapped stdout passed through in the kernel, the tap fed from a copy on a thread of its own.

childproc.pump reads every byte into Python and writes it out again. Here
tee(2) duplicates what the child wrote into a private scan pipe without
consuming it, splice(2) then moves exactly those bytes from the child's pipe
to roost's stdout, and a scanner thread reads the scan pipe and hands its
chunks to the tap. The bytes roost's reader gets never enter Python, and
tee, splice and os.read release the GIL, so the scan runs beside the copy.

* Every byte, in order, every line scanned: tee blocks while the scan pipe
  is full, so a slow scanner holds the pass-through back and loses nothing;
  the tap sees the stream in order, then ``b""`` once the child's pipe is
  done (the tap returns from it when the last readings are written), and
  ``pass_through`` returns after that, so exec never exits before it.
* Where (``usable``): Linux with tee(2) (through ctypes) and os.splice, the
  child's side a pipe, roost's stdout a pipe, a socket or a regular file not
  opened for append (splice refuses O_APPEND). Anything else goes through the
  read/write loop it is given. A first move the kernel still refuses
  (EINVAL, ENOSYS, ...) finishes with read/write too: the bytes tee already
  gave the scanner are copied unscanned, the rest is copied and written to
  the scan pipe.
* A reader that goes away (EPIPE) ends the copy and closes the child's
  pipe, so the child gets its broken pipe. A tap that raises is dropped; the
  copy goes on without tee.
"""

from __future__ import annotations

import errno
import functools
import os
import stat
import threading
from collections.abc import Callable

CHUNK = 1 << 20
F_SETPIPE_SZ = 1031
REFUSED = {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ESPIPE, errno.EBADF}

Tap = Callable[[bytes], None]
Pump = Callable[[int, int, "Tap | None"], None]


def pass_through(src: int, dst: int, tap: Tap | None, fallback: Pump) -> None:
    """Copy ``src`` to ``dst`` until EOF with ``tap`` seeing every chunk: tee+splice where usable,
    else ``fallback`` (the read/write loop, same contract); ``src`` is closed either way."""
    if not usable(src, dst):
        fallback(src, dst, tap)
    elif tap is None:
        if not _splice_all(src, dst):
            fallback(src, dst, None)
    else:
        _tee_pump(src, dst, tap)


@functools.cache  # one libc lookup per process
def _tee() -> Callable[[int, int, int], int] | None:
    """libc's tee(2), or None (not Linux, no os.splice, no such symbol)."""
    if not hasattr(os, "splice"):
        return None
    try:
        import ctypes

        tee = ctypes.CDLL(None, use_errno=True).tee
    except (ImportError, OSError, AttributeError, TypeError):
        return None
    tee.restype = ctypes.c_ssize_t
    tee.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_size_t, ctypes.c_uint)

    def call(fd_in: int, fd_out: int, size: int) -> int:
        while True:
            got = tee(fd_in, fd_out, size, 0)
            if got >= 0:
                return int(got)
            err = ctypes.get_errno()
            if err != errno.EINTR:
                raise OSError(err, os.strerror(err))

    return call


def usable(src: int, dst: int) -> bool:
    """tee+splice can carry ``src`` (a pipe) to ``dst`` (a pipe, a socket, a file not in append mode)."""
    if _tee() is None:
        return False
    try:
        if not stat.S_ISFIFO(os.fstat(src).st_mode):
            return False
        mode = os.fstat(dst).st_mode
        if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
            return True
        import fcntl

        return stat.S_ISREG(mode) and not fcntl.fcntl(dst, fcntl.F_GETFL) & os.O_APPEND
    except (OSError, ImportError):
        return False


class _Scanner(threading.Thread):
    """Reads the scan pipe to its end and hands each chunk to the tap (dropped if it raises)."""

    def __init__(self, fd: int, tap: Tap) -> None:
        super().__init__(name="roost-stdout-scan", daemon=True)
        self.fd, self.tap, self.alive = fd, tap, True

    def run(self) -> None:
        try:
            while chunk := os.read(self.fd, CHUNK):
                if self.alive:
                    try:
                        self.tap(chunk)
                    except Exception:  # noqa: BLE001 - a plugin's tap never breaks the copy
                        self.alive = False  # keep draining: tee must never wait on a dead scanner
        finally:
            os.close(self.fd)
            if self.alive:
                try:
                    self.tap(b"")  # end of stream: the last line, the last readings written
                except Exception:  # noqa: BLE001, S110 - as above
                    pass


def _tee_pump(src: int, dst: int, tap: Tap) -> None:
    scan_r, scan_w = os.pipe()
    try:
        import fcntl

        fcntl.fcntl(scan_w, F_SETPIPE_SZ, CHUNK)
    except (ImportError, OSError):
        pass
    scanner = _Scanner(scan_r, tap)
    scanner.start()
    tee = _tee()
    assert tee is not None
    try:
        while True:
            if not scanner.alive:  # the tap is gone: the kernel alone from here
                try:
                    _splice_loop(src, dst)
                except OSError as exc:
                    if exc.errno not in REFUSED:
                        raise
                    _copy_rest(src, dst, 0, scan_w, scanner)
                break
            try:
                size = tee(src, scan_w, CHUNK)
            except BrokenPipeError:  # the scan pipe's reader is gone
                scanner.alive = False
                continue
            if size == 0:
                break
            try:
                _splice_exactly(src, dst, size)
            except _Refused as refused:  # read/write from here; the scanner has these bytes already
                _copy_rest(src, dst, refused.left, scan_w, scanner)
                break
    except OSError:  # EPIPE and friends: stop reading, the child gets its broken pipe
        pass
    finally:
        os.close(scan_w)
        _close(src)
        scanner.join()


class _Refused(Exception):
    def __init__(self, errno_: int, left: int) -> None:
        super().__init__(errno_)
        self.errno, self.left = errno_, left


def _splice_exactly(src: int, dst: int, size: int) -> None:
    """Move exactly ``size`` bytes (the ones tee just copied) from ``src`` to ``dst``."""
    left = size
    while left:
        try:
            moved = os.splice(src, dst, left)
        except BlockingIOError:  # a non-blocking stdout: wait until it takes more
            _wait_writable(dst)
            continue
        except OSError as exc:
            if exc.errno in REFUSED:
                raise _Refused(exc.errno, left) from None
            raise
        if moved == 0:  # cannot happen on a pipe holding the bytes; never spin
            raise OSError(errno.EIO, "splice moved nothing")
        left -= moved


def _splice_loop(src: int, dst: int) -> None:
    while True:
        try:
            if not os.splice(src, dst, CHUNK):
                return
        except BlockingIOError:
            _wait_writable(dst)


def _splice_all(src: int, dst: int) -> bool:
    """The kernel alone (no tap); False, ``src`` untouched and open, when it refuses the first move."""
    moved = False
    try:
        while True:
            try:
                if not os.splice(src, dst, CHUNK):
                    break
            except BlockingIOError:
                _wait_writable(dst)
                continue
            moved = True
    except OSError as exc:
        if exc.errno in REFUSED and not moved:
            return False
    _close(src)
    return True


def _copy_rest(src: int, dst: int, owed: int, scan_w: int, scanner: _Scanner) -> None:
    """read/write after the kernel refused: ``owed`` bytes the scanner has already, then the rest,
    each chunk also written to the scan pipe while the tap lives."""
    while owed:
        chunk = os.read(src, owed)
        if not chunk:
            return
        _write_all(dst, chunk)
        owed -= len(chunk)
    while chunk := os.read(src, CHUNK):
        _write_all(dst, chunk)
        if scanner.alive:
            try:
                _write_all(scan_w, chunk)
            except BrokenPipeError:
                scanner.alive = False


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view):]
        except BlockingIOError:
            _wait_writable(fd)


def _wait_writable(fd: int) -> None:
    import select

    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    poller.poll(1000)


def _close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass
