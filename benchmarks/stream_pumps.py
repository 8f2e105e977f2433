"""Pass-through designs measured against roost exec's pump (Linux only): passive_stream.py times them.

* ``splice_pump``: the kernel moves the bytes (splice(2)), nothing reaches
  user space: the cheapest pass-through there is, and no way to read them.
* ``tee_pump``: tee(2) duplicates the child's pipe into a private scan pipe,
  splice(2) moves the child's pipe to the destination, and a scanner thread
  reads the scan pipe and runs the tap on its chunks (ctypes calls and
  os.read release the GIL, so the scan can run on the other core). tee
  blocks while the scan pipe is full, so the scanner never loses a byte.

Measured, not shipped: on a 2-core machine the scanner's own copy out of the
scan pipe costs more CPU than the read/write pump's copy it saves (see
docs/performance.md). ``available()`` says whether this kernel has both.
"""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Callable

CHUNK = 1 << 20
F_SETPIPE_SZ = 1031


def _libc_tee() -> Callable[[int, int, int], int] | None:
    try:
        import ctypes

        tee = ctypes.CDLL(None, use_errno=True).tee
    except (ImportError, OSError, AttributeError):
        return None
    tee.restype = ctypes.c_ssize_t
    tee.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_size_t, ctypes.c_uint)

    def call(fd_in: int, fd_out: int, size: int) -> int:
        while True:
            got = tee(fd_in, fd_out, size, 0)
            if got >= 0:
                return got
            err = ctypes.get_errno()
            if err != errno.EINTR:
                raise OSError(err, os.strerror(err))

    return call


_TEE = _libc_tee() if hasattr(os, "splice") else None


def available() -> bool:
    return _TEE is not None


def splice_pump(src: int, dst: int) -> None:
    """Move ``src`` to ``dst`` inside the kernel until EOF (one side must be a pipe)."""
    try:
        while os.splice(src, dst, CHUNK):
            pass
    finally:
        os.close(src)


def tee_pump(src: int, dst: int, tap: Callable[[bytes], None]) -> None:
    """tee ``src`` into a scan pipe and splice it to ``dst``; a scanner thread taps the scan pipe."""
    assert _TEE is not None
    scan_r, scan_w = os.pipe()
    try:
        import fcntl

        fcntl.fcntl(scan_w, F_SETPIPE_SZ, CHUNK)
    except OSError:
        pass

    def scanner() -> None:
        try:
            while chunk := os.read(scan_r, CHUNK):
                tap(chunk)
        finally:
            os.close(scan_r)
            tap(b"")

    thread = threading.Thread(target=scanner, name="bench-stream-scan", daemon=True)
    thread.start()
    try:
        while size := _TEE(src, scan_w, CHUNK):
            while size:  # exactly the bytes the scanner got, in order
                size -= os.splice(src, dst, size)
    finally:
        os.close(scan_w)
        os.close(src)
        thread.join()
